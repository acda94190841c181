"""``--npu qualcomm:SM8650,...``: the run's static int8 TFLite file compiled per SoC, and its parity on the HTP emulator.

Each compiled file sits beside the plain one as ``<plain stem>_qualcomm_<soc>.tflite`` with its
own sidecar (an ``npu`` section: vendor, SoC, compiler and SDK versions, ops on the NPU,
partitions, ops on HTP reference kernels, compile seconds, source file), so an app picks it by
``Build.SOC_MODEL``. The compiler gets the plain file after NPU graph shaping
(:func:`converters.npu_shaping.split_grouped_convs`); the plain file itself is not changed.

Parity: the compiled file runs on Qualcomm's x86 HTP emulator against PyTorch (the same limits
as every int8 file) and against the plain CPU file it was compiled from, which must agree to
:data:`NPU_CPU_FLOOR_DB`. One emulated 128x128 inference takes 11-24 s, so the photo figures use
:data:`NPU_PARITY_PHOTOS` tiles.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from converters import npu_runner
from converters.npu_compile import VENDOR, SocResult, compile_file, npu_section
from converters.npu_shaping import split_grouped_convs

from ..fileio import write_bytes
from .job import Artifact
from .parity import parity_on_photos

log = logging.getLogger("pcarn_mobile.export")

#: Photo tiles the emulated parity runs (each 11-24 s at 128x128 on two cores).
NPU_PARITY_PHOTOS = 2
#: Lowest PSNR (dB, [0, 1] outputs) of the emulated NPU file against the CPU int8 file it was compiled
#: from. Measured 50.6 dB on photo tiles (at most 6 of 255 levels apart, HTP's own int8 rounding);
#: a wrong requantization or a misread scale lands below 35 dB. Leaves ~10 dB headroom.
NPU_CPU_FLOOR_DB = 40.0


def compiled_name(plain: str, soc: str) -> str:
    """``<plain stem>_qualcomm_<soc lower-case>.tflite``: the name an app matches against its SoC."""
    return f"{Path(plain).stem}_{VENDOR}_{soc.lower()}.tflite"


def eligible(a: Artifact) -> bool:
    """A file the NPU compiler takes whole: TFLite, static input, int8."""
    return a.fmt.name == "tflite" and a.input_size is not None and a.precision == "int8"


def export(socs: tuple[str, ...], artifacts: list[Artifact], workdir: Path, log_path: Path,
           timings: dict[str, float]) -> tuple[list[Artifact], list[dict[str, str]]]:
    """The compiled files of every eligible artifact (in ``workdir``) and the per-SoC failures."""
    scratch = workdir / "npu-scratch"
    scratch.mkdir()
    compiled, failures = [], []
    floats = [a.path.name for a in artifacts if a.fmt.name == "tflite" and a.precision != "int8"]
    if floats:
        log.info("--npu compiles the int8 file only (the Hexagon NPU would run %s as fp16)", ", ".join(floats))
    for a in filter(eligible, artifacts):
        shaped, rewritten = split_grouped_convs(a.path.read_bytes())
        source = scratch / a.path.name
        write_bytes(source, shaped)
        results = compile_file(source, socs, scratch, log_path)
        for r in results:
            if "compile_seconds" in r.facts:
                timings[f"npu: {a.path.name} -> {r.soc}"] = r.facts["compile_seconds"]
            if not r.ok:
                failures.append({"file": a.path.name, "soc": r.soc, "error": r.error})
                log.warning("NPU compile of %s for %s failed: %s", a.path.name, r.soc, r.error)
                continue
            compiled.append(_artifact(a, r, workdir, rewritten))
    return compiled, failures


def _artifact(plain: Artifact, r: SocResult, workdir: Path, rewritten: int) -> Artifact:
    assert r.path is not None
    path = r.path.replace(workdir / compiled_name(plain.path.name, r.soc))
    section = npu_section(r, plain.path.name)
    section["shaping"] = {"grouped_convs_split": rewritten}
    graph = {"ops": {"DISPATCH_OP": 1}, "signature": plain.graph.get("signature", "serving_default")}
    log.info("%s: %d/%d ops on the NPU, %d partition(s), %d on HTP reference kernels, compiled in %.1f s",
             path.name, section["ops_on_npu"], section["ops_total"], section["partitions"],
             section["ops_on_reference_kernels"], section["compile_seconds"])
    return replace(plain, path=path, runner=partial(npu_runner.load_runner, path), graph=graph,
                   extra={**plain.extra, "npu": section}, parity={}, parity_photos=NPU_PARITY_PHOTOS, baseline=plain)


def against_cpu(a: Artifact, outputs: dict[str, np.ndarray], photos: list[tuple[str, np.ndarray]]) -> None:
    """``parity.npu``: the emulated outputs (already in ``outputs``) against the CPU file's; folds in the verdict."""
    assert a.baseline is not None
    emulated = _Replay(outputs, photos, a.input_size)
    cpu = a.baseline.runner()
    figures = parity_on_photos(emulated, cpu, photos)
    levels = [np.abs(np.round(outputs[n] * 255) - np.round(cpu(x) * 255)) for n, x in photos]
    entry: dict[str, Any] = {
        "emulator": "QNN HTP x86 (libQnnHtp.so through ONNX Runtime's QNN execution provider, EPContext)",
        "against_cpu": {"file": a.baseline.path.name, "photos": figures, "max_levels": int(max(lv.max() for lv in levels)),
                        "within_one_level": round(float(np.mean(np.concatenate([lv.ravel() for lv in levels]) <= 1)), 4)},
        "limits": {"against_cpu_floor_db": NPU_CPU_FLOOR_DB},
    }
    base_q, own_q = a.baseline.parity.get("quality"), a.parity.get("quality")
    if base_q and own_q:
        # Like with like: the NPU file runs only in tiles of its input; the CPU file's tiled figure is that run.
        cpu_psnr = base_q.get("tiled", base_q)["psnr_y"]
        entry["quality_against_cpu_db"] = round(own_q["psnr_y"] - cpu_psnr, 3)
    psnr = figures["psnr_db"]
    if psnr != "inf" and psnr < NPU_CPU_FLOOR_DB:
        a.parity["reasons"].append(f"{psnr:.2f} dB against the CPU file {a.baseline.path.name} on the HTP emulator, "
                                   f"below the NPU floor of {NPU_CPU_FLOOR_DB:g} dB")
        a.parity["verdict"] = "MISMATCH"
    a.parity["npu"] = entry


class _Replay:
    """The emulator's outputs for the parity photos, replayed: each 128x128 inference costs 11-24 s."""

    scale = 0

    def __init__(self, outputs: dict[str, np.ndarray], photos: list[tuple[str, np.ndarray]],
                 input_size: tuple[int, int] | None) -> None:
        self._by_input = {x.tobytes(): outputs[name] for name, x in photos}
        self.input_size = input_size

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._by_input[x.tobytes()]
