"""``torch.load`` as this project always calls it: weights only, and any failure one line that says why.

``torch.load(weights_only=True)`` refuses pickles that need code, but on a file that is no
checkpoint at all it fails in whatever way the bytes lead the unpickler: ``KeyError: 101`` for a
text file starting with "hello", ``IndexError``, ``EOFError``, ``RuntimeError`` from the zip
reader. Every one of them means the same to a user, so every one becomes a :class:`UnloadableFile`
that names the file and what it seems to be (:mod:`pcarn_mobile.filekind`).
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError, first_line
from ..filekind import TORCH_CHECKPOINT, describe


class UnloadableFile(UserError):
    """A file ``torch.load`` refused. ``reason`` is the why alone, for callers that word their own message."""

    def __init__(self, path: Path, message: str, reason: str) -> None:
        super().__init__(message)
        self.path, self.reason = path, reason


def torch_load(path: str | os.PathLike[str]) -> Any:
    """The object in ``path``, loaded with ``weights_only=True`` on the CPU; :class:`UnloadableFile` if it cannot be."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # Said of any pickle that is not protocol 2 (most non-checkpoints); the outcome says all that matters.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch wraps every refusal in the same preamble; only a blocked GLOBAL means "needs code"
        # (random bytes and text files fail on an unsupported opcode and are simply not checkpoints).
        if "GLOBAL" in str(exc):
            reason = "a pickle that needs code to load; refused (only plain state dicts are accepted)"
            raise UnloadableFile(path, f"{path} is {reason}", reason) from None
        raise _unloadable(path, exc) from None
    except Exception as exc:  # noqa: BLE001 - see the module docstring: any failure means "not loadable"
        raise _unloadable(path, exc) from None


def _unloadable(path: Path, exc: Exception) -> UnloadableFile:
    kind = describe(path)
    if kind == TORCH_CHECKPOINT:
        detail = first_line(exc).split(". ")[0]  # torch's zip reader adds sentences about miniz and bug reports
        return UnloadableFile(path, f"{path} is a damaged PyTorch checkpoint ({detail})", f"damaged or truncated: {detail}")
    return UnloadableFile(path, f"{path} is not a PyTorch checkpoint: it is {kind}", f"it is {kind}")
