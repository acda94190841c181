"""The iOS app's core (ios_demo/PCARNCore) and the bench package (benchmarks/ios) under Swift 6 on Linux.

Built and tested with Swift 6.0.3 (Swift 6 language mode: complete strict concurrency checking,
warnings as errors) in the Debian trixie root of ``make toolchain-swift``, and cross-checked
against Python on the same inputs, as the Kotlin core is:

- the tile shape (``pcarn_mobile.tile_shape``) and the tile plan (``pcarn_mobile.tiling``, run
  through ``upscale_array`` itself with tests/tileplan.py) for photos of several sizes and every
  model shape the app is given: fixed, enumerated and ranged Core ML packages, the Android files'
  static 128x128, and free shapes within several areas;
- the app's choice per compute unit: the Neural Engine gets only shapes Core ML compiled ahead;
- the 8-bit pixels: the core's quantization of a network's float output equals ``upscale_image``'s
  byte for byte, for photo outputs of several sizes, in both the [0, 1] and the image-I/O 0..255
  scale.

Everything skips with one reason where the toolchain is absent.
"""
from __future__ import annotations

import json
from itertools import product

import numpy as np
import pytest
import torch

from benchmarks.appcores import Unavailable
from benchmarks.appcores import swift
from benchmarks.tiles.plans import FRAMES
from pcarn_mobile import tile_shape
from pcarn_mobile.models import build_model
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.tiling import TorchRunner, _tiles, upscale_array, upscale_image
from tileplan import run_plan


@pytest.fixture(scope="module")
def core():
    try:
        swift.build("PCARNCore")
    except Unavailable as e:
        pytest.skip(str(e))
    return swift


# --- Swift 6 builds and XCTests ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(swift.PACKAGES))
def test_package_builds_with_swift6_without_a_warning_and_its_xctests_pass(core, name: str) -> None:
    built = core.build(name)
    assert built.warnings == []
    assert "Build complete!" in built.log
    manifest = (swift.PACKAGES[name] / "Package.swift").read_text()
    assert manifest.startswith("// swift-tools-version:6.0") and "swiftLanguageModes: [.v6]" in manifest
    run = core.test(name)
    assert run.returncode == 0, run.output[-4000:]
    assert run.failures == 0 and run.executed >= {"PCARNCore": 40, "CoreMLBench": 5}[name], run.output[-2000:]


def test_a_warning_or_a_concurrency_error_fails_the_build(core) -> None:
    """What "0 warnings" rests on: -warnings-as-errors fails on a warning, and Swift 6 mode rejects a data race."""
    assert "-warnings-as-errors" in swift.BUILD_FLAGS
    status, said = core.typecheck("func f() -> Int { var x = 1; return x }\n")
    assert status != 0 and "never mutated" in said
    status, said = core.typecheck("final class Box { var n = 0 }\nenum Holder { static let shared = Box() }\n")
    assert status != 0 and "not concurrency-safe" in said, said
    assert core.typecheck("let fine = 1\n")[0] == 0
    assert swift.Build("x", "/", "a.swift:1:1: warning: var never mutated\nBuild complete!").warnings


# --- tile shape and plan ----------------------------------------------------------------------------

OVERLAP = 24
#: LR sizes: tiny and thin photos, the issue's three frames (720p x4, 1080p x2, 12 MP x2), odd sizes.
SIZES = [(1, 1), (1, 300), (300, 1), (16, 16), (37, 53), (128, 128), (129, 128), (180, 320), (333, 500),
         (540, 960), (720, 1280), (1000, 750), (3024, 4032), (3000, 4000)]
#: Candidate lists of fixed shapes: the Android files' static 128x128, the Core ML fixed and
#: enumerated packages', a fixed shape too small to step with 24 px of overlap.
FIXED = [[[128, 128]], [list(s) for s in tile_shape.SHIPPED_SHAPES], [[128, 128], [180, 320], [256, 256]],
         [[256, 256], [512, 512]], [[48, 48]], [[48, 48], [96, 96]]]
#: Free-shape areas: the default, the largest figure per scale and precision, others.
AREAS = sorted({tile_shape.DEFAULT_MAX_TILE_AREA, tile_shape.max_tile_area(2, "int8"), 512 * 512, 128 * 128})


