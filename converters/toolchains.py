"""Where the phone-side toolchains live: one cache outside the repository, shared by set-up and tests.

``make toolchain-NAME`` (``toolchains/NAME.sh``) installs each one, offline from the registries and
idempotent, under ``$PCARN_TOOLCHAINS`` (default ``~/.cache/pcarn-mobile``). Code that needs one
(the ARM64 runner, the NPU compiler, the suite's Kotlin and Swift checks) asks here, and where it
is absent says which command installs it instead of failing deep inside a subprocess.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The toolchains ``make toolchains`` installs, by the folder each one gets under :func:`root`.
NAMES: tuple[str, ...] = ("kotlin", "swift", "arm64", "npu")


def root() -> Path:
    """The cache folder: ``$PCARN_TOOLCHAINS``, else ``~/.cache/pcarn-mobile``."""
    return Path(os.environ.get("PCARN_TOOLCHAINS") or Path.home() / ".cache" / "pcarn-mobile")


def home(name: str) -> Path:
    """The folder toolchain ``name`` is installed in (it may not exist)."""
    if name not in NAMES:
        raise ValueError(f"unknown toolchain {name!r}; known: {', '.join(NAMES)}")
    return root() / name


def installed(name: str) -> bool:
    """Whether ``toolchains/NAME.sh`` finished: it writes ``.complete`` last."""
    return (home(name) / ".complete").is_file()


def missing_line(name: str) -> str:
    """The one line a user or a skipped test gets when toolchain ``name`` is absent."""
    return f"the {name} toolchain is not installed in {home(name)}: run `make toolchain-{name}`"
