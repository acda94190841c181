"""A converted file (``.tflite``, ``.mlpackage``, ``.onnx``) opened as a Runner, and its sidecar held against it.

``evaluate`` and ``upscale`` take the same three options and refuse the same wrong files the
same way, so the checks live here once: the path is judged by its first bytes before the
runtime that would load it is imported (seconds, and screens of TensorFlow start-up messages),
and the sidecar (``<file>.json``, docs/export-contract.md) must be the one written for this very
file. ``upscale`` tiles and quantizes as the apps do, from the sidecar, so a sidecar copied from
another export (another size, another precision, another calibration) would make it compute
something no phone computes; that is refused with one line instead.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from converters.runner import Runner

from .errors import UserError, first_line
from .filekind import COREML_PACKAGE, ONNX_MODEL, TFLITE_MODEL, other_than

#: Artifact option -> (module whose ``load_runner(path)`` opens it, imported only when used;
#: what :func:`~pcarn_mobile.filekind.describe` calls such a file).
ARTIFACT_RUNNERS: dict[str, tuple[str, str]] = {
    "tflite": ("converters.tflite_runner", TFLITE_MODEL),
    "coreml": ("converters.coreml_runner", COREML_PACKAGE),
    "onnx": ("converters.onnx_runner", ONNX_MODEL),
}


def check_artifact(kind: str, path: str) -> None:
    """Refuses a path that cannot hold a ``kind`` artifact, judged by its first bytes (a Core ML
    package: a folder with ``Manifest.json``), before the runtime that would load it is imported."""
    if not Path(path).exists():
        raise UserError(f"--{kind} {path}: not found")
    expected = ARTIFACT_RUNNERS[kind][1]
    found = other_than(path, expected)
    if found is None:
        return
    if kind == "coreml":
        found = "a folder without Manifest.json" if found == "a folder" else found
        raise UserError(f"{path} is not {expected} (it is {found}); --coreml takes the .mlpackage folder")
    raise UserError(f"{path} is not {expected} (it is {found})")


def load_artifact_runner(kind: str, path: str) -> Runner:
    """The converters' runner for ``path`` (imports that runtime now)."""
    module_name = ARTIFACT_RUNNERS[kind][0]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"--{kind} needs {module_name}, which cannot be imported here ({exc})") from None
    return module.load_runner(path)


def sidecar_path(path: str | Path) -> Path:
    """``<file>.json`` beside the file (a package's beside its folder)."""
    path = Path(path)
    return path.with_name(path.name.rstrip("/") + ".json")


def read_sidecar(kind: str, path: str | Path) -> dict[str, Any]:
    """The sidecar written for ``path``: present, valid against the shipped schema, naming this file
    and its format, and of this file's size. Runs before any runtime is imported."""
    from .export.sidecar import size_on_disk, schema_errors

    path = Path(path)
    side = sidecar_path(path)
    if not side.is_file():
        raise UserError(f"{path} has no sidecar {side.name} beside it: use the files python -m pcarn_mobile.convert "
                        "writes (the sidecar gives the tile plan and the int8 parameters the apps use)")
    try:
        doc = json.loads(side.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{side}: not a readable JSON file ({first_line(exc)})") from None
    if isinstance(doc, dict) and doc.get("schema_version") == 1:
        doc = {**doc, "schema_version": 2}  # version 2 only added optional sections: a v1 sidecar is a valid v2 one
    errors = schema_errors(doc) if isinstance(doc, dict) else ["(top): not an object"]
    if errors:
        raise UserError(f"{side}: not a valid export sidecar ({errors[0]}; docs/export-contract.md)")
    wrong = [f"{what} {said!r} but the file is {real!r}" for what, said, real in (
        ("names the file", doc["file"], path.name),
        ("says format", doc["format"], kind),
        ("says size_bytes", doc["size_bytes"], size_on_disk(path)),
    ) if said != real]
    if wrong:
        raise UserError(f"{side} does not match {path.name}: it {wrong[0]} (a sidecar of another export?)")
    return doc


def check_runner_matches(runner: Runner, sidecar: dict[str, Any], path: str | Path) -> None:
    """The opened file computes what its sidecar describes: scale, input size, and for TFLite the
    tensors' types and int8 parameters (which the runner quantizes with, as the apps do from the sidecar)."""
    side = sidecar_path(path).name
    if runner.scale != sidecar["scale"]:
        raise UserError(f"{side} does not match {Path(path).name}: it says x{sidecar['scale']}, the file upscales "
                        f"x{runner.scale}")
    tile = sidecar["tiling"]["tile"]
    if tile is not None and runner.input_size is not None and tuple(tile) != tuple(runner.input_size):
        raise UserError(f"{side} does not match {Path(path).name}: it says {tile[0]}x{tile[1]} input, the file takes "
                        f"{runner.input_size[0]}x{runner.input_size[1]}")
    interpreter = getattr(runner, "interpreter", None)
    if interpreter is None:
        return
    for role, detail in (("input", interpreter.get_input_details()[0]), ("output", interpreter.get_output_details()[0])):
        entry = sidecar[role]
        scale, zero = detail["quantization"]
        real = (str(detail["dtype"].__name__), None if scale == 0 else (float(scale), int(zero)))
        q = entry.get("quantization")
        said = (entry["dtype"], None if q is None else (float(q["scale"]), int(q["zero_point"])))
        if said != real:
            raise UserError(f"{side} does not match {Path(path).name}: its {role} is {said[0]} {said[1] or ''}, the "
                            f"file's is {real[0]} {real[1] or ''}".replace("  ", " ").rstrip())
