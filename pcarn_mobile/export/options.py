"""The options of an export, as the Python API and the CLI take them, checked into a :class:`Plan`.

:class:`ExportOptions` mirrors ``python -m pcarn_mobile.convert`` flag for flag (``--calib-count``
is ``calib_count``); ``None`` means "not given", so that a flag the chosen target does not take
can be refused when given, and the documented default applies otherwise. :func:`plan` checks
everything that can be checked without loading a model or converting, so bad input fails in
well under a second and before anything is written.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from ..errors import UserError
from ..sizes import parse_hw
from ..archinfo import DEFAULT_OVERLAP, MIN_TILE_SIDE
from ..tile_shape import SHIPPED_SHAPES, free_side_bound, max_tile_area
from .formats import FLAG_NAMES, FORMATS, INT8_FLAGS, TARGET_SETS
from .npu_options import npu_socs

#: Default static input: a 128x128 tile (512x512 out at x4), the tile size mobile SR models are
#: commonly shipped at (e.g. Qualcomm AI Hub's QuickSRNet/XLSR); small enough for a phone GPU's
#: memory, large enough that the 24-px tile overlap costs under half the work.
DEFAULT_INPUT_SIZE = (128, 128)
#: Default bounds of a Core ML range-flexible input side, in LR pixels (converters.coreml.DEFAULT_RANGE).
COREML_DEFAULT_RANGE = (16, 512)
#: Calibration crops: many, because each range is a quantile of the crops' own extremes
#: (converters.tflite_ranges.RANGE_QUANTILE), which many crops estimate with little variance;
#: GPTQ takes its Hessians on the first 24 (converters.tflite_gptq.SAMPLES).
DEFAULT_CALIB_COUNT = 192
#: Side of the random calibration crops. Small, because ranges, not pixel counts, matter, and
#: the graph calibrates at any size.
CALIB_CROP = 48
INT8_IO = ("int8", "uint8", "float")
COMPRESSIONS = ("none", "int8", "palette6")
MIN_IOS = (16, 17, 18)


@dataclass
class ExportOptions:
    """Every option of ``python -m pcarn_mobile.convert``; ``None`` = the documented default."""

    target: str = "tflite"
    weights: str | None = None  # default: the embedded weights
    random_init: bool = False
    groups: int | None = None  # checked against the weights; 4 with random_init
    arch: str | None = None  # checked against the weights; pcarn_m with random_init
    scale: int = 4
    precision: str | Sequence[str] | None = None  # comma-separated and/or a list; default per format
    input_size: str | tuple[int, int] | None = None  # "HxW"; default 128x128 (Core ML: a range)
    dynamic: bool | str = False  # True, or "LO..HI" for Core ML
    sizes: str | Sequence[str] | None = None  # Core ML enumerated sizes
    io: str | None = None  # TFLite int8 I/O: int8 (default), uint8 or float
    calib: str | None = None  # folder of calibration photos (default: scikit-image's)
    calib_count: int | None = None  # random calibration crops (default 24)
    int8_sensitivity: bool = False  # TFLite int8: each tensor's cost, scored on parity_data, into the sidecar
    compress: str | Sequence[str] | None = None  # Core ML: none, int8, palette6 (default none)
    tensor_io: bool | None = None  # Core ML: float32 tensors instead of images (default: images)
    min_ios: int | None = None  # Core ML deployment target (default 16)
    parity_data: str | None = None  # evaluation set for the Y-PSNR verdict
    parity_on: str | Sequence[str] | None = None  # also check on: arm64 (LiteRT's aarch64 kernels under qemu)
    arm_time_limit: float | None = None  # seconds one emulated ARM64 inference may take (default 600)
    expand_groups: bool = False
    android_demo: bool = False  # install the TFLite files into android_demo/ (a checkout's app)
    npu: str | None = None  # TFLite int8: also compile for NPUs, "qualcomm:SM8650,SM8750" or "qualcomm:all"
    ios_demo: bool = False  # install the Core ML packages into ios_demo/
    out: str = "exports"


@dataclass(frozen=True)
class CoreMLPlan:
    """The Core ML options, checked: exactly one of size, sizes, range."""

    size: tuple[int, int] | None
    sizes: tuple[tuple[int, int], ...]
    range: tuple[int, int] | None
    compressions: tuple[str, ...]
    image_io: bool
    min_ios: int
    #: ``--ios-demo`` without a size option: a range package written beside the enumerated one, for
    #: CPU and GPU compute units (which take any shape; the Neural Engine only precompiled ones).
    demo_range: tuple[int, int] | None = None

    def packages(self) -> tuple[CoreMLPlan, ...]:
        """One plan per package the run writes, each with exactly one kind of shape (the asked-for one first)."""
        if self.demo_range is None:
            return (self,)
        return self, replace(self, sizes=(), range=self.demo_range, demo_range=None)


@dataclass(frozen=True)
class Plan:
    """What a run will do, every option checked and defaulted."""

    targets: tuple[str, ...]
    precisions: dict[str, tuple[str, ...]]
    input_size: tuple[int, int] | None  # TFLite / ONNX; None = dynamic
    io: str
    calib: str | None
    calib_count: int
    int8_sensitivity: bool
    expand_groups: bool
    coreml: CoreMLPlan | None
    parity_data: str | None
    install: tuple[str, ...]  # demo apps to install the files into: "android_demo", "ios_demo"
    out: Path
    given: dict[str, Any] = field(default_factory=dict)  # the options as the user gave them, for report.json
    npu: tuple[str, ...] = ()  # Qualcomm SoCs to compile the int8 file for (upper-case, the compiler's names)
    #: Every input the TFLite target writes, ``input_size`` first (None: the resizable file). More
    #: than one only for ``--android-demo`` without --input-size/--dynamic: the shipped shapes.
    tflite_sizes: tuple[tuple[int, int] | None, ...] = ()
    parity_on: tuple[str, ...] = ()  # extra kernels every TFLite file is checked on: "arm64"
    arm_time_limit: float = 600.0


def _split(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    """"a,b" or ["a", "b,c"] -> ["a", "b", "c"]; an empty choice is an error, not 'nothing to do'."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    parts = [p.strip().lower() for item in items for p in str(item).split(",")]
    if not parts or any(not p for p in parts):
        raise UserError(f"{what} {','.join(items)!r}: empty choice; give a comma-separated list")
    return parts


