"""stderr_to: native and Python stderr go to the log inside the block, to the terminal after it;
quiet_native_stderr: the same into a temporary log that is kept only when a library fails."""
from __future__ import annotations

import os
import sys
import tempfile

import pytest

from pcarn_mobile.errors import UserError
from pcarn_mobile.native_log import quiet_native_stderr, stderr_to


def test_native_and_python_stderr_are_redirected_then_restored(tmp_path, capfd):
    log = tmp_path / "convert.log"
    with stderr_to(log):
        os.write(2, b"native line\n")  # what C++ libraries do
        print("python line", file=sys.__stderr__)  # sys.stderr outside pytest's capture
    os.write(2, b"after\n")
    assert log.read_text() == "native line\npython line\n"
    assert capfd.readouterr().err == "after\n"


def test_restored_when_the_block_raises(tmp_path, capfd):
    with pytest.raises(RuntimeError), stderr_to(tmp_path / "log"):
        os.write(2, b"before failure\n")
        raise RuntimeError("boom")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"
    assert (tmp_path / "log").read_text() == "before failure\n"


@pytest.fixture
def tmpdir_logs(tmp_path, monkeypatch):
    """Temporary logs land in a folder of their own, so a test can see which were kept."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_quiet_block_hides_native_stderr_and_leaves_no_log(tmpdir_logs, capfd):
    with quiet_native_stderr("cannot run"):
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert capfd.readouterr().err == ""
    assert list(tmpdir_logs.iterdir()) == []


def test_a_library_failure_keeps_the_log_and_names_it(tmpdir_logs, capfd):
    with pytest.raises(UserError) as info:
        with quiet_native_stderr("cannot evaluate m.onnx"):
            os.write(2, b"native complaint\n")
            raise KeyError("its own exception type")
    (log,) = tmpdir_logs.iterdir()
    msg = str(info.value)
    assert msg.startswith("cannot evaluate m.onnx: 'its own exception type'") and str(log) in msg and "\n" not in msg
    text = log.read_text()
    assert text.startswith("native complaint\n") and "Traceback" in text and "KeyError" in text
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("exc", [UserError("already one clear line"), KeyboardInterrupt()], ids=["UserError", "Ctrl-C"])
def test_user_errors_and_interrupts_pass_through_without_a_log(tmpdir_logs, exc):
    with pytest.raises(type(exc)) as info:
        with quiet_native_stderr("cannot run"):
            raise exc
    assert str(info.value) == str(exc)
    assert list(tmpdir_logs.iterdir()) == []
