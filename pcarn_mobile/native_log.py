"""Native libraries' stderr chatter, kept out of the terminal but never lost.

TensorFlow, the TFLite converter and XNNPACK write start-up and progress lines from C++
straight to file descriptor 2 (``Unable to register cuDNN factory``, ``Created TensorFlow Lite
XNNPACK delegate``, ``fully_quantize: 0 ...``), before and regardless of
``TF_CPP_MIN_LOG_LEVEL``: absl logs everything emitted before ``absl::InitializeLog()``. No
Python-level switch silences them, so the only way to give users a clean report is to point
descriptor 2 at a log file while the libraries run. The file is kept: when a conversion fails,
its last lines are what a bug report needs.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def stderr_to(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Within the block, everything written to stderr (Python's and native code's) goes to ``path``."""
    path = Path(path)
    _flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            try:
                yield path
            finally:
                _flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _flush() -> None:
    """Python-buffered stderr text goes where descriptor 2 pointed when it was written."""
    for stream in {id(s): s for s in (sys.stderr, sys.__stderr__) if s is not None}.values():
        stream.flush()
