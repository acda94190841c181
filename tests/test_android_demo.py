"""The Android demo (android_demo/): what can be checked without the Android SDK.

Every Kotlin and Gradle file parses, every XML resource is well-formed, and the app's plain-Kotlin
sources (the core and every file needing no Android class) compile with Kotlin 2.x at the app's
language version with warnings as errors (``benchmarks.appcores.kotlin``, ``make toolchain-kotlin``),
pass their JUnit 4 tests and compute what this package computes: the tile shape of
``pcarn_mobile.tile_shape``, the tile plan of ``pcarn_mobile.tiling.upscale_array``, the pixel
(de)quantization of ``converters.tflite_runner`` and ``upscale_image``, the stitched 8-bit output, a
latency document that validates, and only sidecar keys the schema has. The compile is cached by the
sources' hash (~45 s when they change) and skipped, with one reason, where the toolchain is absent.
"""
from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pcarn_mobile.tile_shape import SHIPPED_SHAPES
from schemawalk import has_path
from syntax import syntax_errors
from tileplan import run_plan

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "android_demo"
SOURCES = APP / "app" / "src"
CORE = SOURCES / "main" / "java" / "com" / "pcarnmobile" / "demo" / "core"
TEST_RESOURCES = SOURCES / "test" / "resources"
FIXTURES = TEST_RESOURCES / "sidecars"
SIDECAR_SCHEMA = ROOT / "pcarn_mobile" / "export" / "schema" / "sidecar-v1.schema.json"

# (height, width, tile [H, W], overlap, scale): one-tile, edge-padded, 1-pixel, tile-sized,
# off-step and multi-tile images, a non-square tile, the 49-px minimum tile, a refused plan.
PLANS = [
    (64, 64, (64, 64), 24, 2),
    (40, 50, (64, 64), 24, 2),
    (1, 1, (64, 64), 24, 4),
    (1, 200, (64, 64), 24, 2),
    (200, 1, (64, 64), 24, 3),
    (65, 64, (64, 64), 24, 2),
    (100, 130, (64, 64), 24, 2),
    (112, 144, (64, 64), 24, 2),
    (50, 300, (64, 64), 24, 2),
    (257, 191, (128, 96), 24, 2),
    (60, 55, (49, 49), 24, 2),
    (70, 90, (64, 64), 0, 2),
    (100, 100, (48, 48), 24, 2),
]


def _kotlin_files() -> list[Path]:
    return sorted(p for p in APP.rglob("*") if p.suffix in (".kt", ".kts"))


def test_every_kotlin_and_gradle_file_parses():
    files = _kotlin_files()
    assert len(files) >= 20, files
    assert [e for f in files for e in syntax_errors(f, "kotlin")] == []


def test_every_xml_resource_and_the_manifest_are_well_formed():
    files = sorted((SOURCES / "main").rglob("*.xml"))
    assert SOURCES / "main" / "AndroidManifest.xml" in files
    for f in files:
        ET.parse(f)  # raises ParseError with the file's line and column


def test_the_core_has_no_android_imports():
    for f in sorted(CORE.glob("*.kt")):
        assert not re.findall(r"^import (android|androidx|org\.json)\.", f.read_text(), re.M), f


# --- sidecar keys ---------------------------------------------------------------------------

def _keys() -> dict[str, list[str]]:
    """``SidecarKeys`` / ``TensorKeys`` constants from SidecarKeys.kt, by object."""
    text = (CORE / "SidecarKeys.kt").read_text()
    blocks = dict(re.findall(r"^object (\w+) \{(.*?)^\}", text, re.M | re.S))
    return {name: re.findall(r'const val \w+ = "([^"]+)"', body) for name, body in blocks.items()}


