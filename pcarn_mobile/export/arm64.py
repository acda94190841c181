"""The standing ARM64 parity check: a TFLite file on the phone's CPU kernels, next to PyTorch and to x86.

Every other parity figure comes from LiteRT's x86 kernels. This runs the same file through
LiteRT's aarch64 build under qemu (:mod:`converters.arm64_runner`) at two emulated cores, an
ARMv8.0 one (NEON only) and an ARMv8.2 one (fp16 arithmetic, int8 dot product), on the first
:data:`ARM_PHOTOS` parity photos, and holds each core to the x86 photo floor of the file's variant,
both against PyTorch and against the x86 output. It guards every change to the graph on the
kernels a phone runs. ``convert --parity-on arm64`` calls it for each TFLite file it writes;
``python -m pcarn_mobile.parity FILE.tflite... --on arm64`` for files already written.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from converters.arm64_runner import CORES, DEFAULT_CORES, DEFAULT_THREADS, DEFAULT_TIME_LIMIT_S, ArmError, ArmRunner

from ..errors import UserError
from .formats import Format
from .parity import parity_on_photos, verdict

#: Parity photos the emulated check runs (each emulated 128x128 inference takes 10-100 s).
ARM_PHOTOS = 2
#: The ``--parity-on`` choices besides x86, which always runs.
PARITY_ON = ("arm64",)


class Recorded:
    """Outputs already computed, answered by input identity: scores one run against two references."""

    def __init__(self, crops: list[tuple[str, np.ndarray]], outputs: dict[str, np.ndarray]) -> None:
        self._by_id = {id(x): outputs[name] for name, x in crops}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._by_id[id(x)]


def arm64_parity(path: Any, fmt: Format, variant: str, reference: Any, crops: list[tuple[str, np.ndarray]],
                 x86_outputs: dict[str, np.ndarray], cores: Sequence[str] = DEFAULT_CORES,
                 limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    """The sidecar's ``parity.arm64``: per core, against PyTorch and against x86, and its verdict.

    ``crops`` are the parity photos at the file's input size (the first :data:`ARM_PHOTOS` are run);
    ``x86_outputs`` the x86 file's outputs on them, by name. Raises :class:`UserError` (one line
    naming the file and the core) when the emulator is missing, crashes or runs past the limit.
    """
    crops = crops[:ARM_PHOTOS]
    x86 = Recorded(crops, x86_outputs)
    rows, reasons, versions = [], [], {}
    for core in cores:
        outputs: dict[str, np.ndarray] = {}
        try:
            with ArmRunner(path, core, limit_s=limit_s) as runner:
                versions = runner.versions
                vs_torch = parity_on_photos(runner, reference, crops, outputs)
        except ArmError as exc:
            raise UserError(str(exc)) from None
        vs_x86 = parity_on_photos(Recorded(crops, outputs), x86, crops)
        judged = [verdict(fmt, variant, vs_torch, None), verdict(fmt, variant, vs_x86, None)]
        why = [f"ARM64 {core}: {r}" for r in judged[0]["reasons"]]
        why += [f"ARM64 {core}: {r.replace('against PyTorch', 'against x86 LiteRT')}" for r in judged[1]["reasons"]]
        rows.append({"core": core, "isa": CORES[core].split(":")[0], "vs_torch": vs_torch, "vs_x86": vs_x86,
                     "identical_to_x86": vs_x86["psnr_db"] == "inf", "verdict": "MISMATCH" if why else "OK"})
        reasons += why
    return {"runtime": {"emulator": "qemu-user " + versions.get("qemu", "?"),
                        "ai-edge-litert": versions.get("ai-edge-litert", "?"), "threads": DEFAULT_THREADS},
            "time_limit_s": limit_s, "cores": rows, "verdict": "MISMATCH" if reasons else "OK", "reasons": reasons,
            "limits": judged[0]["limits"]}


def merge_verdict(parity: dict[str, Any]) -> None:
    """Folds ``parity.arm64`` into the file's one verdict: a file a phone's kernels break is a MISMATCH."""
    arm = parity.get("arm64")
    if arm and arm["reasons"]:
        parity["reasons"] = [*parity["reasons"], *arm["reasons"]]
        parity["verdict"] = "MISMATCH"


def table_rows(meta: dict[str, Any]) -> list[list[str]]:
    """One verdict-table row per emulated core of a sidecar with ``parity.arm64``: file, PSNR vs PyTorch, vs x86, verdict."""
    arm = meta["parity"].get("arm64")
    if not arm:
        return []
    return [[f"  ARM64 {row['core']} ({row['isa']})", _db(row["vs_torch"]["psnr_db"]),
             f"{row['vs_torch']['max_abs']:.4f}", _db(row["vs_x86"]["psnr_db"]), row["verdict"]] for row in arm["cores"]]


def _db(psnr: Any) -> str:
    return f"{psnr:.2f} dB" if isinstance(psnr, (int, float)) else f"{psnr} dB"
