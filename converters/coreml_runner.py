"""A saved ``.mlpackage`` behind the common :class:`~converters.runner.Runner` interface.

Two back-ends with the same interface:

* ``numpy`` (everywhere): the package is read back from disk and its MIL program executed by
  :mod:`converters.coreml_eval`;
* ``coreml`` (macOS only): the real ``MLModel.predict``.

Callers pass float32 NCHW RGB in [0, 1] whatever the package holds. For an image-I/O package the
input is quantised to the 8-bit pixel values an app's ``CVPixelBuffer`` carries and the pixel
values coming out are divided by 255. The NumPy back-end returns the program's float output (before
Core ML rounds it into an 8-bit buffer), so parity figures measure the network, not that rounding;
Core ML's own image output is 8-bit.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .coreml_eval import Evaluator
from .coreml_package import FeatureSpec, Package, PackageError, read_package, tensor_shape

#: Back-ends available on this platform.
BACKENDS: tuple[str, ...] = ("numpy", "coreml") if sys.platform == "darwin" else ("numpy",)


def _scale_of(package: Package) -> int:
    """The ``scale`` metadata key our packages carry, else the output/input height ratio when fixed."""
    meta = package.metadata.get("scale", "")
    if meta.isdigit():
        return int(meta)
    in_shape = tensor_shape(package.function.inputs[0].type.tensorType)
    out_name = package.block.outputs[0]
    out_op = next(op for op in package.block.operations if op.outputs and op.outputs[0].name == out_name)
    out_shape = tensor_shape(out_op.outputs[0].type.tensorType)
    if len(in_shape) == len(out_shape) == 4 and in_shape[2] and out_shape[2] and out_shape[2] % in_shape[2] == 0:
        return out_shape[2] // in_shape[2]
    raise PackageError(f"{package.path}: no 'scale' in its metadata and flexible shapes: cannot tell its upscaling factor")


class CoreMLRunner:
    """Runs one package; ``backend`` is "numpy" (the evaluator) or "coreml" (macOS ``predict``)."""

    def __init__(self, path: str | os.PathLike[str], backend: str = "numpy") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"Core ML back-end {backend!r} is not available here; choose one of {BACKENDS}")
        self.path = Path(path)
        self.backend = backend
        package = read_package(self.path)
        if len(package.inputs) != 1 or len(package.outputs) != 1:
            raise PackageError(f"{self.path} has {len(package.inputs)} inputs and {len(package.outputs)} outputs; an SR model has one each")
        self.input: FeatureSpec = package.inputs[0]
        self.output_name = package.outputs[0].name
        self.image_io = self.input.kind == "image"
        self.scale = _scale_of(package)
        #: Fixed size, or the first enumerated size (tiles use it); None for range-flexible inputs.
        self.input_size: tuple[int, int] | None = self.input.size or (self.input.sizes[0] if self.input.sizes else None)
        self.metadata = package.metadata
        if backend == "numpy":
            self._evaluator = Evaluator(package)
        else:
            import coremltools as ct

            self._mlmodel = ct.models.MLModel(str(self.path))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[:2] != (1, 3):
            raise ValueError(f"expected (1, 3, h, w) input, got {x.shape}")
        h, w = int(x.shape[2]), int(x.shape[3])
        if not self.input.accepts(h, w):
            raise ValueError(f"{self.path.name} does not accept a {h}x{w} input ({self._accepted()})")
        feed = np.clip(np.rint(x * 255.0), 0, 255).astype(np.float32) if self.image_io else x.astype(np.float32)
        y = self._predict_numpy(feed) if self.backend == "numpy" else self._predict_coreml(feed)
        return (y / 255.0 if self.image_io else y).astype(np.float32)

    def _accepted(self) -> str:
        spec = self.input
        if spec.sizes:
            return "sizes " + ", ".join(f"{a}x{b}" for a, b in spec.sizes)
        if spec.range_h:
            return f"heights {spec.range_h[0]}..{spec.range_h[1]}, widths {spec.range_w[0]}..{spec.range_w[1]}"
        return f"only {spec.size[0]}x{spec.size[1]}" if spec.size else "?"

    def _predict_numpy(self, feed: np.ndarray) -> np.ndarray:
        return self._evaluator.predict({self.input.name: feed})[self.output_name].astype(np.float32)

    def _predict_coreml(self, feed: np.ndarray) -> np.ndarray:  # pragma: no cover - macOS only
        from PIL import Image

        if self.image_io:
            pixels = feed[0].transpose(1, 2, 0).astype(np.uint8)
            out = self._mlmodel.predict({self.input.name: Image.fromarray(pixels, "RGB")})[self.output_name]
            return np.asarray(out.convert("RGB"), dtype=np.float32).transpose(2, 0, 1)[None]
        return np.asarray(self._mlmodel.predict({self.input.name: feed})[self.output_name], dtype=np.float32)


def load_runner(path: str | os.PathLike[str], backend: str = "numpy") -> CoreMLRunner:
    """A :class:`~converters.runner.Runner` for an ``.mlpackage`` (what ``evaluate --coreml`` calls)."""
    return CoreMLRunner(path, backend=backend)
