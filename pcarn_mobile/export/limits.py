"""Memory a run needs, estimated before any conversion, so a size this machine cannot check is refused up front.

Converting never needs much memory, but parity runs each file once at its input size: a fixed
input of 4000x4000 means one x4 inference whose activations alone take ~190 GB. The figures
below are peak resident bytes per LR input pixel of one x4 inference, measured on the build
machine at 256x256 (the widest tensors are the upsampler's, 64 x 4 x 4 values per LR pixel);
lower scales need less, so the estimate errs on the safe side there.
"""
from __future__ import annotations

import psutil

from ..errors import UserError
from .options import Plan

#: Side (LR pixels) of the tiles the parity stage runs the PyTorch reference and whole images
#: through (:mod:`.parity`): identical to an untiled run, at most ~0.7 GB of activations at x4.
PARITY_TILE = 256

#: Peak bytes per LR input pixel of one x4 inference, by format: TFLite (XNNPACK) fp32 11.4 KB,
#: ONNX Runtime about as much as PyTorch (10-11 KB), the NumPy MIL evaluator for Core ML 86 KB.
BYTES_PER_PIXEL: dict[str, int] = {"tflite": 12_000, "onnx": 12_000, "coreml": 90_000}
#: Libraries loaded (TensorFlow, coremltools, PyTorch) and the tiled PyTorch reference.
BASE_BYTES = 2 * 2**30
#: Share of the memory available at start that a run may plan to use.
HEADROOM = 0.8
#: Input the parity photos use on a size-agnostic file.
DYNAMIC_PARITY_SIZE = (96, 128)


def _largest_inputs(plan: Plan) -> dict[str, tuple[int, int]]:
    """Per target, the largest input the parity stage feeds one of its files."""
    dynamic = (PARITY_TILE, PARITY_TILE) if plan.parity_data else DYNAMIC_PARITY_SIZE
    sizes: dict[str, tuple[int, int]] = {}
    for target in plan.targets:
        if target == "coreml" and plan.coreml is not None:
            fixed = []
            for c in plan.coreml.packages():
                fixed += [c.size] if c.size else list(c.sizes[:1])  # parity runs enumerated packages at their first
                if c.range is not None:
                    fixed.append((min(dynamic[0], c.range[1]), min(dynamic[1], c.range[1])))
            sizes[target] = max(fixed, key=lambda s: s[0] * s[1])
        elif target == "tflite" and plan.tflite_sizes:
            sizes[target] = max((size or dynamic for size in plan.tflite_sizes), key=lambda s: s[0] * s[1])
        else:
            sizes[target] = plan.input_size or dynamic
    return sizes


def needed_bytes(plan: Plan) -> tuple[int, str]:
    """Estimated peak bytes of the run and the target and size that set it."""
    worst, why = 0, ""
    for target, (h, w) in _largest_inputs(plan).items():
        need = BASE_BYTES + BYTES_PER_PIXEL[target] * h * w
        if need > worst:
            worst, why = need, f"{target} at {h}x{w}"
    return worst, why


def check_memory(plan: Plan) -> None:
    """Refuses a run whose parity stage would not fit in the memory available now, with the figures."""
    need, why = needed_bytes(plan)
    available = psutil.virtual_memory().available
    if need > HEADROOM * available:
        raise UserError(
            f"checking {why} needs about {need / 2**30:.0f} GiB of memory (one inference at that input size), "
            f"and {available / 2**30:.0f} GiB is available: use a phone-sized tile (--input-size 128x128 to "
            "512x512) or --dynamic and tile at run time"
        )