def test_every_sidecar_key_the_app_reads_is_in_the_schema():
    schema = json.loads(SIDECAR_SCHEMA.read_text())
    keys = _keys()
    paths = keys["SidecarKeys"] + [f"{t}.{k}" for t in ("input", "output") for k in keys["TensorKeys"]]
    assert len(paths) > 20
    assert [p for p in paths if not has_path(schema, p)] == []
    assert not has_path(schema, "tiling.tile_size") and not has_path(schema, "input.quantization.zero")


def test_sidecar_keys_are_used_and_only_through_the_constants():
    app = "\n".join(p.read_text() for p in (SOURCES / "main").rglob("*.kt") if p.name != "SidecarKeys.kt")
    unused = [f"{obj}.{name}" for obj in ("SidecarKeys", "TensorKeys")
              for name in re.findall(r"const val (\w+)", (CORE / "SidecarKeys.kt").read_text().split(f"object {obj}")[1].split("\n}")[0])
              if f"{obj}.{name}" not in app]
    assert unused == []
    reader_calls_with_literals = re.findall(r"\.(?:string|long|longOrNull|double|obj|ints|intsOrNull|doubles|booleanOrNull|stringsOrEmpty|isNull)\(\"",
                                            (CORE / "Sidecar.kt").read_text())
    assert reader_calls_with_literals == []


def test_the_kotlin_fixtures_are_valid_sidecars():
    from pcarn_mobile.export.sidecar import schema_errors

    fixtures = sorted(FIXTURES.glob("*.tflite.json"))
    assert {json.loads(f.read_text())["input"]["dtype"] for f in fixtures} == {"float32", "int8", "uint8"}
    for f in fixtures:
        assert schema_errors(json.loads(f.read_text())) == [], f.name


# --- Kotlin 2.x: compile once (benchmarks.appcores.kotlin), run JUnit and the cross-checks ---

@pytest.fixture(scope="module")
def kotlin():
    """The compiled plain-Kotlin sources (cached by their hash); skipped with the set-up line where the toolchain is absent."""
    from benchmarks.appcores import Unavailable, kotlin as core

    try:
        return core.build()
    except Unavailable as e:
        pytest.skip(str(e))


def test_the_plain_kotlin_sources_compile_with_kotlin_2_without_a_warning(kotlin):
    from benchmarks.appcores.kotlin import FLAGS, plain_sources

    sources = plain_sources()
    names = {p.name for p in sources}
    assert {"TileShape.kt", "TilePlan.kt", "PixelCodec.kt", "Sidecar.kt", "ModelDispatcher.kt"} <= names
    assert not names & {"SrEngine.kt", "TiledUpscaler.kt", "MainActivity.kt"}  # Android glue stays out
    assert "-Werror" in FLAGS and FLAGS[FLAGS.index("-language-version") + 1] == "2.2"
    warnings = re.findall(r"^(?:.*: )?warning: .*$", kotlin.log, re.M)
    print(f"kotlinc {' '.join(FLAGS)}: {len(sources)} files, {len(warnings)} warnings")
    assert warnings == []


def test_the_core_passes_its_junit_tests(kotlin):
    tests = APP / "app" / "src" / "test" / "java"
    classes = [".".join(p.relative_to(tests).with_suffix("").parts) for p in sorted(tests.rglob("*Test.kt"))]
    done = subprocess.run(kotlin.command("org.junit.runner.JUnitCore") + classes, capture_output=True, text=True, timeout=300)
    print(done.stdout.strip().splitlines()[-1])  # "OK (N tests)"
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(classes) >= 8 and re.search(r"^OK \(\d+ tests\)$", done.stdout, re.M)


