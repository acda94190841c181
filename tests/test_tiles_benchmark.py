"""The tile plan's contract and benchmark: the sidecar's max_tile_area, the demo installs' shapes, python -m benchmarks.tiles."""
from __future__ import annotations

import json
import sys
from itertools import product
import types

import pytest
from jsonschema import Draft202012Validator

from benchmarks.tiles import __main__ as bench
from benchmarks.tiles import study
from benchmarks.tiles.plans import FRAMES, KINDS, case, spec_plans
from pcarn_mobile.export.options import ExportOptions, plan
from pcarn_mobile.export.sidecar import SIDECAR_SCHEMA, tiling_entry
from pcarn_mobile.tile_shape import SHIPPED_SHAPES, best_free_shape, free_side_bound, max_tile_area


def test_sidecar_tiling_says_how_large_a_free_tile_may_be():
    assert tiling_entry(None, 2, "fp32")["max_tile_area"] == max_tile_area(2, "fp32") == 146_419
    assert tiling_entry(None, 4, "int8")["max_tile_area"] == max_tile_area(4, "int8")
    assert tiling_entry((128, 128), 4, "fp32")["max_tile_area"] is None
    schema = json.loads(SIDECAR_SCHEMA.read_text())
    tiling = Draft202012Validator({"$ref": "#/$defs/tiling", "$defs": schema["$defs"]})
    assert tiling.is_valid(tiling_entry(None, 3, "fp16")) and tiling.is_valid(tiling_entry((56, 64), 3, "fp16"))
    old = {k: v for k, v in tiling_entry(None, 3, "fp16").items() if k != "max_tile_area"}
    assert tiling.is_valid(old)  # older sidecars have none: readers use DEFAULT_MAX_TILE_AREA
    assert not tiling.is_valid({**old, "max_tile_area": 0}) and not tiling.is_valid({**old, "max_tile_area": "big"})


def test_demo_installs_choose_among_the_shipped_shapes():
    """--android-demo: a static file per shipped shape and the resizable one; --ios-demo: one package enumerating
    them (Neural Engine) and a range package beside it (CPU/GPU). A shape the user names is what they get."""
    assert plan(ExportOptions(android_demo=True)).tflite_sizes == (*SHIPPED_SHAPES, None)
    assert plan(ExportOptions(android_demo=True, input_size="192x192")).tflite_sizes == ((192, 192),)
    assert plan(ExportOptions(android_demo=True, dynamic=True)).tflite_sizes == (None,)
    assert plan(ExportOptions()).tflite_sizes == ((128, 128),)
    ios = plan(ExportOptions(target="coreml", ios_demo=True)).coreml
    assert ios is not None and ios.sizes == SHIPPED_SHAPES and ios.range is None and ios.size is None
    enumerated, ranged = ios.packages()
    assert enumerated == ios and ranged.sizes == () and ranged.size is None and ranged.range == ios.demo_range
    assert ranged.packages() == (ranged,)
    for named in (dict(dynamic="16..256"), dict(sizes="128x128,256x256"), dict(input_size="192x192")):
        assert len(plan(ExportOptions(target="coreml", ios_demo=True, **named)).coreml.packages()) == 1  # type: ignore[union-attr]
    assert plan(ExportOptions(target="coreml")).coreml.range == (16, 512)  # type: ignore[union-attr]
    assert plan(ExportOptions(target="coreml", ios_demo=True, dynamic="16..256")).coreml.range == (16, 256)  # type: ignore[union-attr]


def test_cases_are_the_old_tiles_then_the_shipped_choice():
    frame, cpu, npu = FRAMES[2], KINDS[0], KINDS[2]
    assert case(frame, cpu, after=False)["shapes"] == [[128, 128]]
    assert case(frame, cpu, after=True)["max_area"] == max_tile_area(2, "fp32")
    assert case(frame, npu, after=True)["shapes"] == [list(s) for s in SHIPPED_SHAPES]
    (answer,) = spec_plans([case(FRAMES[0], cpu, after=True)])
    assert answer == {"shape": [180, 320], "tiles": 1, "computed": 57_600}
    assert "error" in spec_plans([{"height": 100, "width": 100, "overlap": 24, "shapes": [[40, 40]]}])[0]


