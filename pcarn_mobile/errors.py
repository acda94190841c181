"""One kind of error a user can act on, and the wrapper that turns it into one line and an exit code.

Library code raises :class:`UserError` with a message that says what to do; every CLI's
``main`` is wrapped by :func:`run_cli`, so a user never sees a traceback for bad input.
Interruptions end the same way everywhere: Ctrl-C exits 130 and SIGTERM (a cancelled CI job,
``docker stop``) exits 143, each after the ``finally`` blocks on the way out have removed
whatever the command had only half built.
"""
from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import Callable, NoReturn


class UserError(Exception):
    """Bad input or environment, with a one-line message that tells the user what to change."""


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that cleanup runs as it does for Ctrl-C."""


class CliParser(argparse.ArgumentParser):
    """argparse whose errors (unknown flag, bad value) are one ``error: ...`` line and exit 2 too,
    instead of argparse's usage block: the same shape as every other bad input."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise UserError(f"{message} (see --help)")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> NoReturn:
    """Runs a CLI ``main``: :class:`UserError` -> ``error: <message>`` on stderr and exit 2;
    Ctrl-C -> exit 130; SIGTERM -> exit 143."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        print("terminated", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code or 0)


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (its type name when it has none), for one-line errors."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else type(exc).__name__
