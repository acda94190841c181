"""Image sizes as users type them (``180x320``), parsed in one place for every CLI.

Kept free of torch so that tools which only read files (the latency harnesses) start fast.
"""
from __future__ import annotations

import re

from .errors import UserError

_HW = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_hw(text: str | None, option: str = "--input-size") -> tuple[int, int]:
    """``"180x320"`` -> (180, 320); anything else is a :class:`UserError` naming ``option``."""
    match = _HW.match(text or "")
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise UserError(f"{option} {text!r}: expected a positive HEIGHTxWIDTH such as 180x320")
    return int(match[1]), int(match[2])
