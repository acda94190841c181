"""Native libraries' stderr chatter, kept out of the terminal but never lost.

TensorFlow, the TFLite converter and XNNPACK write start-up and progress lines from C++
straight to file descriptor 2 (``Unable to register cuDNN factory``, ``Created TensorFlow Lite
XNNPACK delegate``, ``fully_quantize: 0 ...``), before and regardless of
``TF_CPP_MIN_LOG_LEVEL``: absl logs everything emitted before ``absl::InitializeLog()``. No
Python-level switch silences them, so the only way to give users a clean report is to point
descriptor 2 at a log file while the libraries run. The file is kept: when a conversion fails,
its last lines are what a bug report needs. :func:`quiet_native_stderr` is the same for a
command that writes no folder of its own (``evaluate --tflite``): a temporary log, deleted when
all went well.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import UserError, first_line


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


@contextmanager
def quiet_native_stderr(failure: str) -> Iterator[Path]:
    """Within the block, stderr goes to a temporary log, deleted on success, on Ctrl-C and on a
    :class:`UserError` (whose message is complete without it).

    When a library fails (with an exception of its own, of whatever type) the log is kept, the
    traceback appended to it, and the one error line reads ``failure: <first line> (... <log>)``.
    """
    fd, name = tempfile.mkstemp(prefix="pcarn-mobile-", suffix=".log")
    os.close(fd)
    log = Path(name)
    try:
        with stderr_to(log):
            yield log
    except UserError:
        log.unlink(missing_ok=True)
        raise
    except Exception as exc:  # noqa: BLE001 - runtimes raise their own types (InvalidProtobuf, PackageError, ...)
        with open(log, "a", encoding="utf-8") as fh:
            traceback.print_exc(file=fh)
        raise UserError(f"{failure}: {first_line(exc)} (details and native messages: {log})") from None
    except BaseException:
        log.unlink(missing_ok=True)
        raise
    log.unlink()
