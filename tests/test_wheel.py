"""The built wheel works on its own: data files inside it, nothing of the repository needed, from any folder.

Built once (``pip wheel`` of a copy of the package sources, no build isolation: seconds, offline), then
installed into a fresh virtual environment whose other dependencies are this interpreter's (a ``.pth``
line, so TensorFlow and torch are not installed again) and run from an empty folder with no
``$PCARN_SHARED``: the embedded weights, the schemas and the recipe come from the wheel or nowhere.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pcarn_mobile.imageio import read_image, write_image

ROOT = Path(__file__).resolve().parents[1]
#: What the wheel is built from: the package sources and the metadata pyproject.toml names.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "pcarn_mobile", "converters")
#: Top-level names of the repository that are not in the wheel: installed code must never import them.
NOT_SHIPPED = {"benchmarks", "tests", "android_demo", "ios_demo", "toolchains", "docs"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = out.glob("pcarn_mobile-*.whl")
    return path


def _tracked_data_files() -> list[str]:
    """Every file of the two packages that is not Python source: what package-data must ship."""
    listed = subprocess.run(["git", "ls-files", "pcarn_mobile", "converters"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    return [p for p in listed if not p.endswith(".py")]


def test_the_wheel_holds_every_data_file_and_imports_nothing_of_the_repository(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = _tracked_data_files()
    assert {"pcarn_mobile/weights/pcarn_m_g4.pt", "pcarn_mobile/weights/pcarn_m_g4.toml",
            "pcarn_mobile/weights/MODEL_CARD.md"} <= set(data)
    assert any(p.startswith("pcarn_mobile/export/schema/") for p in data)
    assert [p for p in data if p not in names] == []
    imported: dict[str, set[str]] = {}
    with zipfile.ZipFile(wheel) as z:
        for name in (n for n in names if n.endswith(".py")):
            for node in ast.walk(ast.parse(z.read(name))):
                if isinstance(node, ast.Import):
                    tops = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = {node.module.split(".")[0]}
                else:
                    continue
                for top in tops & NOT_SHIPPED:
                    imported.setdefault(top, set()).add(name)
    assert imported == {}


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment holding the wheel; its dependencies are this interpreter's (not reinstalled)."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    site = Path(subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # after the env's own packages
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return env


def _run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PCARN_SHARED", "PYTHONPATH")}
    return subprocess.run([str(venv / "bin" / "python"), *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_installed_wheel_runs_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run(venv, empty, "-c", "import pcarn_mobile, converters; print(pcarn_mobile.__file__, converters.__file__)")
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(venv) for p in where.stdout.split())  # the wheel's copy, not the checkout
    for cli in ("convert", "upscale"):
        done = _run(venv, empty, "-m", f"pcarn_mobile.{cli}", "--help")
        assert done.returncode == 0 and "usage:" in done.stdout, (cli, done.stderr[-500:])
    # A real upscale with the embedded default weights, which only the wheel holds here.
    write_image(empty / "in.png", (np.random.default_rng(0).random((12, 16, 3)) * 255).astype(np.uint8))
    done = _run(venv, empty, "-m", "pcarn_mobile.upscale", "in.png", "out.png", "--scale", "2")
    assert done.returncode == 0, done.stderr[-1000:]
    assert "weights=" in done.stdout and read_image(empty / "out.png").shape == (24, 32, 3)
    # The shipped schema validates, and the recipe file is read, from inside the installed package.
    (empty / "s.json").write_text('{"schema_version": 2}')
    done = _run(venv, empty, "-m", "pcarn_mobile.export.validate", "s.json")
    assert done.returncode == 1 and "s.json: (top): 'file' is a required property" in done.stdout
    done = _run(venv, empty, "-c", "from importlib.resources import files; from pcarn_mobile.train import chain; "
                "print(len(chain(['--config', str(files('pcarn_mobile') / 'weights' / 'pcarn_m_g4.toml'), '--data', 'x', "
                "'--out', 'r'])))")
    assert done.returncode == 0 and done.stdout == "10\n", done.stderr[-500:]
    # What needs a checkout says so in one line rather than writing somewhere odd.
    done = _run(venv, empty, "-m", "pcarn_mobile.convert", "--android-demo", "--random-init")
    assert done.returncode == 2 and "checkout" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["in.png", "out.png", "s.json"]
