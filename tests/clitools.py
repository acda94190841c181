"""Test helper shared by the CLI tests: bad input must give one `error:` line and exit 2."""
from __future__ import annotations

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
