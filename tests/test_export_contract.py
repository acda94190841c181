"""The export contract (docs/export-contract.md): schema v2 for every format and variant, one I/O naming,
no path of the converting machine in anything written, and the Python API as the README shows it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pcarn_mobile.export import ExportResult, export
from pcarn_mobile.export.sidecar import REPORT_SCHEMA, SIDECAR_SCHEMA, schema_errors

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, ExportResult]:
    """Every format and variant the schema covers, through the API (in one process: TensorFlow loads once)."""
    base = tmp_path_factory.mktemp("contract")
    common = {"random_init": True, "calib_count": 4}
    cwd = os.getcwd()
    os.chdir(base)  # relative --out paths, as a user types them: nothing absolute is typed, so nothing may be written
    try:
        return {
            # TFLite fp32/fp16/int8 (float I/O), ONNX static, Core ML image I/O with every compression.
            "all": export(target="all", input_size="56x56", io="float", compress="none,int8,palette6", out="all",
                          **common),
            # int8 with int8 I/O, dynamic size (uint8 I/O: test_convert's CLI run).
            "tflite-dyn": export(target="tflite", dynamic=True, precision="int8", out="dyn", **common),
            "onnx-dyn": export(target="onnx", dynamic=True, random_init=True, out="onnx"),
            "coreml-tensor": export(target="coreml", tensor_io=True, sizes="56x56,64x72", precision="fp32",
                                    compress="int8", random_init=True, out="tensor"),
        }
    finally:
        os.chdir(cwd)


def _sidecars(result: ExportResult) -> list[dict]:
    return [json.loads(Path(f"{f.path}.json").read_text()) for f in result.files]


def test_every_sidecar_and_report_validates(runs):
    seen = set()
    for result in runs.values():
        assert result.ok
        assert schema_errors(json.loads(result.report_path.read_text()), "report") == []
        for meta in _sidecars(result):
            assert schema_errors(meta) == [], meta["file"]
            seen.add((meta["format"], meta["variant"], meta["input"]["dtype"], meta["input"]["layout"],
                      -1 in meta["input"]["shape"]))
    assert seen == {
        ("tflite", "fp32", "float32", "NHWC", False), ("tflite", "fp16", "float32", "NHWC", False),
        ("tflite", "int8", "float32", "NHWC", False), ("tflite", "int8", "int8", "NHWC", True),
        ("onnx", "fp32", "float32", "NCHW", False), ("onnx", "fp32", "float32", "NCHW", True),
        ("coreml", "fp16", "uint8", "image", False), ("coreml", "int8", "uint8", "image", False),
        ("coreml", "palette6", "uint8", "image", False), ("coreml", "int8", "float32", "NCHW", True),
    }


def test_the_schema_can_fail(runs):
    """A sidecar with a machine path, an unknown tensor name or no schema_version is caught."""
    meta = _sidecars(runs["tflite-dyn"])[0]
    assert schema_errors({**meta, "weights": {**meta["weights"], "file": "/home/me/w.pt"}})
    assert schema_errors({**meta, "input": {**meta["input"], "name": "input"}})
    assert schema_errors({k: v for k, v in meta.items() if k != "schema_version"})
    assert schema_errors({**meta, "calibration": {**meta["calibration"], "source": "/data/photos"}})


def test_one_naming_across_formats(runs):
    """The same two names in the ONNX graph, the TFLite tensors and signature, and the Core ML spec."""
    import onnx
    from ai_edge_litert.interpreter import Interpreter

    from converters.coreml_package import read_package

    names = set()
    for result in runs.values():
        for f in result.files:
            names.add((f.sidecar["input"]["name"], f.sidecar["output"]["name"]))
            if f.path.suffix == ".onnx":
                graph = onnx.load(str(f.path)).graph
                names.add((graph.input[0].name, graph.output[0].name))
            elif f.path.suffix == ".tflite":
                interpreter = Interpreter(model_path=str(f.path))
                (signature,) = interpreter.get_signature_list().values()
                names.add((signature["inputs"][0], signature["outputs"][0]))
                names.add((interpreter.get_input_details()[0]["name"], interpreter.get_output_details()[0]["name"]))
            else:
                package = read_package(f.path)
                names.add((package.inputs[0].name, package.outputs[0].name))
    assert names == {("lr", "sr")}


def test_nothing_written_names_the_converting_machine(runs):
    """No absolute path of this machine in any file a run writes (sidecars, models, packages, reports, log)."""
    machine = [str(ROOT), sys.prefix, str(Path.home()), tempfile.gettempdir()]
    for result in runs.values():
        out = result.report_path.parent
        for path in [p for p in out.rglob("*") if p.is_file()]:
            data = path.read_bytes()
            for folder in machine:
                assert folder.encode() not in data, f"{path.relative_to(out)} holds {folder}"


def test_schemas_ship_inside_the_package():
    """Apps and harnesses read the schemas from the installed package, not from a checkout."""
    from importlib.resources import files

    shipped = files("pcarn_mobile.export") / "schema"
    for schema in (SIDECAR_SCHEMA, REPORT_SCHEMA):
        assert json.loads((shipped / schema.name).read_text())["$id"].endswith(schema.name)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"export/schema/*.json"' in pyproject


def test_readme_api_example_runs_as_written(tmp_path):
    """The README's Python API example, copied out of the README and run in a fresh folder."""
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", readme, re.S)
    assert example, "README has no api-example block"
    done = subprocess.run([sys.executable, "-c", example[1]], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OK lr [1, 64, 64, 3]" in done.stdout
    assert sorted(p.name for p in (tmp_path / "exports").glob("*.tflite")) == [
        "pcarn_m_g4_x4_64x64_fp32.tflite", "pcarn_m_g4_x4_64x64_int8.tflite"]


def test_validate_command(runs, tmp_path, capsys):
    """``python -m pcarn_mobile.export.validate`` says valid for what a run wrote and names what breaks the schema."""
    from pcarn_mobile.export.validate import main

    report = runs["onnx-dyn"].report_path
    sidecar = Path(f"{runs['onnx-dyn'].files[0].path}.json")
    assert main([str(report), str(sidecar)]) == 0
    assert capsys.readouterr().out.count(": valid ") == 2
    broken = tmp_path / "x.onnx.json"
    broken.write_text(json.dumps({**json.loads(sidecar.read_text()), "scale": 5}))
    assert main([str(broken)]) == 1 and "scale" in capsys.readouterr().out
