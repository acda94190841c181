"""Real photos that ship inside an installed dependency (scikit-image), for parity and calibration.

Calibration and parity must see natural-image statistics, never noise, and must work offline:
these files are inside the scikit-image wheel, so nothing is downloaded.
"""
from __future__ import annotations

import numpy as np
import skimage.data

#: Colour photographs bundled with scikit-image (no network fetch needed).
PHOTO_NAMES: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "hubble_deep_field")


def sample_photos() -> list[tuple[str, np.ndarray]]:
    """The bundled colour photos as (name, uint8 HxWx3 RGB) pairs, in a fixed order."""
    photos = []
    for name in PHOTO_NAMES:
        img = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
        photos.append((name, np.ascontiguousarray(img[..., :3], dtype=np.uint8)))
    return photos