def _targets(name: str) -> tuple[str, ...]:
    if name in TARGET_SETS:
        return TARGET_SETS[name]
    if name not in FORMATS:
        raise UserError(f"unknown --target {name!r}; choose one of {', '.join([*FORMATS, *TARGET_SETS])}")
    return (name,)


def _precisions(asked: list[str] | None, targets: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each target writes the asked precisions it has; a precision no target has is an error."""
    if asked is None:
        return {t: FORMATS[t].defaults for t in targets}
    known = {p for t in targets for p in FORMATS[t].precisions}
    unknown = [p for p in asked if p not in known]
    if unknown:
        choices = "; ".join(f"{t}: {', '.join(FORMATS[t].precisions)}" for t in targets)
        raise UserError(f"unknown precision {', '.join(unknown)} for --target {'/'.join(targets)} ({choices})")
    chosen = {t: tuple(p for p in FORMATS[t].precisions if p in asked) for t in targets}
    empty = [t for t, p in chosen.items() if not p]
    if empty:
        writes = "; ".join(f"{t} writes {', '.join(FORMATS[t].precisions)}" for t in empty)
        raise UserError(f"--precision {','.join(asked)} leaves nothing for {', '.join(empty)} ({writes})")
    return chosen


def _given_flags(o: ExportOptions) -> set[str]:
    given = {k for k in ("io", "calib", "calib_count", "sizes", "compress", "tensor_io", "min_ios") if getattr(o, k) is not None}
    given |= {k for k in ("int8_sensitivity", "expand_groups", "android_demo", "ios_demo", "npu") if getattr(o, k)}
    if isinstance(o.dynamic, str):
        given.add("dynamic_range")
    return given


def _check_flags(o: ExportOptions, targets: tuple[str, ...], precisions: dict[str, tuple[str, ...]]) -> None:
    """A flag no chosen target takes, or an int8 flag with no int8 file to write, is refused."""
    for flag in sorted(_given_flags(o)):
        takers = [t for t in targets if flag in FORMATS[t].flags]
        if not takers:
            owners = [t for t, f in FORMATS.items() if flag in f.flags]
            raise UserError(f"{FLAG_NAMES[flag]} applies to --target {' or '.join(owners)}, not {o.target}")
        if flag in INT8_FLAGS and not any("int8" in precisions[t] for t in takers):
            raise UserError(f"{FLAG_NAMES[flag]} shapes the int8 file, but --precision "
                            f"{','.join(precisions[takers[0]])} writes none")


def _side_check(size: tuple[int, int], option: str) -> tuple[int, int]:
    if min(size) < MIN_TILE_SIDE:
        raise UserError(
            f"{option} {size[0]}x{size[1]}: each side must be at least {MIN_TILE_SIDE} px (twice the "
            f"{DEFAULT_OVERLAP}-px tile overlap, plus one) so that tiles of it can cover a larger image; "
            "use --dynamic for any size"
        )
    return size


def _input_size(o: ExportOptions) -> tuple[int, int] | None:
    if o.dynamic:
        return None
    if o.input_size is None:
        return DEFAULT_INPUT_SIZE
    size = tuple(o.input_size) if not isinstance(o.input_size, str) else parse_hw(o.input_size)
    return _side_check(size, "--input-size")  # type: ignore[arg-type]


def _coreml(o: ExportOptions, input_size: tuple[int, int] | None) -> CoreMLPlan:
    compress = _split(o.compress, "--compress") or ["none"]
    unknown = [c for c in compress if c not in COMPRESSIONS]
    if unknown:
        raise UserError(f"unknown --compress {', '.join(unknown)}; choose from {', '.join(COMPRESSIONS)}")
    min_ios = 16 if o.min_ios is None else o.min_ios
    if min_ios not in MIN_IOS:
        raise UserError(f"--min-ios {min_ios}: choose one of {', '.join(map(str, MIN_IOS))} (image outputs need iOS 16)")
    if sum(bool(v) for v in (o.input_size, o.sizes, o.dynamic)) > 1:
        raise UserError("--input-size, --sizes and --dynamic exclude each other; pass one")
    size = input_size if o.input_size else None
    sizes: tuple[tuple[int, int], ...] = ()
    if o.sizes:
        texts = o.sizes.split(",") if isinstance(o.sizes, str) else list(o.sizes)
        sizes = tuple(_side_check(parse_hw(s, "--sizes"), "--sizes") for s in texts if str(s).strip())
        if not sizes or len(set(sizes)) != len(sizes):
            raise UserError(f"--sizes {o.sizes!r}: expected distinct HxW sizes separated by commas")
    bounds = demo_range = None
    if isinstance(o.dynamic, str):
        match = re.match(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$", o.dynamic)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise UserError(f"--dynamic {o.dynamic!r}: expected LOW..HIGH LR pixels per side, e.g. 16..512")
        bounds = (int(match[1]), int(match[2]))
    elif not size and not sizes and o.ios_demo:
        sizes = SHIPPED_SHAPES  # the Neural Engine runs enumerated shapes; a range runs only at its default
        demo_range = ios_demo_range(o.scale)  # CPU and GPU run any shape: the app pairs the two packages
    elif not size and not sizes:
        bounds = COREML_DEFAULT_RANGE
    return CoreMLPlan(size, sizes, bounds, tuple(c for c in COMPRESSIONS if c in compress), not o.tensor_io, min_ios,
                      demo_range)


def ios_demo_range(scale: int) -> tuple[int, int]:
    """The side range of the ``--ios-demo`` range package: from the usual lower bound up to the longest
    side a free tile within the sidecar's ``max_tile_area`` takes (``free_side_bound``), so the app's
    free shape on CPU/GPU is bounded by memory, not by the range. Core ML packages compute in fp16 or
    fp32, whose ``max_tile_area`` is the same."""
    return COREML_DEFAULT_RANGE[0], free_side_bound(max_tile_area(scale, "fp16"), DEFAULT_OVERLAP)


def plan(o: ExportOptions) -> Plan:
    """Checks and defaults every option; raises :class:`UserError` with one line on bad input."""
    if o.scale not in (2, 3, 4):
        raise UserError(f"--scale {o.scale}: choose 2, 3 or 4")
    targets = _targets(o.target)
    precisions = _precisions(_split(o.precision, "--precision"), targets)
    _check_flags(o, targets, precisions)
    io = o.io or "int8"
    if io not in INT8_IO:
        raise UserError(f"--io {io!r}: choose one of {', '.join(INT8_IO)}")
    calib_count = DEFAULT_CALIB_COUNT if o.calib_count is None else o.calib_count
    if calib_count < 1:
        raise UserError(f"--calib-count must be at least 1, got {calib_count}")
    if o.int8_sensitivity and not o.parity_data:
        raise UserError("--int8-sensitivity scores each tensor on an evaluation set: give it with --parity-data DIR")
    input_size = _input_size(o)
    coreml = _coreml(o, input_size) if "coreml" in targets else None
    if o.ios_demo and coreml is not None and not coreml.image_io:
        raise UserError("--ios-demo installs image-I/O packages (the demo app passes pixel buffers); drop --tensor-io")
    install = tuple(app for app in ("android_demo", "ios_demo") if getattr(o, app))
    parity_on, arm_limit = _parity_on(o, targets, precisions, input_size)
    npu = npu_socs(o.npu, bool(o.dynamic), precisions.get("tflite", ())) if o.npu else ()
    return Plan(targets, precisions, input_size, io, o.calib, calib_count, o.int8_sensitivity, o.expand_groups, coreml,
                o.parity_data, install, Path(o.out), {k: v for k, v in asdict(o).items() if v not in (None, False)},
                npu, _tflite_sizes(o, input_size), parity_on=parity_on, arm_time_limit=arm_limit)


def _tflite_sizes(o: ExportOptions, input_size: tuple[int, int] | None) -> tuple[tuple[int, int] | None, ...]:
    """What the TFLite target writes: the one asked-for input, or for the Android demo every shape it
    chooses among (static files for GPU and NPU sessions, docs/tile-plan.md) and the resizable file (CPU)."""
    if not o.android_demo or o.input_size is not None or o.dynamic:
        return (input_size,)
    return (*SHIPPED_SHAPES, None)


def _parity_on(o: ExportOptions, targets: tuple[str, ...], precisions: dict[str, tuple[str, ...]],
               input_size: tuple[int, int] | None) -> tuple[tuple[str, ...], float]:
    """``--parity-on arm64``: TFLite files only, the emulator installed, a tile it can run within the time limit."""
    from converters.arm64_runner import DEFAULT_TIME_LIMIT_S, REFERENCE_WEIGHTS, estimated_seconds, toolchain, ArmError

    from .limits import DYNAMIC_PARITY_SIZE

    asked = _split(o.parity_on, "--parity-on") or []
    if o.arm_time_limit is not None and "arm64" not in asked:
        raise UserError("--arm-time-limit applies to --parity-on arm64")
    limit = DEFAULT_TIME_LIMIT_S if o.arm_time_limit is None else float(o.arm_time_limit)
    if not asked:
        return (), limit
    unknown = [a for a in asked if a != "arm64"]
    if unknown:
        raise UserError(f"unknown --parity-on {', '.join(unknown)}; choose arm64 (x86 parity always runs)")
    if "tflite" not in targets:
        raise UserError(f"--parity-on arm64 checks TFLite files, and --target {o.target} writes none")
    if limit <= 0:
        raise UserError(f"--arm-time-limit {o.arm_time_limit}: give a positive number of seconds")
    try:
        toolchain()
    except ArmError as exc:
        raise UserError(f"--parity-on arm64: {exc}") from None
    h, w = input_size or DYNAMIC_PARITY_SIZE
    kind = "float" if set(precisions["tflite"]) - {"int8"} else "int8"
    need = estimated_seconds(kind, REFERENCE_WEIGHTS[kind], h * w)
    if need > limit:
        raise UserError(f"--parity-on arm64 at {h}x{w}: about {need:.0f} s per emulated {kind} inference, over the "
                        f"{limit:.0f} s limit: raise --arm-time-limit or check a smaller tile (--input-size)")
    return ("arm64",), limit

