"""The Android app's plain-Kotlin core, compiled with Kotlin 2.x and run on this machine's JVM.

Why: benchmarks and tests ask the app's own code (``TileShape``, ``TilePlan``, ``PixelCodec``, the
app's tile loop ``runTiles``) for its answers, not a Python copy of it. The sources are every file
of ``android_demo/app/src/main`` that needs no Android, AndroidX or Google class (the core and the
model dispatcher) plus the JVM tests, compiled as the suite demands (``-language-version 2.2``, the
app's Kotlin; warnings are errors) by ``toolchains/kotlin.sh``'s compiler. The classes are cached
outside the repository under the system's temp folder, keyed by a hash of the sources, the
compiler and the flags, so only a changed source pays the ~30-60 s compile.

Calls (each raises :class:`~benchmarks.appcores.Unavailable` when the toolchain is absent):

- :func:`tile_plans` -- the interface of :mod:`benchmarks.appcores`;
- :func:`tile_origins` -- the app's tile origins for an image, tile and overlap, in run order;
- :func:`stitch` -- the 8-bit RGB pixels the app writes for a photo, given a model's per-tile
  outputs (the ``upscale --tflite`` byte-equality check);
- :func:`build` / :func:`ask` -- the compiled core (its log and JUnit classpath) and its JSON CLI,
  for tests/test_android_demo.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.appcores import Unavailable
from converters import toolchains

ROOT = Path(__file__).resolve().parents[2]
APP_SOURCES = ROOT / "android_demo" / "app" / "src"
MAIN = APP_SOURCES / "main" / "java"
TESTS = APP_SOURCES / "test" / "java"
TEST_RESOURCES = APP_SOURCES / "test" / "resources"
PACKAGE = "com.pcarnmobile.demo.core"
CLI = f"{PACKAGE}.CrossCheckKt"
#: The app's Kotlin language (gradle/libs.versions.toml: kotlin = 2.2.x); warnings fail the build.
#: -Wextra turns on the compiler's additional checkers (redundant casts, unused values, ...).
FLAGS = ("-language-version", "2.2", "-jvm-target", "17", "-Werror", "-Wextra")
#: Imports that mark a file as Android glue (needs the SDK, AndroidX, Compose or LiteRT).
ANDROID_IMPORTS = ("import android.", "import androidx.", "import com.google.")


@dataclass(frozen=True)
class Build:
    """The compiled core: ``java`` plus ``classpath`` runs its mains and JUnit; ``log`` is kotlinc's output."""

    classes: Path
    classpath: tuple[str, ...]
    java: str
    log: str

    def command(self, main: str) -> list[str]:
        return [self.java, "-cp", os.pathsep.join(self.classpath), main]


def _toolchain() -> tuple[Path, Path, str]:
    """kotlinc, the toolchain folder and java; Unavailable with the set-up line where any is missing."""
    if not toolchains.installed("kotlin"):
        raise Unavailable(toolchains.missing_line("kotlin"))
    java = shutil.which("java")
    if java is None:
        raise Unavailable("no java on PATH: the Kotlin core runs on a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)")
    home = toolchains.home("kotlin")
    return home / "compiler" / "bin" / "kotlinc", home, java


def plain_sources() -> list[Path]:
    """The app's files that compile without Android (no android/androidx/com.google import), and the JVM tests."""
    main = [p for p in sorted(MAIN.rglob("*.kt"))
            if not any(line.startswith(ANDROID_IMPORTS) for line in p.read_text().splitlines())]
    return main + sorted(TESTS.rglob("*.kt"))


def _jars(home: Path) -> tuple[list[Path], list[Path]]:
    """(compile classpath, extra runtime jars): JUnit 4 + Hamcrest, kotlinx.coroutines; the stdlib at run time."""
    lib = home / "compiler" / "lib"
    compile_cp = [home / "junit" / "junit4.jar", home / "junit" / "hamcrest.jar", lib / "kotlinx-coroutines-core-jvm.jar"]
    return compile_cp, [lib / "kotlin-stdlib.jar"]


def _cache_dir(key: str) -> Path:
    return Path(tempfile.gettempdir()) / "pcarn-mobile-kotlin-core" / key