def _cases() -> list[dict]:
    cases = [{"height": h, "width": w, "overlap": OVERLAP, "shapes": s} for (h, w), s in product(SIZES, FIXED)]
    cases += [{"height": h, "width": w, "overlap": OVERLAP, "max_area": a} for (h, w), a in product(SIZES, AREAS)]
    return cases


def _python(case: dict) -> dict:
    """What Python answers for a case; {"error"} where it raises."""
    h, w, o = case["height"], case["width"], case["overlap"]
    try:
        if "shapes" in case:
            shape = tile_shape.best_fixed_shape(h, w, [tuple(s) for s in case["shapes"]], o)
            padded = (max(h, shape[0]), max(w, shape[1]))  # a fixed tile pads the photo up to itself
        else:
            shape = tile_shape.best_free_shape(h, w, o, case["max_area"])
            padded = (h, w)
        # upscale_array's refusal, per axis (the tiles engineer's tiling.py: a short side is fine
        # where one tile spans that axis); tests/test_tile_shape.py holds upscale_array to it.
        if any(side <= 2 * o and length > side for side, length in zip(shape, padded)):
            raise ValueError(f"tile side must exceed twice the overlap ({o})")
        tiles = list(_tiles(*padded, *shape, o))
    except ValueError as e:
        return {"error": str(e)}
    return {"shape": list(shape), "computed": tile_shape.computed_pixels(h, w, shape, o),
            "tiles": tile_shape.tiles_along(h, shape[0], o) * tile_shape.tiles_along(w, shape[1], o),
            "origins": [(y, x) for y, x, _, _ in tiles], "kept": [(ky, kx) for _, _, ky, kx in tiles]}


def test_tile_shapes_and_plans_are_pythons(core) -> None:
    cases = _cases()
    answers = core.tile_plans(cases)
    assert len(answers) == len(cases)
    refused = 0
    for case, ios in zip(cases, answers):
        python = _python(case)
        if "error" in python:
            assert "error" in ios, (case, ios)
            refused += 1
            continue
        assert "error" not in ios, (case, ios)
        assert [ios["shape"], ios["tiles"], ios["computed"]] == [python["shape"], python["tiles"], python["computed"]], case
        spans = list(product(ios["rows"], ios["columns"]))
        assert [(r[0], c[0]) for r, c in spans] == python["origins"], case
        assert [((r[1], r[2]), (c[1], c[2])) for r, c in spans] == python["kept"], case
    assert refused, "the cases include shapes Python refuses"


@pytest.mark.parametrize("height,width", [(37, 53), (129, 128), (180, 320), (300, 1)])
def test_upscale_array_runs_the_ios_plan(core, height: int, width: int) -> None:
    """Not only the arithmetic: the windows and kept regions upscale_array really uses (tests/tileplan.py)."""
    for shapes in ([[128, 128]], [[64, 96], [100, 100]]):
        (ios,) = core.tile_plans([{"height": height, "width": width, "overlap": OVERLAP, "shapes": shapes}])
        tiles, source = run_plan(height, width, 2, OVERLAP, fixed=tuple(ios["shape"]))
        assert tiles == [(r[0], c[0], *ios["shape"]) for r, c in product(ios["rows"], ios["columns"])]
        owner = np.full((2 * height, 2 * width), -1)
        for k, (r, c) in enumerate(product(ios["rows"], ios["columns"])):
            owner[2 * r[1]:2 * min(r[2], height), 2 * c[1]:2 * min(c[2], width)] = k
        np.testing.assert_array_equal(source[..., 0], owner)


def test_default_max_tile_area_is_pythons(core) -> None:
    assert core.default_max_tile_area() == tile_shape.DEFAULT_MAX_TILE_AREA


# --- the app's choice per Core ML package and compute unit -----------------------------------------

UNITS = ["cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all"]
ANE = {"cpuAndNeuralEngine", "all"}
#: The packages `convert --target coreml` makes: the default range 16..512 (default 128x128), a
#: fixed 128x128 and enumerated sizes.
PACKAGES = [{"kind": "range", "range": [16, 512], "default": [128, 128]},
            {"kind": "fixed", "sizes": [[128, 128]], "default": [128, 128]},
            {"kind": "enumerated", "sizes": [list(s) for s in tile_shape.SHIPPED_SHAPES], "default": [128, 128]},
            {"kind": "enumerated", "sizes": [[128, 128], [180, 320], [270, 480]], "default": [128, 128]}]


