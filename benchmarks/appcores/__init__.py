"""The demo apps' own plain-language cores, built and run on this machine (no phone, no IDE).

``kotlin`` compiles the Android app's plain-Kotlin core with Kotlin 2.x and runs it on the JVM;
``swift`` builds the iOS app's Foundation-only Swift package with Swift 6 in its Debian root.
Benchmarks and tests ask these cores for their answers (tile plans, quantized pixels) instead of
trusting a Python copy of the apps' logic. Each module offers the same calls:

- ``tile_plans(cases) -> list[dict]``: per case ``{"height", "width", "overlap"}`` plus either
  ``"shapes": [[h, w], ...]`` (fixed input shapes) or ``"max_area": int`` (a resizable model), the
  core's answer ``{"shape": [th, tw], "tiles": int, "computed": int}`` or ``{"error": str}``;
- :class:`Unavailable` when the toolchain is not installed, with the set-up command in its message.
"""
from __future__ import annotations


class Unavailable(RuntimeError):
    """The core's toolchain is not installed here; the message is one line naming the set-up command."""
