"""Every CLI answers a flag it does not know, or a value it cannot parse, with one line and exit 2."""
from __future__ import annotations

import pytest

from pcarn_mobile import convert, evaluate, info, train, upscale
from pcarn_mobile.training import ship
from clitools import cli_error


@pytest.mark.parametrize("module", [convert, evaluate, info, train, upscale, ship], ids=lambda m: m.__name__)
def test_argparse_errors_are_one_line(module, capsys: pytest.CaptureFixture[str]) -> None:
    # argparse itself would print a usage block; a missing required option is reported before the unknown flag.
    err = cli_error(module.main, ["--no-such-flag"], capsys)
    assert ("--no-such-flag" in err or "required" in err) and "(see --help)" in err


def test_bad_value_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--scale" in cli_error(info.main, ["--scale", "four"], capsys)
    assert "--ema" in cli_error(train.main, ["--out", "x", "--ema", "1.5"], capsys)