def build() -> Build:
    """Compiles the plain sources once per content (cached); a compile error is a RuntimeError with kotlinc's log."""
    kotlinc, home, java = _toolchain()
    sources = plain_sources()
    compile_cp, runtime = _jars(home)
    digest = hashlib.sha256(" ".join(FLAGS).encode())
    digest.update((home / "compiler" / "build.txt").read_bytes() if (home / "compiler" / "build.txt").is_file() else b"")
    for p in sources:
        digest.update(str(p.relative_to(APP_SOURCES)).encode() + b"\0" + p.read_bytes() + b"\0")
    done = _cache_dir(digest.hexdigest()[:20])
    if not (done / ".complete").is_file():
        done.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=done.parent, prefix=".build-"))
        run = subprocess.run([str(kotlinc), *FLAGS, "-cp", os.pathsep.join(map(str, compile_cp)),
                              "-d", str(work / "classes"), *map(str, sources)],
                             capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(f"kotlinc failed on the app's plain-Kotlin sources:\n{run.stdout}{run.stderr}")
        (work / "kotlinc.log").write_text(run.stdout + run.stderr)
        (work / ".complete").touch()
        try:
            os.rename(work, done)
        except OSError:  # another process finished the same build first
            shutil.rmtree(work, ignore_errors=True)
    classpath = tuple(map(str, [done / "classes", TEST_RESOURCES, *compile_cp, *runtime]))
    return Build(done / "classes", classpath, java, (done / "kotlinc.log").read_text())


def ask(request: Mapping[str, object], timeout: float = 600) -> dict:
    """The core CLI's JSON answer to ``request`` (sections: plans, codecs, latency, shapes, origins, stitch)."""
    run = subprocess.run(build().command(CLI), input=json.dumps(request), capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"the Kotlin core failed: {run.stderr.strip()}")
    return json.loads(run.stdout)


def tile_plans(cases: Sequence[Mapping[str, object]]) -> list[dict]:
    """The app's ``TileShape`` choice per case (see :mod:`benchmarks.appcores`): shape, tiles, computed pixels, or error."""
    return ask({"shapes": [dict(c) for c in cases]})["shapes"]


def tile_origins(height: int, width: int, tile: tuple[int, int], overlap: int) -> list[tuple[int, int]]:
    """The (y, x) origin of every tile the app runs, in run order (the order :func:`stitch` takes outputs in)."""
    answer = ask({"origins": [{"height": height, "width": width, "tile": list(tile), "overlap": overlap}]})["origins"][0]
    if "error" in answer:
        raise ValueError(answer["error"])
    return [(y, x) for y, x in answer["origins"]]


def _nhwc(output: np.ndarray, layout: str, shape: tuple[int, int]) -> np.ndarray:
    """One tile's output as (H, W, 3), whatever layout and batch dimension the file gives it."""
    a = np.asarray(output)
    if a.ndim == 4:
        if a.shape[0] != 1:
            raise ValueError(f"a tile output of batch {a.shape[0]}; one tile at a time")
        a = a[0]
    if layout.upper() == "NCHW":
        a = a.transpose(1, 2, 0)
    if a.shape != (*shape, 3):
        raise ValueError(f"a tile output of shape {a.shape} ({layout}), expected {(*shape, 3)} as NHWC")
    return a


def stitch(height: int, width: int, scale: int, tile: tuple[int, int], overlap: int,
           outputs: Iterable[np.ndarray], *, layout: str = "NHWC",
           quantization: Mapping[str, float] | tuple[float, int] | None = None) -> np.ndarray:
    """The (scale*height, scale*width, 3) uint8 RGB image the Android app writes for these tile outputs.

    ``tile`` is the LR input shape (H, W) the tiles ran at; ``outputs`` one model output per tile in
    :func:`tile_origins` order, float32 or int8/uint8 as the file gives them, NHWC or NCHW
    (``layout``), with or without the batch dimension. Integer outputs need ``quantization``: the
    sidecar's ``output.quantization`` (``{"scale", "zero_point"}``) or ``(scale, zero_point)``. The
    pixels come from the core's ``runTiles`` (``TilePlan`` placement, ``PixelCodec`` dequantize and
    round), the loop the phone runs; the outputs travel to the JVM through a temporary file.
    """
    if isinstance(quantization, tuple):
        quantization = {"scale": float(quantization[0]), "zero_point": int(quantization[1])}
    out_shape = (scale * tile[0], scale * tile[1])
    with tempfile.TemporaryDirectory(prefix="pcarn-kotlin-stitch-") as tmp:
        tiles_file, out_file, dtype = Path(tmp) / "tiles.bin", Path(tmp) / "rgb.bin", None
        with open(tiles_file, "wb") as f:
            for output in outputs:
                a = _nhwc(output, layout, out_shape)
                if dtype is None:
                    dtype = a.dtype
                if a.dtype != dtype or dtype not in (np.float32, np.int8, np.uint8):
                    raise ValueError(f"tile outputs must all be float32, int8 or uint8 (got {a.dtype} after {dtype})")
                np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tofile(f)
        if dtype is None:
            raise ValueError("no tile outputs")
        if dtype != np.float32 and quantization is None:
            raise ValueError(f"{dtype} tile outputs need the sidecar's output quantization")
        ask({"stitch": {"height": height, "width": width, "scale": scale, "tile": list(tile), "overlap": overlap,
                        "dtype": str(dtype), "quantization": None if dtype == np.float32 else dict(quantization),
                        "tiles": str(tiles_file), "out": str(out_file)}})
        return np.fromfile(out_file, dtype=np.uint8).reshape(scale * height, scale * width, 3)