@pytest.fixture(scope="module")
def crosscheck(kotlin) -> dict:
    """The core's answers (CrossCheck.kt) for the plans, codecs and latency document below."""
    floats = np.concatenate([np.linspace(-0.1, 1.1, 200, dtype=np.float32),
                             (np.arange(56, dtype=np.float32) + 0.5) / np.float32(255)]).astype(np.float32)
    request = {
        "plans": [{"height": h, "width": w, "tile": list(t), "overlap": o, "scale": s} for h, w, t, o, s in PLANS],
        "codecs": [{"sidecar": f.read_text(), "floats": [float(x) for x in floats]} for f in _codec_fixtures()],
        "latency": {"sidecar": _codec_fixtures()[0].read_text(), "samples": [41.5, 40.25, 44.0, 39.75, 52.5, 40.0]},
    }
    from benchmarks.appcores.kotlin import ask

    answer = ask(request)
    answer["floats"] = floats
    return answer


# -- tiling: Python's upscale_array with a recording stand-in model, against TilePlan

@pytest.mark.parametrize("case", range(len(PLANS)), ids=[f"{h}x{w}-tile{t[0]}x{t[1]}-o{o}-x{s}" for h, w, t, o, s in PLANS])
def test_the_kotlin_tile_plan_is_pythons(crosscheck, case):
    h, w, tile, overlap, scale = PLANS[case]
    kotlin = crosscheck["plans"][case]
    try:
        tiles, source = run_plan(h, w, scale, overlap, fixed=tile)
    except ValueError as e:
        assert kotlin == {"error": str(e)}
        return
    assert kotlin["origins"] == [[y, x] for y, x, _, _ in tiles]
    # The Kotlin check prints k * 65536 + j: j the pixel's index in its tile's output, row-major.
    expected = source[..., 0] * 65536 + source[..., 1] * (scale * tile[1]) + source[..., 2]
    np.testing.assert_array_equal(np.array(kotlin["source"]), expected.ravel())


# -- pixels: upscale_image + _quantize/_dequantize with the sidecars' scale and zero point

def _codec_fixtures() -> list[Path]:
    return [FIXTURES / f"pcarn_m_g4_x4_128x128_{v}.tflite.json" for v in ("fp32", "int8", "int8_uint8io")]


class _Tensors:
    """A scale-1 "model" for ``upscale_image`` that handles its tensors as ``TFLiteRunner`` does:
    keeps the input it would set (quantized per the sidecar) and answers ``output`` dequantized."""

    scale, input_size = 1, None

    def __init__(self, sidecar: dict, output: np.ndarray) -> None:
        self.spec, self.output, self.fed = sidecar, output, None

    def detail(self, which: str) -> dict:
        q = self.spec[which]["quantization"]
        return {"quantization": (q["scale"], q["zero_point"]), "dtype": np.dtype(self.spec[which]["dtype"])}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from converters.tflite_runner import _dequantize, _quantize

        nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.float32)
        self.fed = nhwc if self.spec["input"]["quantization"] is None else _quantize(nhwc, self.detail("input"))
        y = self.output if self.spec["output"]["quantization"] is None else _dequantize(self.output, self.detail("output"))
        return np.ascontiguousarray(y.transpose(0, 3, 1, 2), dtype=np.float32)


@pytest.mark.parametrize("case", range(3), ids=["float32", "int8 1|255 -128", "uint8 1|255 0"])
def test_kotlin_pixels_are_quantized_and_dequantized_as_python_does(crosscheck, case):
    from pcarn_mobile.tiling import upscale_image

    sidecar = json.loads(_codec_fixtures()[case].read_text())
    kotlin = crosscheck["codecs"][case]
    i = np.arange(256)
    pixels = np.stack([i, 255 - i, (i * 37) % 256], axis=-1).astype(np.uint8)[None]
    if sidecar["output"]["quantization"] is None:
        values = crosscheck["floats"]
    else:  # every byte the output can hold, read as its dtype
        values = np.arange(256, dtype=np.uint8).view(np.dtype(sidecar["output"]["dtype"]))
    tensors = _Tensors(sidecar, np.repeat(values.reshape(1, 1, 256, 1), 3, axis=3))
    decoded = upscale_image(tensors, pixels)
    np.testing.assert_array_equal(np.array(kotlin["encoded"], dtype=tensors.fed.dtype), tensors.fed.ravel())
    np.testing.assert_array_equal(np.array(kotlin["decoded"]), decoded[0, :, 0])


