"""GPTQ rounding of conv weights: on TFLite's per-channel int8 grid, the grid's scale kept, less output error."""
from __future__ import annotations

import numpy as np

from converters.tflite import int8_rounded
from converters.tflite_gptq import _patches, gptq_round


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Weights (8 rows, 48 inputs) and correlated inputs, as a conv's im2col rows are."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(48, 48)) * 0.3 + np.eye(48)
    x = np.maximum(rng.normal(size=(4000, 48)) @ mix, 0)  # ReLU'd, correlated channels
    return rng.normal(scale=0.1, size=(8, 48)).astype(np.float32), x


def test_weights_land_on_the_grid_tflite_will_compute_with():
    w, x = _problem()
    q = gptq_round(w, x.T @ x)
    step = np.abs(w).max(axis=1, keepdims=True) / 127
    np.testing.assert_allclose(np.abs(q).max(axis=1, keepdims=True), 127 * step, rtol=1e-6)  # same scale
    np.testing.assert_allclose(q / step, np.round(q / step), atol=1e-3)
    np.testing.assert_allclose(int8_rounded(q), q, atol=1e-6)  # TFLite's own rounding keeps every weight


def test_output_error_is_below_nearest_rounding():
    w, x = _problem(1)
    q = gptq_round(w, x.T @ x)
    gptq_error = np.mean((x @ (q - w).T) ** 2)
    nearest_error = np.mean((x @ (int8_rounded(w) - w).T) ** 2)
    assert gptq_error < 0.7 * nearest_error, (gptq_error, nearest_error)


def test_weights_already_on_the_grid_stay_as_they_are():
    w, x = _problem(2)
    snapped = int8_rounded(w)
    np.testing.assert_allclose(gptq_round(snapped, x.T @ x), snapped, atol=1e-6)


def test_patches_follow_the_ohwi_weight_order():
    """One output pixel of a SAME 3x3 conv is its patch (HWI order) dotted with the weight row."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6, 2))
    w = rng.normal(size=(3, 3, 2))  # one output channel, HWI
    p = _patches(x, 3, 3, same=True)
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    direct = sum(padded[2 + i, 3 + j] @ w[1 + i, 1 + j] for i in (-1, 0, 1) for j in (-1, 0, 1))  # pixel (1, 2)
    assert p.shape == (30, 18)
    np.testing.assert_allclose(p[1 * 6 + 2] @ w.reshape(-1), direct)
