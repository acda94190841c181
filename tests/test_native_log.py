"""stderr_to: native and Python stderr go to the log inside the block, to the terminal after it."""
from __future__ import annotations

import os
import sys

import pytest

from pcarn_mobile.native_log import stderr_to


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