def test_the_neural_engine_gets_only_precompiled_shapes_and_cpu_gpu_the_fewest_pixels(core) -> None:
    cases = [{"height": h, "width": w, "overlap": OVERLAP, "unit": u, **p}
             for (h, w), u, p in product(SIZES, UNITS, PACKAGES)]
    for case, ios in zip(cases, core.package_plans(cases)):
        assert "error" not in ios, (case, ios)
        h, w = case["height"], case["width"]
        precompiled = [tuple(s) for s in case.get("sizes", [case["default"]])]
        if case["kind"] != "range" or case["unit"] in ANE:
            best = tile_shape.best_fixed_shape(h, w, precompiled, OVERLAP)
            assert ios["sizing"] == "fixed" and tuple(ios["tile"]) == best, case
        elif min(h, w) > 2 * OVERLAP:
            lo, hi = case["range"]
            assert ios["sizing"] == "flexible", case
            area = tile_shape.DEFAULT_MAX_TILE_AREA
            assert all(lo <= side <= hi for side in ios["tile"]) and ios["tile"][0] * ios["tile"][1] <= area, case
            assert ios["computed"] == _fewest_in_box(h, w, hi, area), case
        th, tw = ios["tile"]
        python = list(_tiles(*ios["padded"], th, tw, OVERLAP))
        assert [(r[0], c[0]) for r, c in product(ios["rows"], ios["columns"])] == [(y, x) for y, x, _, _ in python]


def _fewest_in_box(height: int, width: int, max_side: int, max_area: int) -> int:
    """Brute force: the fewest computed pixels over every (rows, columns) count whose smallest tile fits the box."""
    best = None
    for ny, nx in product(range(1, 80), range(1, 80)):
        th, tw = tile_shape.side(height, ny, OVERLAP), tile_shape.side(width, nx, OVERLAP)
        if th <= max_side and tw <= max_side and th * tw <= max_area and \
                tile_shape.tiles_along(height, th, OVERLAP) == ny and tile_shape.tiles_along(width, tw, OVERLAP) == nx:
            best = min(best or th * tw * ny * nx, th * tw * ny * nx)
    assert best is not None
    return best


def test_the_three_frames_compute_at_most_1_3x_on_cpu_with_the_range_package(core) -> None:
    """Issue 24's target for CPU and GPU, with the max_tile_area the exporter writes for an fp16 package."""
    frames = [(180, 320, 4), (540, 960, 2), (3000, 4000, 2)]  # 720p x4, 1080p x2, 12 MP x2 (LR)
    cases = [{"height": h, "width": w, "overlap": OVERLAP, "unit": "cpuOnly", **PACKAGES[0],
              "max_area": tile_shape.max_tile_area(s, "fp16")} for h, w, s in frames]
    for (h, w, _), ios in zip(frames, core.package_plans(cases)):
        assert ios["computed"] / (h * w) <= 1.3, (h, w, ios["tile"], ios["computed"] / (h * w))


# --- 8-bit pixels ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network() -> TorchRunner:
    torch.manual_seed(0)
    return TorchRunner(build_model("pcarn_m").eval(), 2)


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (90, 131)])
def test_quantized_pixels_are_upscale_images(core, network: TorchRunner, size: tuple[int, int]) -> None:
    """The network's float output of a photo crop, quantized by the core, is upscale_image's uint8."""
    _, photo = sample_photos()[0]
    crop = photo[: size[0], : size[1]]
    reference = upscale_image(network, crop)
    floats = upscale_array(network, crop.astype(np.float32) / 255.0)
    np.testing.assert_array_equal(core.quantize(floats, "unit"), reference)
    # An image-I/O package's program hands Core ML clamp(x * 255); coreml_runner divides it by 255.
    image_values = np.clip(floats * np.float32(255.0), 0.0, 255.0).astype(np.float32)
    np.testing.assert_array_equal(core.quantize(image_values, "image"), _python_image_pixels(image_values))
    np.testing.assert_array_equal(_python_image_pixels(image_values), reference)


