"""What machine a figure was measured on, and pausing a background job while measuring.

Speed figures mean nothing without the machine, so every benchmark and the model card print
:func:`describe_machine`. Timings on a machine shared with a training run are paused around it
with :func:`paused`, which always resumes the job, on every exit path.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def machine_facts() -> dict[str, Any]:
    """What :func:`describe_machine` says, as fields: ``cpu``, ``cores``, ``memory_gib`` (None when
    unknown), ``os``, ``python``, ``load`` (1-minute load average, None when unknown).

    Result files (the host latency harness's ``device``) need the facts separately; the one-line
    description is built from the same values so the two never disagree.
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gib: float | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def describe_machine() -> str:
    """One line: CPU model, cores, memory, OS, Python, current load."""
    f = machine_facts()
    mem = "? GiB" if f["memory_gib"] is None else f"{f['memory_gib']:.0f} GiB"
    load = "n/a" if f["load"] is None else f"{f['load']:.1f}"
    return f"{f['cpu']}, {f['cores']} cores, {mem}, {f['os']}, Python {f['python']}, load {load}"


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


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (those not installed are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
