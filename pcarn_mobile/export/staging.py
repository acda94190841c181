"""The staging folder a run builds its files in, and moving them into ``--out`` only once all is done.

Files are built in ``--out/.convert-<pid>-XXXX`` and moved to their final names at the very end,
so a failed, interrupted (Ctrl-C, SIGTERM) or killed run never leaves a half-written file
under a name an app would load. A run that was killed outright (SIGKILL, out of memory) cannot
clean up after itself; the next run into the same folder removes what it left, once the
process named in the folder's name is gone.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import UserError
from ..fileio import write_text
from ..shared import REPO_ROOT

PREFIX = ".convert-"
LOG_NAME = "convert.log"
#: Endings of the files a run writes (each with a ``<file>.json`` sidecar).
EXPORT_SUFFIXES = (".tflite", ".onnx", ".mlpackage")

log = logging.getLogger("pcarn_mobile.export")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _owner(folder: Path) -> int | None:
    """The pid a staging folder's name carries (``.convert-<pid>-XXXX``), None for other names."""
    head = folder.name[len(PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def remove_stale(out: Path) -> list[str]:
    """Removes staging folders whose run is gone; returns their names."""
    removed = []
    for folder in sorted(out.glob(PREFIX + "*")):
        pid = _owner(folder)
        if folder.is_dir() and (pid is None or (pid != os.getpid() and not _alive(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    if removed:
        log.info("removed %s left by an earlier run that was killed", ", ".join(removed))
    return removed


def make_workdir(out: Path) -> Path:
    """``out`` (created if needed, stale staging folders removed) and a fresh staging folder in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale(out)
        return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=out))
    except OSError as exc:
        raise UserError(f"output folder {out} is not writable ({exc.strerror or exc})") from None


def existing_exports(out: Path) -> set[str]:
    """Names of the exported files (not sidecars) already in ``out``."""
    return {p.name for p in out.iterdir() if p.name.endswith(EXPORT_SUFFIXES)} if out.is_dir() else set()


def move_into_place(moves: list[tuple[Path, str]], out: Path) -> list[str]:
    """Moves each staged file and its sidecar to ``out/<name>``; returns the final names that replaced older files."""
    replaced = []
    for src, name in moves:
        for staged, final in ((src, out / name), (src.with_name(src.name + ".json"), out / f"{name}.json")):
            if final.exists() and final.suffix != ".json":
                replaced.append(name)
            if final.is_dir():
                shutil.rmtree(final)
            os.replace(staged, final)
    return replaced


def redacted(text: str, *folders: Path) -> str:
    """``text`` with this machine's folders (Python, the checkout, home, temp, ``folders``) shortened.

    The converters' native log goes next to the exported files, which get mailed and committed;
    the paths in it would name the build machine's folders and mean nothing elsewhere.
    """
    names = {str(Path(sys.prefix).resolve()): "<python>", sys.prefix: "<python>", str(REPO_ROOT): "<pcarn-mobile>",
             str(Path.home()): "~", tempfile.gettempdir(): "<tmp>", str(Path.cwd()): "."}
    names.update({str(f.resolve()): f"<{f.name}>" for f in folders})
    for path in sorted(names, key=len, reverse=True):
        if len(path) > 1:
            text = text.replace(path, names[path])
    return text


def place_log(workdir: Path, out: Path) -> Path:
    """Moves the run's native log to ``out/convert.log`` with the machine's folders shortened."""
    staged, final = workdir / LOG_NAME, out / LOG_NAME
    if staged.exists():
        write_text(final, redacted(staged.read_text(errors="replace"), out, workdir))
        staged.unlink()
    return final
