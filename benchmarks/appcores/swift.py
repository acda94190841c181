"""The iOS app's core (ios_demo/PCARNCore) and the bench package (benchmarks/ios), built with Swift 6 on Linux.

``toolchains/swift.sh`` installs Swift 6.0.3 into a Debian trixie root (Debian 13 packages
``swiftlang``; this machine's bookworm does not). Each package is copied into that root under a
folder named by a hash of its sources and the compiler's version, built there once (the suite and
the benchmarks reuse the build until a source changes) and run there. Every command runs in a
private mount namespace (``unshare --mount``): /proc and /dev are bind-mounted into the root only
inside it, so no mount outlives the command, even if it is killed.

Calls (the interface of :mod:`benchmarks.appcores`, plus what the iOS cross-checks need):

- :func:`tile_plans` (``cases`` as in ``benchmarks.appcores``): the core's ``TileShapes`` choice
  and the ``TilePlan`` it makes, with ``rows``/``columns`` (``[start, kept_lower, kept_upper]``);
- :func:`package_plans`: the app's own choice for a Core ML package on one compute-unit setting
  (``PackageShapes.sizing``: the Neural Engine gets only precompiled shapes);
- :func:`catalog`: the model picker's pairing of installed packages and which one each compute
  unit loads (``ModelChoice``: Neural Engine the enumerated package, CPU/GPU the range one);
- :func:`quantize`: float outputs to the 8-bit pixels the app writes (``PixelQuantization``);
- :func:`build` and :func:`test`: the Swift 6 compile log and the XCTest run, for the suite.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from converters import toolchains

from . import Unavailable

REPO = Path(__file__).resolve().parents[2]
#: Package name -> its folder in the repository.
PACKAGES: dict[str, Path] = {"PCARNCore": REPO / "ios_demo" / "PCARNCore", "CoreMLBench": REPO / "benchmarks" / "ios"}
CHECK = "pcarn-core-check"
#: Swift 6 language mode is set by each manifest (swift-tools-version 6.0); this makes every
#: warning fail the build, so "0 warnings" is what a passing build means.
BUILD_FLAGS = ("-Xswiftc", "-warnings-as-errors")
TIMEOUT_S = 900


@dataclass(frozen=True)
class Build:
    """One package built in the root: where it lies there, and what the compiler said."""

    name: str
    inside: str  # the package's folder as seen inside the root
    log: str

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.log.splitlines() if re.search(r"\b(warning|error):", line)]


def root() -> Path:
    return toolchains.home("swift") / "root"


def _require() -> None:
    if not toolchains.installed("swift"):
        raise Unavailable(toolchains.missing_line("swift"))
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise Unavailable("building in the Swift root needs root and unshare (util-linux); run as root")


def _digest(folder: Path) -> str:
    """Hash of every source file of a package (names and bytes) and of the compiler's version."""
    h = hashlib.sha256((toolchains.home("swift") / "VERSION").read_bytes())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".build" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _in_root(script: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Runs ``script`` (bash) inside the root, in a mount namespace of its own."""
    r = root()
    mounts = f"mount --bind /proc {r}/proc && mount --bind /dev {r}/dev"
    inner = f"cd / && export HOME=/tmp && {script}"
    command = ["unshare", "--mount", "--propagation", "private", "bash", "-c",
               f"{mounts} && exec chroot {r} /bin/bash -c {_quote(inner)}"]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=TIMEOUT_S)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class _Lock:
    """One build at a time in the root (two test processes must not copy over each other)."""

    def __enter__(self) -> _Lock:
        self._file = open(toolchains.home("swift") / "work.lock", "w")
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def build(name: str = "PCARNCore") -> Build:
    """Builds package ``name`` and its tests with Swift 6 in the root, once per source hash.

    A failed build raises RuntimeError with the compiler's output; a build that passes has no
    warning, since warnings are errors here. The build log is written last: a folder without it
    (an interrupted build) is removed and built again.
    """
    _require()
    work = root() / "work"
    folder = f"{name}-{_digest(PACKAGES[name])}"
    target = work / folder
    log_file = target / ".pcarn-build.log"
    with _Lock():
        if not log_file.is_file():
            for stale in work.glob(f"{name}-*"):
                shutil.rmtree(stale)
            # SwiftPM keeps absolute paths in .build, so the package is built where it stays.
            shutil.copytree(PACKAGES[name], target, ignore=shutil.ignore_patterns(".build"))
            done = _in_root(f"cd /work/{folder} && swift build {' '.join(BUILD_FLAGS)} --build-tests 2>&1")
            output = done.stdout.decode(errors="replace")
            if done.returncode != 0:
                shutil.rmtree(target)
                raise RuntimeError(f"swift build of {name} failed:\n{output[-6000:]}")
            log_file.write_text(output)
        return Build(name, f"/work/{folder}", log_file.read_text())


@dataclass(frozen=True)
class TestRun:
    """What ``swift test`` printed, and XCTest's totals."""

    output: str
    returncode: int

    @property
    def executed(self) -> int:
        totals = re.findall(r"Suite 'All tests' (?:passed|failed).*?\n\s*Executed (\d+) tests?, with (\d+) failures?",
                            self.output)
        return int(totals[-1][0]) if totals else 0

    @property
    def failures(self) -> int:
        totals = re.findall(r"Suite 'All tests' (?:passed|failed).*?\n\s*Executed \d+ tests?, with (\d+) failures?",
                            self.output)
        return int(totals[-1]) if totals else -1


def test(name: str = "PCARNCore") -> TestRun:
    """Runs the package's XCTests (built by :func:`build`)."""
    built = build(name)
    with _Lock():
        done = _in_root(f"cd {built.inside} && swift test --skip-build 2>&1")
    return TestRun(done.stdout.decode(errors="replace"), done.returncode)


def typecheck(source: str) -> tuple[int, str]:
    """``swiftc -typecheck -swift-version 6`` with :data:`BUILD_FLAGS`' warnings-as-errors on one file:
    (exit status, diagnostics). The suite uses it to show that a warning fails the build."""
    _require()
    with _exchange() as (outside, inside):
        (outside / "probe.swift").write_text(source)
        done = _in_root(f"swiftc -typecheck -swift-version 6 -warnings-as-errors {inside}/probe.swift 2>&1")
    return done.returncode, done.stdout.decode(errors="replace")


def _check(args: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    built = build("PCARNCore")
    stdin = json.dumps(request).encode() if request is not None else None
    done = _in_root(f"{built.inside}/.build/debug/{CHECK} {args}", stdin=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"{CHECK} {args}: {done.stderr.decode(errors='replace').strip()}")
    return json.loads(done.stdout) if request is not None else {}


def tile_plans(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The iOS core's answer per case (``benchmarks.appcores`` interface, plus rows/columns/tile/padded)."""
    _require()
    return _check("json", {"tile_plans": list(cases)})["tile_plans"]


def package_plans(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app's tiles for Core ML packages: per case ``{height, width, overlap, unit, kind, sizes|range,
    default, max_area?}`` -> ``{sizing, tile, padded, tiles, computed, rows, columns}`` or ``{error}``."""
    _require()
    return _check("json", {"packages": list(cases)})["packages"]


def catalog(sidecars: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The iOS model picker's entries for installed packages (``ModelChoice.pair``), given their sidecars
    in install order: ``[{"packages": [file...], "load": {compute unit: file it loads}}]``."""
    _require()
    answer = _check("json", {"catalog": list(sidecars)})["catalog"]
    if isinstance(answer, dict):
        raise RuntimeError(f"the iOS core could not read the sidecars: {answer['error']}")
    return answer


def default_max_tile_area() -> int:
    """``TileShapes.defaultMaxTileArea``: the area the app uses where a sidecar gives none."""
    _require()
    return int(_check("json", {})["default_max_tile_area"])


def quantize(values: np.ndarray, scale: str = "unit") -> np.ndarray:
    """The 8-bit pixels the iOS app writes for float outputs ``values`` (any shape).

    ``scale="unit"``: network outputs in [0, 1]; ``"image"``: an image-I/O package's 0..255 values.
    """
    _require()
    if scale not in ("unit", "image"):
        raise ValueError(f"scale is 'unit' or 'image', not {scale!r}")
    flat = np.ascontiguousarray(values, dtype="<f4").reshape(-1)
    with _exchange() as (outside, inside):
        (outside / "in.f32").write_bytes(flat.tobytes())
        _check(f"quantize {scale} {inside}/in.f32 {inside}/out.u8")
        pixels = np.frombuffer((outside / "out.u8").read_bytes(), dtype=np.uint8)
    return pixels.reshape(np.shape(values))


class _exchange:
    """A temporary folder inside the root: (its path here, its path inside the root)."""

    def __enter__(self) -> tuple[Path, str]:
        tmp = root() / "tmp"
        tmp.mkdir(exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix="pcarn.", dir=tmp))
        return self._dir, f"/tmp/{self._dir.name}"

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
