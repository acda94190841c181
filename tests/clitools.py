"""Test helper shared by the CLI tests: bad input must give one `error:` line and exit 2."""
from __future__ import annotations

import signal
from typing import Callable

import pytest

from pcarn_mobile.errors import run_cli


def cli_error(main: Callable[[list[str] | None], int | None], argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Runs ``main`` as its CLI does; asserts exit 2 and exactly one ``error:`` line, no traceback."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        run_cli(main, argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def default_signals() -> None:
    """``preexec_fn`` for a child that a test interrupts: Ctrl-C back to its default disposition.

    A shell starts background jobs with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler, so a suite run with ``&`` (or under nohup from a script) would see
    the child finish instead of being interrupted: the test would measure how it was launched.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