def _python_image_pixels(values: np.ndarray) -> np.ndarray:
    """What Python makes of an image-I/O package's output: coreml_runner's ``y / 255``, then upscale_image's rounding."""
    unit = (values / np.float32(255.0)).astype(np.float32)
    return np.floor(np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def test_quantization_rounds_half_up_at_every_level(core) -> None:
    """Every level's half-way point and its float neighbours: a clamp-and-truncate would fail here."""
    levels = np.arange(256, dtype=np.float32)
    halves = (levels + np.float32(0.5)) / np.float32(255.0)
    values = np.concatenate([halves, np.nextafter(halves, np.float32(0)), np.nextafter(halves, np.float32(1)),
                             levels / np.float32(255.0), np.array([-1, 2, np.nan], np.float32)]).astype(np.float32)
    expected = np.floor(np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0) * np.float32(255.0) + np.float32(0.5))
    np.testing.assert_array_equal(core.quantize(values, "unit"), expected.astype(np.uint8))


def test_an_image_io_packages_pixels_are_upscale_images(core, tmp_path) -> None:
    """Issue 24: the package's 8-bit output rounds (it used to clamp only) and equals Python's pixels.

    A tiny fp16 image-I/O package (tests/coreml_tiny.py) run by the Linux evaluator: its raw output,
    what Core ML converts into the app's 8-bit buffer, is whole numbers, so any rounding in that
    conversion keeps it; the core's bytes of it are upscale_image's bytes through coreml_runner.
    """
    ct = pytest.importorskip("coremltools")
    del ct
    from converters import coreml as cm
    from converters.coreml_eval import Evaluator
    from converters.coreml_runner import load_runner
    from coreml_tiny import TinyX3
    from pcarn_mobile.models import SRDeploy

    torch.manual_seed(1)
    model = cm.convert(SRDeploy(TinyX3().eval(), 3), shape=cm.ShapeSpec(size=(16, 16)), precision="fp16", image_io=True)
    cm.set_metadata(model, cm.PackageInfo(scale=3, groups=1), True)
    model.save(str(tmp_path / "tiny.mlpackage"))
    _, photo = sample_photos()[1]
    crop = photo[:16, :16]
    raw = Evaluator(tmp_path / "tiny.mlpackage").predict({"lr": crop.transpose(2, 0, 1)[None].astype(np.float32)})["sr"]
    assert np.array_equal(raw, np.floor(raw)) and raw.min() >= 0 and raw.max() <= 255 and np.ptp(raw) > 10
    pixels = core.quantize(raw[0].transpose(1, 2, 0), "image")
    np.testing.assert_array_equal(pixels, upscale_image(load_runner(tmp_path / "tiny.mlpackage"), crop))


def test_upscale_coreml_cuts_the_photo_as_the_app_does_on_cpu_and_gpu(core) -> None:
    """Issue 26: ``upscale --coreml`` (pcarn_mobile.app_tiles, from the sidecar) gives the tile shape the
    app's core gives for the same sidecar on CPU/GPU compute units (the Linux evaluator runs no Neural
    Engine: on ``all`` the app keeps to the package's precompiled shapes instead). Where app_tiles
    refuses (a free shape outside the package's range) the app cuts within the range; not compared."""
    from pcarn_mobile.app_tiles import app_tile_shape
    from pcarn_mobile.errors import UserError

    fixture = swift.PACKAGES["PCARNCore"] / "Tests" / "PCARNCoreTests" / "Fixtures" / "pcarn_m_g4_x4_dyn_fp16.mlpackage.json"
    sidecar = json.loads(fixture.read_text())
    sidecar["tiling"]["max_tile_area"] = tile_shape.max_tile_area(4, "fp16")
    lo, hi = sidecar["input"]["size_range"]
    sizes = [(h, w) for h, w in SIZES if min(h, w) >= lo]
    cases = [{"height": h, "width": w, "overlap": sidecar["tiling"]["overlap"], "unit": unit, "kind": "range",
              "range": [lo, hi], "default": [128, 128], "max_area": sidecar["tiling"]["max_tile_area"]}
             for (h, w), unit in product(sizes, ["cpuOnly", "cpuAndGPU"])]
    compared = 0
    for case, ios in zip(cases, core.package_plans(cases)):
        try:
            python = app_tile_shape(sidecar, case["height"], case["width"])
        except UserError:
            continue
        assert list(python) == ios["tile"], case
        compared += 1
    assert compared >= len(cases) // 2


