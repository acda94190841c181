"""Training data: HR folders -> cached bicubic LR -> random augmented patch batches.

LR images are made once per image and scale at start-up with the project's MATLAB-compatible
bicubic (the same operator that made the standard Set5/Set14 LR images), because on a small
machine re-running it per patch would cost more than the network. Patches are drawn with a
``torch.Generator`` whose state is part of the checkpoint: a resumed run draws exactly the
batches the uninterrupted run would have drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..bicubic import downscale
from ..data import IMAGE_EXTENSIONS, require_folder, to_rgb_u8
from ..errors import UserError
from ..imageio import read_image

def list_images(folders: list[str | Path]) -> list[Path]:
    """Every image in ``folders`` (not recursive), sorted so the order is the same on every machine."""
    files: list[Path] = []
    for folder in folders:
        folder = require_folder(folder, "training folder")
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not found:
            raise UserError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in training folder {folder}")
        files.extend(found)
    return files


@dataclass
class ScalePairs:
    """HR crops and their LR images for one scale, only images large enough for one patch."""

    scale: int
    hr: list[np.ndarray]
    lr: list[np.ndarray]
    weights: torch.Tensor  # sampling probability per image, proportional to LR area


class PatchSampler:
    """Draws batches of (LR, HR) patches: one scale per batch, random crop, flips and 90-degree turns.

    Two generators: ``scale_gen`` is seeded identically on every DDP rank so that all ranks
    train the same upsampler in a step; ``patch_gen`` is offset by the rank so that each rank
    sees different patches (what ``DistributedSampler`` does for map-style datasets).
    """

    def __init__(
        self,
        folders: list[str | Path],
        scales: tuple[int, ...],
        patch: int,
        batch: int,
        seed: int,
        rank: int = 0,
    ) -> None:
        self.scales, self.patch, self.batch = tuple(scales), patch, batch
        self.files = list_images(folders)
        images = [to_rgb_u8(read_image(p)) for p in self.files]
        self.pairs: dict[int, ScalePairs] = {}
        for s in self.scales:
            hr_list, lr_list, areas = [], [], []
            for img in images:
                h, w = img.shape[:2]
                if h // s < patch or w // s < patch:
                    continue
                lr = downscale(img, s)
                hr_list.append(img[: lr.shape[0] * s, : lr.shape[1] * s])
                lr_list.append(lr)
                areas.append(float(lr.shape[0] * lr.shape[1]))
            if not hr_list:
                raise UserError(
                    f"no training image is large enough for a {patch}px LR patch at x{s} "
                    f"(needs {patch * s}px HR); pass a smaller --patch"
                )
            self.pairs[s] = ScalePairs(s, hr_list, lr_list, torch.tensor(areas, dtype=torch.float64))
        self.scale_gen = torch.Generator().manual_seed(seed)
        self.patch_gen = torch.Generator().manual_seed(seed * 1000 + 7919 * (rank + 1))

    @property
    def n_images(self) -> int:
        return len(self.files)

    def next_batch(self) -> tuple[int, torch.Tensor, torch.Tensor]:
        """One batch: (scale, LR float32 Bx3xPxP in [0,1], HR float32 Bx3x(sP)x(sP))."""
        idx = int(torch.randint(len(self.scales), (1,), generator=self.scale_gen))
        scale = self.scales[idx]
        pairs, p = self.pairs[scale], self.patch
        picks = torch.multinomial(pairs.weights, self.batch, replacement=True, generator=self.patch_gen)
        lr_batch = np.empty((self.batch, p, p, 3), np.uint8)
        hr_batch = np.empty((self.batch, p * scale, p * scale, 3), np.uint8)
        for b, i in enumerate(picks.tolist()):
            lr, hr = pairs.lr[i], pairs.hr[i]
            y = int(torch.randint(lr.shape[0] - p + 1, (1,), generator=self.patch_gen))
            x = int(torch.randint(lr.shape[1] - p + 1, (1,), generator=self.patch_gen))
            lr_p = lr[y : y + p, x : x + p]
            hr_p = hr[y * scale : (y + p) * scale, x * scale : (x + p) * scale]
            flip, turns = (int(v) for v in torch.randint(0, 4, (2,), generator=self.patch_gen))
            if flip & 1:
                lr_p, hr_p = lr_p[:, ::-1], hr_p[:, ::-1]
            lr_batch[b] = np.rot90(lr_p, turns)
            hr_batch[b] = np.rot90(hr_p, turns)
        return scale, _to_tensor(lr_batch), _to_tensor(hr_batch)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"scale_gen": self.scale_gen.get_state(), "patch_gen": self.patch_gen.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.scale_gen.set_state(state["scale_gen"])
        self.patch_gen.set_state(state["patch_gen"])


def _to_tensor(batch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
