"""One kind of error a user can act on, and the wrapper that turns it into one line and exit 2.

Library code raises :class:`UserError` with a message that says what to do; every CLI's
``main`` is wrapped by :func:`run_cli`, so a user never sees a traceback for bad input.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn


class UserError(Exception):
    """Bad input or environment, with a one-line message that tells the user what to change."""


class CliParser(argparse.ArgumentParser):
    """argparse whose errors (unknown flag, bad value) are one ``error: ...`` line and exit 2 too,
    instead of argparse's usage block: the same shape as every other bad input."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise UserError(f"{message} (see --help)")


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> NoReturn:
    """Runs a CLI ``main``; a :class:`UserError` becomes ``error: <message>`` on stderr and exit 2."""
    try:
        code = main(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