# --- the --ios-demo pair ----------------------------------------------------------------------------


def _ios_demo_sidecars(scale: int) -> list[dict]:
    """The sidecars of what ``convert --target coreml --ios-demo`` installs, from the exporter's own
    code (the plan's packages, their tensors and tile contract), on the x4 fixture's other fields."""
    from pcarn_mobile.export.coreml_target import _shape_tag, _tensors
    from pcarn_mobile.export.options import ExportOptions, plan
    from pcarn_mobile.export.sidecar import tiling_entry

    fixture = swift.PACKAGES["PCARNCore"] / "Tests" / "PCARNCoreTests" / "Fixtures" / "pcarn_m_g4_x4_dyn_fp16.mlpackage.json"
    base = json.loads(fixture.read_text())
    sidecars = []
    for package in plan(ExportOptions(target="coreml", ios_demo=True, scale=scale)).coreml.packages():  # type: ignore[union-attr]
        tensor_in, tensor_out = _tensors(package, scale)
        first = package.size or (package.sizes[0] if package.sizes else None)
        sidecars.append({**base, "file": f"pcarn_m_g4_x{scale}_{_shape_tag(package)}_fp16.mlpackage", "scale": scale,
                         "input": tensor_in, "output": tensor_out, "tiling": tiling_entry(first, scale, "fp16")})
    return sidecars


@pytest.mark.parametrize("scale", [2, 4])
def test_the_ios_demo_install_is_one_picker_entry_that_loads_per_compute_unit(core, scale: int) -> None:
    """The two packages pair into one entry: the Neural Engine loads the enumerated one, CPU/GPU the range
    one, whose free shape on the target frames is the spec's (the range's side bound does not bind) within 1.3x."""
    enumerated, ranged = _ios_demo_sidecars(scale)
    other = "pcarn_m_g4_x2_128x128_fp16" if scale == 4 else "pcarn_m_g4_x4_dyn_fp16"  # another scale: its own entry
    alone = json.loads((swift.PACKAGES["PCARNCore"] / "Tests" / "PCARNCoreTests" / "Fixtures"
                        / f"{other}.mlpackage.json").read_text())
    choices = core.catalog([ranged, alone, enumerated])
    pair = next(c for c in choices if len(c["packages"]) == 2)
    assert pair["packages"] == [enumerated["file"], ranged["file"]] and len(choices) == 2
    assert {u: f == ranged["file"] for u, f in pair["load"].items()} == {
        "cpuOnly": True, "cpuAndGPU": True, "cpuAndNeuralEngine": False, "all": False}
    frames = [f for f in FRAMES if f.scale == scale]
    cases = []
    for f, unit in product(frames, UNITS):
        sidecar = ranged if pair["load"][unit] == ranged["file"] else enumerated
        sizes = sidecar["input"].get("sizes")
        cases.append({"height": f.height, "width": f.width, "overlap": OVERLAP, "unit": unit, "default": [128, 128],
                      "max_area": sidecar["tiling"]["max_tile_area"] or tile_shape.DEFAULT_MAX_TILE_AREA,
                      **({"kind": "enumerated", "sizes": sizes} if sizes else
                         {"kind": "range", "range": sidecar["input"]["size_range"]})})
    for c, ios in zip(cases, core.package_plans(cases)):
        h, w = c["height"], c["width"]
        if c["unit"] in ANE:
            assert tuple(ios["tile"]) == tile_shape.best_fixed_shape(h, w, tile_shape.SHIPPED_SHAPES, OVERLAP), c
            assert ios["computed"] / (h * w) <= 1.5, c
        else:
            assert tuple(ios["tile"]) == tile_shape.best_free_shape(h, w, OVERLAP, tile_shape.max_tile_area(scale, "fp16"))
            assert ios["computed"] / (h * w) <= 1.3, c
