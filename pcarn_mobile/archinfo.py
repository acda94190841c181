"""Facts about the networks that option parsing needs, importable without torch.

Importing torch takes 1.5-2 s here; a CLI that refuses a wrong path or option before it runs a
network (``evaluate --coreml photo.png``) should answer at once. :mod:`pcarn_mobile.models` and
:mod:`pcarn_mobile.tiling` take these values from here.
"""
from __future__ import annotations

#: Architectures by name (:data:`pcarn_mobile.models.ARCHITECTURES` maps them to their builders).
ARCH_NAMES: tuple[str, ...] = ("pcarn", "pcarn_m", "carn_m")

#: Group counts the 64-channel network accepts: the divisors of 64.
VALID_GROUPS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)

#: LR pixels a PCARN/PCARN-M/CARN-M output pixel depends on, on each side: entry conv (1) +
#: 3 cascading blocks x 3 uses x 2 grouped 3x3 convs (18) + upsampler 3x3s (1 + 1/2 for x4)
#: + exit conv at HR resolution (1/scale), rounded up.
RECEPTIVE_RADIUS = 21

#: Default context per tile side: the receptive radius plus slack.
DEFAULT_OVERLAP = 24

#: Smallest side of a fixed input that tiles can still use: it must exceed twice the overlap.
MIN_TILE_SIDE = 2 * DEFAULT_OVERLAP + 1