def test_the_kotlin_latency_document_validates(crosscheck):
    from benchmarks.results import schema_errors

    doc = crosscheck["latency"]
    assert schema_errors(doc) == []
    assert doc["harness"] == "android-app"
    measured, failed = doc["results"]
    samples = [41.5, 40.25, 44.0, 39.75, 52.5, 40.0]
    for key, numpy_value in (("p50", np.percentile(samples, 50)), ("p90", np.percentile(samples, 90)), ("std", np.std(samples))):
        assert measured["latency_ms"][key] == pytest.approx(numpy_value, abs=1e-9)
    assert (measured["backend"], measured["input"], measured["runtime"]) == ("cpu", [128, 128], "litert")
    assert failed["latency_ms"] is None and failed["delegation"]["status"] == "failed" and failed["error"]


# -- tile shapes: TileShape.kt against pcarn_mobile.tile_shape on the same cases

# Photos and frames of several sizes (1 px, thin, 320x180 = 720p-x4, 1080p-x2, 12 MP, 65,535 px sides).
IMAGES = [(1, 1), (1, 200), (200, 1), (47, 49), (180, 320), (333, 500), (720, 1280), (1080, 1920),
          (3000, 4000), (4000, 3000), (1, 65_535), (65_535, 2), (9000, 9000)]
# Every static shape the exporter ships or the catalogue may group (square, frame-shaped, the 49-px minimum).
SHAPE_SETS = [[(128, 128)], list(SHIPPED_SHAPES), [(64, 64), (128, 128), (256, 256)], [(128, 128), (192, 320), (256, 256), (368, 648)],
              [(49, 49)], [(48, 48)], [(96, 160), (160, 96)]]
AREAS = [1, 2_500, 64 * 64, 128 * 128, 256 * 256, 512 * 512, 1024 * 1024]


def _shape_cases() -> list[dict]:
    cases = [{"height": h, "width": w, "overlap": o, "shapes": [list(s) for s in shapes]}
             for h, w in IMAGES for shapes in SHAPE_SETS for o in (24, 0)]
    cases += [{"height": h, "width": w, "overlap": 24, "max_area": a} for h, w in IMAGES for a in AREAS]
    return cases + [{"height": 0, "width": 5, "overlap": 24, "max_area": 100}]


def _python_shape(case: dict) -> dict:
    from pcarn_mobile import tile_shape as ts

    h, w, o = case["height"], case["width"], case["overlap"]
    try:
        s = (ts.best_fixed_shape(h, w, [tuple(x) for x in case["shapes"]], o) if "shapes" in case
             else ts.best_free_shape(h, w, o, case["max_area"]))
    except ValueError as e:
        return {"error": str(e)}
    return {"shape": list(s), "tiles": ts.tiles_along(h, s[0], o) * ts.tiles_along(w, s[1], o),
            "computed": ts.computed_pixels(h, w, s, o)}


def test_the_kotlin_tile_shape_is_pythons(kotlin):
    from benchmarks.appcores.kotlin import tile_plans

    cases = _shape_cases()
    kotlin_answers = tile_plans(cases)
    python_answers = [_python_shape(c) for c in cases]
    assert len(cases) > 200 and sum("error" in a for a in python_answers) >= 10
    assert [(c, k) for c, k, p in zip(cases, kotlin_answers, python_answers) if k != p] == []


def test_the_kotlin_default_tile_area_is_pythons():
    from pcarn_mobile import tile_shape

    kotlin = re.search(r"const val DEFAULT_MAX_TILE_AREA = ([\d_]+)\n", (CORE / "TileShape.kt").read_text())
    assert kotlin and int(kotlin.group(1).replace("_", "")) == tile_shape.DEFAULT_MAX_TILE_AREA


# -- stitched pixels: the core's runTiles from a model's tile outputs against upscale_image

