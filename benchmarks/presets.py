"""The frames the host benchmarks run (``--preset``): named ones and HEIGHTxWIDTH."""
from __future__ import annotations

import re

from pcarn_mobile.errors import UserError
from pcarn_mobile.sizes import parse_hw

#: Preset -> (LR frame (H, W), the scale it is named for). 720p-x4 is the paper's timing setting.
PRESETS: dict[str, tuple[tuple[int, int], int | None]] = {
    "720p-x4": ((180, 320), 4), "1080p-x3": ((360, 640), 3), "tile128": ((128, 128), None)}


def parse_preset(text: str) -> tuple[tuple[int, int], int | None]:
    """``--preset`` -> (LR frame (H, W), the scale it is named for or None)."""
    if text in PRESETS:
        return PRESETS[text]
    if re.fullmatch(r"\s*\d+\s*[xX]\s*\d+\s*", text):
        return parse_hw(text, "--preset"), None
    raise UserError(f"--preset {text!r}: unknown; choose {', '.join(PRESETS)} or HEIGHTxWIDTH such as 180x320")
