"""PyTorch -> Core ML ML Program (``.mlpackage``) with coremltools, plus weight-compressed variants.

Takes any ``torch.nn.Module`` that maps RGB in [0, 1] (N, 3, H, W) to RGB in [0, 1] at ``scale``
times the size (the project's ``SRDeploy`` wrapper) and plain options; never imports
``pcarn_mobile``.

Design choices, each because of what an iOS app needs:

* Image I/O by default. The input is a ``ct.ImageType`` (RGB, ``scale=1/255``: coremltools puts
  that multiply into the program) and the output is an RGB ``ct.ImageType`` too: the wrapper
  multiplies by 255, clamps and rounds half up inside the model (``floor(x + 0.5)``, the rounding
  of ``upscale_image``), so an app passes a ``CVPixelBuffer`` in and gets one out with no glue
  code, and the whole-number values it hands Core ML's 8-bit conversion cannot be rounded another
  way there. ``image_io=False`` gives float32 multi-arrays instead.
* Shapes: one fixed size, enumerated sizes (each compiled ahead: the Neural Engine's fast path)
  or a bounded range (``ct.RangeDim``: any size in between, GPU/CPU).
* fp16 compute precision by default (what the Neural Engine runs), fp32 on request.
* Compression through ``coremltools.optimize.coreml`` as documented: 8-bit per-channel symmetric
  linear weight quantization and 6-bit k-means palettization. Activations stay float.
* Feature names are the project's shared :data:`~converters.INPUT_NAME` /
  :data:`~converters.OUTPUT_NAME` (the same in both I/O modes and in every other format).
* Packages are written into the folder the caller gives, which is expected to be a staging
  folder the caller moves into place when the whole run succeeded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import INPUT_NAME, OUTPUT_NAME

#: Deployment targets we build for; image outputs in ML programs need iOS 16.
MIN_IOS_CHOICES: tuple[int, ...] = (16, 17, 18)

#: Weight compression variants: name -> human description (also the ``compress`` metadata value).
COMPRESSIONS: dict[str, str] = {
    "none": "float weights",
    "int8": "8-bit linear (symmetric, per output channel) weight quantization",
    "palette6": "6-bit k-means palettization (one 64-entry table per tensor)",
}

#: Default bounds of a range-flexible input side, in LR pixels. The upper bound keeps the x4
#: upsampler's widest activation (256 channels at 2x) within a phone's memory.
DEFAULT_RANGE: tuple[int, int] = (16, 512)


@dataclass(frozen=True)
class ShapeSpec:
    """The spatial sizes a package accepts: exactly one of fixed ``size``, ``sizes`` or ``range``."""

    size: tuple[int, int] | None = None
    sizes: tuple[tuple[int, int], ...] = ()
    range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        given = sum(x is not None and x != () for x in (self.size, self.sizes, self.range))
        if given != 1:
            raise ValueError("give exactly one of a fixed size, enumerated sizes or a range")
        for h, w in ([self.size] if self.size else []) + list(self.sizes):
            if h < 1 or w < 1:
                raise ValueError(f"input size {h}x{w} must be positive")
        if self.range is not None and not 1 <= self.range[0] <= self.range[1]:
            raise ValueError(f"range {self.range[0]}..{self.range[1]} must satisfy 1 <= low <= high")

    @property
    def default(self) -> tuple[int, int]:
        """The size traced through and written as the model's default (first enumerated size)."""
        if self.size is not None:
            return self.size
        if self.sizes:
            return self.sizes[0]
        lo, hi = self.range  # type: ignore[misc]
        side = min(max(lo, 128), hi)
        return side, side

    def describe(self) -> str:
        if self.size is not None:
            return f"{self.size[0]}x{self.size[1]}"
        if self.sizes:
            return "enumerated " + ",".join(f"{h}x{w}" for h, w in self.sizes)
        return f"range {self.range[0]}..{self.range[1]}"  # type: ignore[index]


@dataclass
class PackageInfo:
    """Model-card metadata written into the package (Xcode shows it in the model's page)."""

    scale: int
    groups: int
    short_description: str = "Super-resolution"
    author: str = ""
    license: str = ""
    version: str = ""
    user_defined: dict[str, str] = field(default_factory=dict)


