"""Where the shared data and reference checkpoints live: ``$PCARN_SHARED``, else ``../shared``."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """The shared folder if present, else None (a user's fresh clone has none)."""
    env = os.environ.get("PCARN_SHARED")
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None
