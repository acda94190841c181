"""The sidecar (``<file>.json``, docs/export-contract.md) of an exported file, as the latency harnesses read it.

A harness takes precision, scale, groups, the input size (``-1``: any size) and the tile overlap
from the sidecar rather than guessing them from the file, so that every harness (Android, host)
describes a file the way the exporter did. Only the fields the harnesses use are checked.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pcarn_mobile.errors import UserError
from pcarn_mobile.export.sidecar import SCHEMA_VERSION

#: Sidecar versions whose fields the harnesses read: 2 only added sections (``npu``) to 1.
READABLE_VERSIONS: tuple[int, ...] = (1, SCHEMA_VERSION)

#: Format -> (the name used in messages, the input layout its sidecar declares).
FORMATS: dict[str, tuple[str, str]] = {"tflite": ("TFLite", "NHWC"), "onnx": ("ONNX", "NCHW")}


def read_sidecar(path: Path, fmt: str) -> dict[str, Any]:
    """``<path>.json`` of a ``fmt`` export, with the fields the harnesses read checked (schema v1 or v2)."""
    label, layout = FORMATS[fmt]
    sidecar_path = path.with_name(path.name + ".json")
    if not sidecar_path.is_file():
        raise UserError(f"{path.name} has no sidecar {sidecar_path.name} beside it: use the files "
                        "python -m pcarn_mobile.convert writes (the sidecar gives precision and input size)")
    try:
        sidecar = json.loads(sidecar_path.read_text())
        tensor = sidecar["input"]
        valid = (sidecar["schema_version"] in READABLE_VERSIONS and sidecar["format"] == fmt and tensor["layout"] == layout
                 and len(tensor["shape"]) == 4 and isinstance(tensor["name"], str)
                 and all(key in sidecar for key in ("precision", "variant", "scale", "groups")))
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise UserError(f"{sidecar_path}: not a {label} export sidecar of schema v1 (docs/export-contract.md)")
    return sidecar


def input_hw(sidecar: dict[str, Any]) -> tuple[int, int] | None:
    """The fixed input ``(height, width)``, or None when the file takes any size (a ``-1`` in the shape)."""
    shape = sidecar["input"]["shape"]
    h, w = (shape[1], shape[2]) if sidecar["input"]["layout"] == "NHWC" else (shape[2], shape[3])
    return None if -1 in (h, w) else (int(h), int(w))