class _ImageIO(nn.Module):
    """x255, clamp to [0, 255] and round half up after the model, so an image output carries the
    pixel values Python's ``upscale_image`` writes (a bare clamp leaves the rounding to Core ML's
    conversion into the 8-bit buffer, which truncates or rounds as it likes)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.floor(torch.clamp(self.model(x) * 255.0, 0.0, 255.0) + 0.5)


def _target(min_ios: int):
    import coremltools as ct

    if min_ios not in MIN_IOS_CHOICES:
        raise ValueError(f"minimum iOS {min_ios} is not supported; choose one of {MIN_IOS_CHOICES}")
    return getattr(ct.target, f"iOS{min_ios}")


def _input_shape(shape: ShapeSpec):
    import coremltools as ct

    if shape.size is not None:
        return (1, 3, *shape.size)
    if shape.sizes:
        return ct.EnumeratedShapes(shapes=[(1, 3, h, w) for h, w in shape.sizes], default=(1, 3, *shape.default))
    lo, hi = shape.range  # type: ignore[misc]
    dflt = shape.default[0]
    return ct.Shape(shape=(1, 3, ct.RangeDim(lo, hi, default=dflt), ct.RangeDim(lo, hi, default=dflt)))


def convert(
    model: nn.Module,
    *,
    shape: ShapeSpec,
    precision: str = "fp16",
    image_io: bool = True,
    min_ios: int = 16,
):
    """Traces ``model`` and converts it to an in-memory ML Program (``ct.models.MLModel``).

    ``precision`` is the compute precision: "fp16" (weights and activations in float16, what the
    Neural Engine runs) or "fp32".
    """
    import coremltools as ct

    if precision not in ("fp16", "fp32"):
        raise ValueError(f"unknown Core ML precision {precision!r}; choose fp16 or fp32")
    module = (_ImageIO(model) if image_io else model).eval()
    example = torch.rand(1, 3, *shape.default)
    with torch.inference_mode(False), torch.no_grad():
        traced = torch.jit.trace(module, example, check_trace=False)
    in_shape = _input_shape(shape)
    if image_io:
        inputs = [ct.ImageType(name=INPUT_NAME, shape=in_shape, scale=1.0 / 255.0, color_layout=ct.colorlayout.RGB)]
        outputs = [ct.ImageType(name=OUTPUT_NAME, color_layout=ct.colorlayout.RGB)]
    else:
        inputs = [ct.TensorType(name=INPUT_NAME, shape=in_shape, dtype=np.float32)]
        outputs = [ct.TensorType(name=OUTPUT_NAME, dtype=np.float32)]
    return ct.convert(
        traced,
        inputs=inputs,
        outputs=outputs,
        convert_to="mlprogram",
        minimum_deployment_target=_target(min_ios),
        compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
        skip_model_load=True,
    )


def compress(mlmodel, kind: str):
    """A weight-compressed copy of ``mlmodel``: "none", "int8" or "palette6" (see :data:`COMPRESSIONS`)."""
    import coremltools.optimize.coreml as cto

    if kind == "none":
        return mlmodel
    if kind == "int8":
        config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8"))
        return cto.linear_quantize_weights(mlmodel, config)
    if kind == "palette6":
        config = cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(mode="kmeans", nbits=6))
        return cto.palettize_weights(mlmodel, config)
    raise ValueError(f"unknown Core ML compression {kind!r}; choose one of {', '.join(COMPRESSIONS)}")


def set_metadata(mlmodel, info: PackageInfo, image_io: bool) -> None:
    """Model card, feature descriptions and user-defined keys (scale, groups, weights hash, ...)."""
    mlmodel.short_description = info.short_description
    mlmodel.author = info.author
    mlmodel.license = info.license
    mlmodel.version = info.version
    if image_io:
        mlmodel.input_description[INPUT_NAME] = "Low-resolution RGB image"
        mlmodel.output_description[OUTPUT_NAME] = f"RGB image upscaled x{info.scale}"
    else:
        mlmodel.input_description[INPUT_NAME] = "Low-resolution RGB, float32 (1, 3, H, W) in [0, 1]"
        mlmodel.output_description[OUTPUT_NAME] = f"RGB upscaled x{info.scale}, float32 (1, 3, {info.scale}H, {info.scale}W) in [0, 1]"
    meta = {"scale": str(info.scale), "groups": str(info.groups), "io": "image" if image_io else "tensor"}
    meta.update({k: str(v) for k, v in info.user_defined.items()})
    mlmodel.user_defined_metadata.update(meta)


@dataclass
class Variant:
    """One written package."""

    path: Path
    precision: str
    compress: str


def export_variants(
    model: nn.Module,
    out_dir: str | os.PathLike[str],
    name: Callable[[str, str], str],
    info: PackageInfo,
    *,
    shape: ShapeSpec,
    precisions: Sequence[str] = ("fp16",),
    compressions: Sequence[str] = ("none",),
    image_io: bool = True,
    min_ios: int = 16,
    lap: Callable[[str], None] | None = None,
) -> list[Variant]:
    """Converts once per precision and derives each compression from that conversion.

    ``name(precision, compress)`` gives each package's file name (ending in ``.mlpackage``);
    ``lap(stage)`` is called as each stage ends (for the run's timing report).
    """
    for precision in precisions:
        if precision not in ("fp16", "fp32"):
            raise ValueError(f"unknown Core ML precision {precision!r}; choose fp16 or fp32")
    _target(min_ios)
    for kind in compressions:
        if kind not in COMPRESSIONS:
            raise ValueError(f"unknown Core ML compression {kind!r}; choose one of {', '.join(COMPRESSIONS)}")
    variants = []
    for precision in precisions:
        base = convert(model, shape=shape, precision=precision, image_io=image_io, min_ios=min_ios)
        if lap:
            lap(f"{precision} trace + convert")
        for kind in compressions:
            mlmodel = compress(base, kind)
            extra = {"precision": precision, "compress": kind, "input_sizes": shape.describe()}
            set_metadata(mlmodel, PackageInfo(**{**info.__dict__, "user_defined": {**info.user_defined, **extra}}), image_io)
            path = Path(out_dir) / name(precision, kind)
            if path.exists():
                raise FileExistsError(f"{path} exists; packages are written into a fresh staging folder")
            mlmodel.save(str(path))
            variants.append(Variant(path, precision, kind))
            if lap:
                lap(f"{precision} {kind} compress + save")
    return variants
