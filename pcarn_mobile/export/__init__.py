"""Export PCARN-M for phones: the Python API behind ``python -m pcarn_mobile.convert``.

    from pcarn_mobile.export import export

    result = export(target="tflite", precision="fp32,int8", out="exports")
    for f in result.files:
        print(f.path.name, f.verdict, f.sidecar["input"]["name"], f.sidecar["tiling"])

Same options, defaults and files as the CLI (:class:`ExportOptions` lists them); progress is
logged through :mod:`logging` (logger ``pcarn_mobile.export``); bad input raises
:class:`~pcarn_mobile.errors.UserError`. Layout of the package, as the README describes a run:

- :mod:`.options`: the options and their checks; :mod:`.formats`: the table of formats;
- :mod:`.tflite_target`, :mod:`.onnx_target`, :mod:`.coreml_target`: one adapter per format;
- :mod:`.calibration`, :mod:`.parity`, :mod:`.limits`, :mod:`.cost`: int8 photos, verdicts, memory, cost;
- :mod:`.sidecar` (+ ``schema/``): the contract on disk; :mod:`.staging`: atomic placement;
- :mod:`.run`: one run, start to finish.
"""
from __future__ import annotations

from typing import Any

from .options import ExportOptions

__all__ = ["ExportOptions", "ExportResult", "ExportedFile", "export"]


def __getattr__(name: str) -> Any:
    """The run (torch, the converters) is imported on first use, so options can be checked in a blink."""
    if name in ("ExportResult", "ExportedFile", "export"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
