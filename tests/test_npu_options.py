"""``convert --npu``: every refusal is one ``error:`` line, exit 2, before a model loads and nothing written.

These need no NPU environment (the missing-environment case points the toolchain cache at an
empty folder); the compile and the emulated parity are in ``test_npu.py``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from clitools import cli_error
from converters.npu_compile import KNOWN_SOCS
from pcarn_mobile.convert import main
from pcarn_mobile.errors import UserError
from pcarn_mobile.export.options import ExportOptions, plan


@pytest.mark.parametrize("args, expect", [
    (["--npu", "qualcomm:SM9999"], "unknown Qualcomm SoC SM9999 for --npu; known: " + ", ".join(KNOWN_SOCS)),
    (["--npu", "mediatek:MT6989"], "the one NPU vendor is qualcomm"),
    (["--npu", "qualcomm:SM8650,"], "empty SoC name"),
    (["--npu", "qualcomm:SM8650", "--dynamic"], "--npu compiles static files only"),
    (["--npu", "qualcomm:SM8650", "--precision", "fp32,fp16"], "--npu compiles the int8 file, and --precision fp32,fp16 writes none"),
    (["--npu", "qualcomm:SM8650", "--target", "coreml"], "--npu applies to --target tflite"),
])
def test_bad_npu_options_one_line(args, expect, tmp_path, capsys):
    out = tmp_path / "out"
    err = cli_error(main, ["--target", "tflite", *args, "--out", str(out)] if "--target" not in args
                    else [*args, "--out", str(out)], capsys)
    assert expect in err
    assert not out.exists()


def test_missing_environment_names_the_setup_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PCARN_TOOLCHAINS", str(tmp_path / "empty"))
    err = cli_error(main, ["--npu", "qualcomm:SM8650", "--precision", "int8", "--out", str(tmp_path / "out")], capsys)
    assert "--npu needs the NPU compiler" in err and "run `make toolchain-npu`" in err
    assert not (tmp_path / "out").exists()


def test_socs_normalised_and_all_expands(monkeypatch):
    """Lower-case names and repeats are accepted once each; ``all`` is every SoC the compiler knows."""
    monkeypatch.setattr("converters.npu_env.find", lambda: None)
    assert plan(ExportOptions(npu="Qualcomm:sm8750, SM8650,sm8750", precision="int8")).npu == ("SM8750", "SM8650")
    assert plan(ExportOptions(npu="qualcomm:all")).npu == KNOWN_SOCS
    assert plan(ExportOptions()).npu == ()
    with pytest.raises(UserError, match="known: SA8255"):
        plan(ExportOptions(npu="qualcomm:SM8650,SM0000"))


def test_compiled_file_name_is_what_the_app_matches():
    from pcarn_mobile.export.npu_target import compiled_name

    assert compiled_name("pcarn_m_g4_x4_128x128_int8.tflite", "SM8650") == "pcarn_m_g4_x4_128x128_int8_qualcomm_sm8650.tflite"
    assert Path(compiled_name("a_int8_uint8io.tflite", "SA8295")).stem.endswith("_qualcomm_sa8295")