def test_benchmark_without_cores_says_so_and_python_answers_when_asked(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "benchmarks.appcores.kotlin", None)  # None: "not importable"
    monkeypatch.setitem(sys.modules, "benchmarks.appcores.swift", None)
    assert bench.main([]) == 2
    out, err = capsys.readouterr()
    assert "kotlin core: benchmarks/appcores/kotlin.py is not on this branch" in out and "swift core" in out
    assert "no core answered" in err
    assert bench.main(["--core", "kotlin", "swift", "python"]) == 0
    out = capsys.readouterr().out
    assert "Planned on" in out
    row = next(line for line in out.splitlines() if "| android | 720p-x4" in line and "CPU" in line)
    assert "| 128x128 | 8 | 2.28x |" in row and "| 180x320 | 1 | 1.00x |" in row and "Python spec" in row


def _fake_core(answer):
    from benchmarks.appcores import Unavailable

    module = types.ModuleType("fake_core")
    module.tile_plans = answer  # type: ignore[attr-defined]
    module.Unavailable = Unavailable  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_ios_demo_range_keeps_the_free_shape_within_max_tile_area(scale):
    """The range package's side bound never binds before the sidecar's max_tile_area on a photo cut both ways
    (brute force over every tile of that area), and it reaches the target frames' free shapes."""
    lo, hi = plan(ExportOptions(target="coreml", ios_demo=True, scale=scale)).coreml.demo_range  # type: ignore[union-attr]
    area = max_tile_area(scale, "fp16")
    assert lo == 16 and hi == free_side_bound(area, 24)
    widest = [best_free_shape(h, w, 24, area) for h, w in product([49, 50, 97, 540, 3024], [4000, 20_000])]
    assert 512 < max(max(shape) for shape in widest) <= hi  # the converter's default 16..512 would bind
    for frame in FRAMES:
        if frame.scale == scale:
            h, w = best_free_shape(frame.height, frame.width, 24, area)
            assert lo <= min(h, w) and max(h, w) <= hi and h * w <= area


def test_the_ios_rows_are_cpu_gpu_on_the_range_package_and_the_neural_engine_on_the_enumerated_one(capsys):
    assert bench.main(["--core", "python"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ios |")]
    assert len(rows) == 6
    for line in rows:
        ratio = float(line.split(" | ")[-2].rstrip("x"))
        assert ratio <= (1.3 if "range package" in line else 1.5), line
    assert sum("range package" in line for line in rows) == 3 == sum("enumerated package" in line for line in rows)


def test_benchmark_uses_the_cores_and_fails_loudly_where_one_differs(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "benchmarks.appcores.kotlin",  # extra keys of a core's own are not a difference
                        _fake_core(lambda cases: [{**a, "rows": [[0, 0, 1]]} for a in spec_plans(cases)]))

    def off_by_one(cases):
        got = spec_plans(cases)
        got[-1] = {**got[-1], "tiles": got[-1]["tiles"] + 1}
        return got

    monkeypatch.setitem(sys.modules, "benchmarks.appcores.swift", _fake_core(off_by_one))
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nhand-written\n")
    assert bench.main(["--results", str(results)]) == 1
    out, err = capsys.readouterr()
    assert "!!! SWIFT CORE DIFFERS FROM THE PYTHON SPEC" in err and "KOTLIN" not in err
    assert out.count("| kotlin core |") == 9 and out.count("| swift core |") == 6
    text = results.read_text()
    assert text.startswith("# Results\n\nhand-written\n") and "<!-- BEGIN benchmarks.tiles" in text


def test_benchmark_reports_a_core_whose_toolchain_is_absent(capsys, monkeypatch):
    from benchmarks.appcores import Unavailable

    def absent(cases):
        raise Unavailable("Kotlin 2.x is not installed: make toolchain-kotlin")

    monkeypatch.setitem(sys.modules, "benchmarks.appcores.kotlin", _fake_core(absent))
    monkeypatch.setitem(sys.modules, "benchmarks.appcores.swift", _fake_core(spec_plans))
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert "kotlin core unavailable: Kotlin 2.x is not installed: make toolchain-kotlin" in out
    assert "| android |" not in out and out.count("| swift core |") == 6


def test_study_finds_the_shipped_shapes(capsys):
    assert study.main([]) == 0
    out = capsys.readouterr().out
    assert "| squares | both orientations | 128x128, 184x184, 304x304 | 1.455x |" in out
    assert "| squares | both orientations | 128x128 | 2.655x |" in out
