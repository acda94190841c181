"""``python -m pcarn_mobile.parity FILE.tflite... --on arm64``: check files already converted on other kernels.

``convert --parity-on arm64`` checks each file as it is written; this checks files written
before (or by an older release, or copied from elsewhere) the same way: each file, with its
sidecar beside it, on LiteRT's aarch64 kernels under qemu at an ARMv8.0 and an ARMv8.2 core,
against PyTorch (the weights the sidecar names, given with ``--weights``) and against the x86
LiteRT output, held to the file's photo floor. ``--update-sidecar`` writes the rows into the
sidecar's ``parity.arm64`` and folds them into its verdict. Exits 1 when a file fails.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from .errors import CliParser, UserError, run_cli
from .filekind import TFLITE_MODEL, other_than
from .modelargs import add_model_args


def build_parser() -> argparse.ArgumentParser:
    from converters.arm64_runner import CORES, DEFAULT_TIME_LIMIT_S

    p = CliParser(prog="python -m pcarn_mobile.parity",
                  description="Check converted TFLite files on the phone's CPU kernels (LiteRT aarch64 under qemu) "
                              "against PyTorch and against x86 LiteRT.")
    p.add_argument("files", nargs="+", metavar="FILE.tflite", help="files written by convert (sidecar FILE.json beside)")
    p.add_argument("--on", required=True, choices=("arm64",), help="the kernels to check on")
    add_model_args(p)
    p.add_argument("--cores", default=",".join(CORES), metavar="LIST",
                   help=f"emulated cores, comma-separated (default {','.join(CORES)})")
    p.add_argument("--arm-time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, metavar="S",
                   help=f"seconds one emulated inference may take (default {DEFAULT_TIME_LIMIT_S:.0f})")
    p.add_argument("--update-sidecar", action="store_true",
                   help="write the rows into each sidecar's parity.arm64 and its verdict")
    return p


def _sidecar(path: str) -> dict[str, Any]:
    if not Path(path).is_file():
        raise UserError(f"{path}: not found")
    found = other_than(path, TFLITE_MODEL)
    if found is not None:
        raise UserError(f"{path} is not {TFLITE_MODEL} (it is {found})")
    side = Path(path + ".json")
    if not side.is_file():
        raise UserError(f"{path}: no sidecar {side.name} beside it; check files written by convert")
    try:
        return json.loads(side.read_text())
    except ValueError:
        raise UserError(f"{side}: not JSON") from None


def _check(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    """Every option and file checked before torch loads: cores, the emulator, the sidecars, one scale."""
    from converters.arm64_runner import CORES, ArmError, toolchain

    cores = [c.strip() for c in args.cores.split(",") if c.strip()]
    unknown = [c for c in cores if c not in CORES]
    if not cores or unknown:
        raise UserError(f"--cores {args.cores!r}: choose from {', '.join(CORES)}")
    if args.arm_time_limit <= 0:
        raise UserError(f"--arm-time-limit {args.arm_time_limit:g}: give a positive number of seconds")
    try:
        toolchain()
    except ArmError as exc:
        raise UserError(str(exc)) from None
    metas = [_sidecar(f) for f in args.files]
    if args.update_sidecar:
        from .export.sidecar import SCHEMA_VERSION

        old = [f for f, m in zip(args.files, metas) if m.get("schema_version") != SCHEMA_VERSION]
        if old:
            raise UserError(f"{old[0]}.json is a schema v{metas[args.files.index(old[0])].get('schema_version')} sidecar "
                            f"and --update-sidecar writes v{SCHEMA_VERSION}: re-convert the file, or check it without "
                            "--update-sidecar")
    scales = {m["scale"] for m in metas}
    if len(scales) > 1:
        raise UserError(f"the files are of scales {', '.join(f'x{s}' for s in sorted(scales))}: check one scale per run")
    return cores, metas


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cores, metas = _check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from converters.tflite_runner import TFLiteRunner

    from .export.arm64 import arm64_parity, merge_verdict, table_rows
    from .export.formats import FORMATS
    from .export.parity import Reference, parity_crops
    from .export.sidecar import check_schema
    from .fileio import write_json
    from .modelargs import model_from_args
    from .native_log import quiet_native_stderr
    from .tiling import TorchRunner

    weights = model_from_args(args, metas[0]["scale"])
    reference = Reference(TorchRunner(weights.model, metas[0]["scale"]))
    failed = []
    print(f"{'file / emulated core':<48}  {'PSNR vs PyTorch':>15}  {'max abs':>7}  {'vs x86':>9}  verdict")
    for path, meta in zip(args.files, metas):
        if meta["weights"]["sha256"] and meta["weights"]["sha256"] != weights.sha256:
            raise UserError(f"{path} was converted from {meta['weights']['file']}, not {weights.file_name}: "
                            "pass those weights with --weights")
        tile = meta["tiling"]["tile"]
        crops = parity_crops(tuple(tile) if tile else None)
        with quiet_native_stderr(f"{path} on x86 LiteRT"):
            x86 = TFLiteRunner(path)
            outputs = {name: x86(x) for name, x in crops}
        parity = dict(meta["parity"])
        parity["reasons"] = [r for r in parity["reasons"] if not r.startswith("ARM64 ")]  # a previous check's
        parity["verdict"] = "MISMATCH" if parity["reasons"] else "OK"
        parity["arm64"] = arm64_parity(path, FORMATS["tflite"], meta["variant"], reference, crops, outputs, cores,
                                       args.arm_time_limit)
        print(Path(path).name)
        for name, torch, max_abs, vs_x86, verdict in table_rows({"parity": parity}):
            print(f"{name:<48}  {torch:>15}  {max_abs:>7}  {vs_x86:>9}  {verdict}")
        for reason in parity["arm64"]["reasons"]:
            print(f"  {reason}")
        if parity["arm64"]["verdict"] != "OK":
            failed.append(Path(path).name)
        if args.update_sidecar:
            merge_verdict(parity)
            updated = {**meta, "parity": parity}
            check_schema(updated)
            write_json(path + ".json", updated)
    if failed:
        print(f"ARM64 MISMATCH: {', '.join(failed)} compute something else on the phone's CPU kernels")
    return 1 if failed else 0


if __name__ == "__main__":
    run_cli(main)
