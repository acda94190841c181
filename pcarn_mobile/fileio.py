"""The one way this project writes a file: beside its destination first, then renamed into place.

A crash, a full disk, Ctrl-C or SIGTERM never leaves half a file under the name a user (or an
app, or ``--resume``) would read. :func:`atomic_path` hands the temporary path to whatever
writes it (``torch.save``, Pillow, OpenCV, matplotlib, ``json.dump``) and, only once the
writer has returned, gives the file the permissions a plain ``open(path, "w")`` would have
(``tempfile.mkstemp`` creates files 0600, which hides outputs from other users and services)
and renames it over ``path``. On any failure the temporary file is removed.

The one file hash (:func:`sha256_of`) lives here too, free of torch, so that tools which only
read files (the latency harnesses) start in a fraction of a second.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def default_mode(directory: bool = False) -> int:
    """The permissions a new file (or folder) gets from a plain create under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yields a fresh temporary path in ``path``'s folder; on success it replaces ``path``.

    ``suffix`` keeps the extension for writers that choose a format by it (``.png``).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """``path`` holds ``data``, written atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """``path`` holds ``text`` (UTF-8), written atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """``path`` holds ``obj`` as indented JSON with a final newline, written atomically."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, streamed (weights, exported models, benchmark binaries)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