def _quantization(dtype: str) -> dict | None:
    return {"int8": {"scale": 1 / 255, "zero_point": -128}, "uint8": {"scale": 1 / 255, "zero_point": 0}}.get(dtype)


@pytest.mark.parametrize("dtype,layout", [("float32", "NCHW"), ("float32", "NHWC"), ("int8", "NHWC"), ("uint8", "NCHW")])
def test_the_kotlin_stitched_pixels_are_pythons(kotlin, dtype, layout):
    """Python tiles a photo with a stand-in model (values beyond [0, 1] and every quantized level);
    the core stitches the same tile outputs; the 8-bit images are equal byte for byte."""
    from benchmarks.appcores.kotlin import stitch, tile_origins
    from converters.tflite_runner import _dequantize
    from pcarn_mobile.tiling import upscale_image

    h, w, scale, tile, overlap = 71, 130, 3, (48, 64), 12
    rng = np.random.default_rng(7)
    photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    q, outputs = _quantization(dtype), []

    def model(x: np.ndarray) -> np.ndarray:  # NCHW float in, NCHW float out, as upscale_image's models
        raw = rng.uniform(-0.2, 1.2, (1, 3, scale * tile[0], scale * tile[1])).astype(np.float32)
        if q is not None:
            raw = rng.integers(0, 256, raw.shape, dtype=np.uint8).view(dtype)
        outputs.append(raw if layout == "NCHW" else raw.transpose(0, 2, 3, 1))
        return raw if q is None else _dequantize(raw, {"quantization": (q["scale"], q["zero_point"]), "dtype": raw.dtype})

    model.scale, model.input_size = scale, tile
    expected = upscale_image(model, photo, overlap=overlap)
    assert len(tile_origins(h, w, tile, overlap)) == len(outputs) > 4
    got = stitch(h, w, scale, tile, overlap, outputs, layout=layout, quantization=q)
    assert got.dtype == np.uint8 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


# -- tensors: the file's own I/O read by TfliteTensors.kt and checked against the sidecar

