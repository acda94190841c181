"""Conv weights rounded onto TFLite's per-channel int8 grid by GPTQ, in the float file, before quantization.

Nearest rounding treats every weight alone. GPTQ (Frantar et al., 2022, the optimal-brain-
quantization update of Frantar and Alistarh) rounds a row's weights one input at a time and
spreads each rounding error over the weights not yet rounded, along the inverse Hessian
``(X^T X)^-1`` of the conv's inputs on the calibration crops, so that the conv's *output* error
is least rather than each weight's. The scale stays TFLite's ``max|w| / 127`` per output
channel, so the MLIR quantizer afterwards keeps every weight exactly (and the converter's bias
correction finds nothing left to correct on them).

Why it matters on PCARN-M: after the global residual is folded into ``c3`` (``converters.onnx_residual``)
the identity dominates each of ``c3``'s rows, its grid is coarse for the other 255 weights, and
``c3``'s weights alone cost 0.056 dB at x2 (docs/int8-quality.md). Dense convs only (groups 1): on
the grouped ones (16 inputs per tap and group) it measured no better on the validation split.
"""
from __future__ import annotations

from itertools import islice
from typing import Iterable

import numpy as np

from .tflite_tensors import ActivationProbe

#: Hessian damping, as a fraction of its mean diagonal (GPTQ's default).
DAMPING = 0.01
#: Pixels per calibration sample that enter a conv's Hessian (a random subset beyond this).
MAX_PIXELS = 20_000
#: Calibration samples the Hessians are taken on (the first ones given). The cost grows with
#: each, and the rare crops whose activations reach 3-5x the others' weigh the Hessian towards
#: themselves: on 96 crops instead of 24 the validation split lost (x4 0.035-0.045 dB against
#: 0.027-0.042 over four calibration seeds).
SAMPLES = 24


def _patches(x: np.ndarray, kh: int, kw: int, same: bool) -> np.ndarray:
    """``x`` (H, W, C) as one row per output pixel of a stride-1 conv, in the OHWI weight's HWI order."""
    h, w, _ = x.shape
    if same and (kh > 1 or kw > 1):
        x = np.pad(x, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    taps = [x[i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)]
    return np.concatenate(taps, axis=-1).reshape(oh * ow, -1)


def gptq_round(w: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """``w`` (rows, inputs) on the per-row symmetric int8 grid ``max|w| / 127``, GPTQ-rounded against ``hessian``."""
    rows, inputs = w.shape
    work = w.astype(np.float64)
    step = np.abs(work).max(axis=1) / 127.0
    step[step == 0] = 1.0
    h = hessian.astype(np.float64)
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0  # an input that never fires: its weights are rounded plainly
    h += DAMPING * np.mean(np.diag(h)) * np.eye(inputs)
    # Inputs holding large weights first: a row's largest weight sits on the grid's end (+-127 steps)
    # and is rounded exactly, before errors of other weights can move it.
    order = np.argsort(-np.abs(work).max(axis=0))
    work, h = work[:, order], h[np.ix_(order, order)]
    upper = np.linalg.cholesky(np.linalg.inv(h)).T
    out = np.empty_like(work)
    for j in range(inputs):
        out[:, j] = np.clip(np.round(work[:, j] / step), -127, 127) * step
        error = (work[:, j] - out[:, j]) / upper[j, j]
        work[:, j + 1:] -= np.outer(error, upper[j, j + 1:])
    out = out[:, np.argsort(order)]
    # A row whose largest weight was moved off the end would get a finer scale from the quantizer
    # and be rounded again: put that weight back on the end of its grid.
    for r in np.nonzero(np.abs(out).max(axis=1) < 127 * step * (1 - 1e-6))[0]:
        k = int(np.argmax(np.abs(w[r])))
        out[r, k] = np.sign(w[r, k]) * 127 * step[r]
    return out.astype(np.float32)


def gptq_weights(float_model: bytes, samples: Iterable[np.ndarray], seed: int = 0) -> tuple[bytes, int]:
    """``float_model`` with every dense stride-1 CONV_2D's weights GPTQ-rounded; returns (file, convs rounded).

    The Hessians come from the float file's own activations on ``samples`` (NHWC in [0, 1]); a
    weight tensor shared by several convs (a block reused three times) sums their inputs.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(float_model)
    sg = model.subgraphs[0]
    convs = []
    for op in sg.operators:
        if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) != "CONV_2D":
            continue
        o = op.builtinOptions
        if (o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor) != (1, 1, 1, 1):
            continue
        convs.append((int(op.inputs[0]), int(op.inputs[1]), o.padding == 0))  # Padding.SAME == 0
    probe = ActivationProbe(float_model)
    rng = np.random.default_rng(seed)
    hessians: dict[int, np.ndarray] = {}
    for sample in islice(samples, SAMPLES):
        values = probe.run(sample)
        for x_index, w_index, same in convs:
            _, kh, kw, cin = sg.tensors[w_index].shape
            x = values[x_index][0]
            if x.shape[-1] != cin:  # grouped
                continue
            p = _patches(x, kh, kw, same)
            if p.shape[0] > MAX_PIXELS:
                p = p[rng.choice(p.shape[0], MAX_PIXELS, replace=False)]
            p = np.ascontiguousarray(p, dtype=np.float32)  # float32 products (BLAS), summed over samples in float64
            hessians[w_index] = hessians.get(w_index, 0) + (p.T @ p).astype(np.float64)
    for w_index, hessian in hessians.items():
        tensor = sg.tensors[w_index]
        shape = list(tensor.shape)
        w = np.frombuffer(bytes(model.buffers[tensor.buffer].data), np.float32).reshape(shape[0], -1)
        rounded = gptq_round(w, hessian).reshape(shape)
        model.buffers[tensor.buffer].data = np.frombuffer(rounded.tobytes(), np.uint8)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), len(hessians)
