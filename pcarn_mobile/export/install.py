"""``--android-demo`` / ``--ios-demo``: put a run's files where the demo apps load them.

The Android app lists ``app/src/main/assets/models/*.tflite.json``; the iOS app's Xcode project
compiles every ``.mlpackage`` in its ``PCARNDemo/Models`` buildable folder. Installed models are
build products (ignored by git). A new install replaces the older models as a whole, so an app
never shows a stale variant beside the new ones: the new files are staged inside the app folder
first, and only once all are copied are the old ones removed and the new ones renamed in.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import UserError
from ..shared import REPO_ROOT

#: App -> (folder the app loads models from, the suffix it loads, the format that writes it).
DEMO_APPS: dict[str, tuple[Path, str, str]] = {
    "android_demo": (REPO_ROOT / "android_demo" / "app" / "src" / "main" / "assets" / "models", ".tflite", "tflite"),
    "ios_demo": (REPO_ROOT / "ios_demo" / "PCARNDemo" / "Models", ".mlpackage", "coreml"),
}


def check_app(app: str) -> Path:
    """The app's model folder; refuses when this installation has no such app (a pip install, not a checkout)."""
    folder = DEMO_APPS[app][0]
    project = REPO_ROOT / app
    if not project.is_dir():
        raise UserError(f"--{app.replace('_', '-')} installs into the {app}/ app of a pcarn-mobile checkout; "
                        f"there is none at {project}")
    return folder


def install(app: str, files: list[Path]) -> tuple[list[str], list[str]]:
    """Copies ``files`` (each with its ``.json`` sidecar) into the app's model folder, replacing what was there.

    Returns (installed names, names of the older models removed).
    """
    folder, suffix, _ = DEMO_APPS[app]
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".install-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for path in files:
            copy = shutil.copytree if path.is_dir() else shutil.copy2
            copy(path, staging / path.name)
            shutil.copy2(path.with_name(path.name + ".json"), staging / f"{path.name}.json")
        old = sorted(p.name for p in folder.iterdir() if p.name.endswith(suffix))
        for name in old:
            target = folder / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
            (folder / f"{name}.json").unlink(missing_ok=True)
        for item in sorted(staging.iterdir()):
            os.replace(item, folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    installed = [p.name for p in files]
    return installed, [name for name in old if name not in installed]