def _tflite_like(sidecar: dict, path: Path, **change: dict) -> Path:
    """A .tflite flatbuffer (no operators) whose I/O tensors are the sidecar's, with ``change[which]`` applied."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    codes = {"float32": schema.TensorType.FLOAT32, "float16": schema.TensorType.FLOAT16,
             "int8": schema.TensorType.INT8, "uint8": schema.TensorType.UINT8}
    tensors = []
    for which in ("input", "output"):
        spec = {**sidecar[which], **change.get(which, {})}
        t = schema.TensorT()
        t.name, t.type, t.buffer = spec["name"].encode(), codes[spec["dtype"]], 0
        t.shape = np.array([max(d, 1) for d in spec["shape"]], dtype=np.int32)
        if any(d < 0 for d in spec["shape"]):
            t.shapeSignature = np.array(spec["shape"], dtype=np.int32)
        t.quantization = schema.QuantizationParametersT()
        if spec["quantization"] is not None:
            t.quantization.scale = np.array([spec["quantization"]["scale"]], dtype=np.float32)
            t.quantization.zeroPoint = np.array([spec["quantization"]["zero_point"]], dtype=np.int64)
        tensors.append(t)
    graph = schema.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [0], [1], []
    model = schema.ModelT()
    model.version, model.subgraphs, model.buffers, model.operatorCodes = 3, [graph], [schema.BufferT()], []
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    return path


def test_the_kotlin_core_reads_a_files_tensors_and_refuses_a_mismatch(kotlin, tmp_path):
    from benchmarks.appcores.kotlin import ask

    names = ["fp32", "fp16", "int8", "int8_uint8io"]
    sidecars = {n: (FIXTURES / f"pcarn_m_g4_x4_128x128_{n}.tflite.json").read_text() for n in names}
    sidecars["dyn"] = (FIXTURES / "pcarn_m_g4_x2_dyn_fp32.tflite.json").read_text()
    int8 = json.loads(sidecars["int8"])
    q = int8["output"]["quantization"]
    mismatches = {  # what a wrong file looks like, and the words of its one line
        "uint8 bytes": ({"output": {"dtype": "uint8"}}, "output 'sr' is uint8, the sidecar says int8"),
        "renamed": ({"input": {"name": "serving_default_x:0"}}, "input tensor 'serving_default_x:0', the sidecar says 'lr'"),
        "zero point": ({"output": {"quantization": {**q, "zero_point": 0}}}, "output 'sr' is quantized scale"),
        "scale": ({"input": {"quantization": {**q, "scale": 1 / 128}}}, "input 'lr' is quantized scale 0.0078125"),
        "shape": ({"input": {"shape": [1, 64, 64, 3]}}, "input 'lr' has shape [1, 64, 64, 3], the sidecar says [1, 128, 128, 3]"),
        "float": ({"output": {"dtype": "float32", "quantization": None}}, "output 'sr' is float32"),
    }
    cases = [{"file": str(_tflite_like(json.loads(text), tmp_path / f"{n}.tflite")), "sidecar": text} for n, text in sidecars.items()]
    cases += [{"file": str(_tflite_like(int8, tmp_path / f"bad{i}.tflite", **change)), "sidecar": sidecars["int8"]}
              for i, (change, _) in enumerate(mismatches.values())]
    (tmp_path / "junk.tflite").write_bytes(b"\0" * 64)
    cases.append({"file": str(tmp_path / "junk.tflite"), "sidecar": sidecars["int8"]})
    answers = ask({"tensors": cases})["tensors"]
    for n, answer in zip(sidecars, answers):
        spec = json.loads(sidecars[n])
        assert answer["mismatch"] is None, n
        assert answer["inputs"] == [{k: spec["input"][k] for k in ("name", "dtype", "shape", "quantization")}], n
    for (label, (_, words)), answer in zip(mismatches.items(), answers[len(sidecars):]):
        assert answer["mismatch"].startswith("pcarn_m_g4_x4_128x128_int8.tflite does not match its sidecar: "), label
        assert words in answer["mismatch"] and "\n" not in answer["mismatch"], (label, answer["mismatch"])
    assert answers[-1] == {"error": "not a TFLite file (no TFL3 identifier)"}


# -- the Gradle wrapper: a Gradle that runs on current JDKs, the AGP it supports, scripts that run its jar

#: AGP minor -> the oldest Gradle it supports (developer.android.com, AGP release notes: 8.13 needs 8.13).
AGP_MIN_GRADLE = {(8, 13): (8, 13)}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_the_gradle_wrapper_is_8_14_or_later_with_a_matching_agp_and_consistent_scripts():
    import zipfile

    wrapper = APP / "gradle" / "wrapper"
    url = re.search(r"^distributionUrl=.*/gradle-([\d.]+)-bin\.zip$", (wrapper / "gradle-wrapper.properties").read_text(), re.M)
    gradle = _version(url.group(1))
    assert gradle >= (8, 14), "Gradle 8.13 and older do not run on JDK 24 (Gradle's compatibility matrix)"
    agp = _version(re.search(r'^agp = "([\d.]+)"$', (APP / "gradle" / "libs.versions.toml").read_text(), re.M).group(1))
    assert gradle >= AGP_MIN_GRADLE[agp[:2]]
    with zipfile.ZipFile(wrapper / "gradle-wrapper.jar") as jar:
        assert "org/gradle/wrapper/GradleWrapperMain.class" in jar.namelist()
    for script in ("gradlew", "gradlew.bat"):
        text = (APP / script).read_text()
        assert "gradle-wrapper.jar" in text and "org.gradle.wrapper.GradleWrapperMain" in text, script
    assert (APP / "gradlew").stat().st_mode & 0o111, "gradlew must be executable"
