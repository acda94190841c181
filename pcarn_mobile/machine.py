"""What machine a figure was measured on, and pausing a background job while measuring.

Speed figures mean nothing without the machine, so every benchmark and the model card print
:func:`describe_machine`. Timings on a machine shared with a training run are paused around it
with :func:`paused`, which always resumes the job, on every exit path.
"""
from __future__ import annotations

import os
import platform
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def describe_machine() -> str:
    """One line: CPU model, cores, memory, OS, Python, current load."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        mem = "? GiB"
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}, {os.cpu_count()} cores, {mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load {load}")


@contextmanager
def paused(pid_file: str | os.PathLike[str] | None) -> Iterator[int | None]:
    """SIGSTOPs the process named in ``pid_file`` (if any and alive); SIGCONTs it on exit.

    SIGTERM is turned into ``SystemExit`` meanwhile so that the job is resumed even when the
    measurement itself is terminated.
    """
    pid = None
    if pid_file and Path(pid_file).is_file():
        try:
            pid = int(Path(pid_file).read_text().strip())
            os.kill(pid, signal.SIGSTOP)
        except (ValueError, ProcessLookupError, PermissionError):
            pid = None
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: (_ for _ in ()).throw(SystemExit(128 + signum)))
    try:
        yield pid
    finally:
        signal.signal(signal.SIGTERM, previous)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
