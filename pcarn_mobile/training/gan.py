"""Stage two's networks: the paper's multi-scale discriminator and a VGG19 feature extractor.

Discriminator (the paper's Figure 1): a stack of conv-BN-LeakyReLU blocks, channel count doubling
as stride-2 blocks halve the resolution, ending in a 1-channel conv and a sigmoid: a map of
real/fake probabilities rather than one number, so it works on any patch size. Three of them
see the image average-pooled by 1, 2 and 4, so that both fine texture and coarser structure are
judged.

VGG19: torchvision is not a dependency, so the ``features`` stack is written out here with
torchvision's layer indices; a user's torchvision ``vgg19`` state dict (``features.N.weight``)
loads into it with ``weights_only=True``. Only the layers up to relu5_4 (phi_5,4) are kept.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import UserError
from ..weights.safeload import UnloadableFile, torch_load

#: torchvision's VGG19 ("E") configuration: conv widths, "M" for 2x2 max pooling.
VGG19_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)
#: ``features[:36]`` ends with the ReLU after conv5_4: phi_5,4.
RELU5_4 = 36
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

#: (out_channels, stride) of the discriminator's conv-BN-LeakyReLU blocks.
DISC_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2),
)


class Discriminator(nn.Module):
    """conv-BN-LeakyReLU(0.2) blocks, then conv to one channel and a sigmoid map."""

    def __init__(self, blocks: tuple[tuple[int, int], ...] = DISC_BLOCKS) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for cout, stride in blocks:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        layers += [nn.Conv2d(cin, 1, 3, 1, 1), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class MultiScaleDiscriminator(nn.Module):
    """Three discriminators on the input average-pooled by 1, 2 and 4; returns their three maps."""

    def __init__(self, pools: tuple[int, ...] = (1, 2, 4)) -> None:
        super().__init__()
        self.pools = pools
        self.discs = nn.ModuleList(Discriminator() for _ in pools)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [d(nn.functional.avg_pool2d(x, k) if k > 1 else x) for d, k in zip(self.discs, self.pools)]


class VGG19Features(nn.Module):
    """VGG19 ``features`` up to relu5_4, on RGB in [0, 1] (ImageNet normalisation inside)."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in VGG19_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(v), 3, 1, 1), nn.ReLU(inplace=True)]
                cin = int(v)
        self.features = nn.Sequential(*layers[:RELU5_4])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std)


def load_vgg19_features(path: str | os.PathLike[str] | None) -> VGG19Features:
    """Builds :class:`VGG19Features` from a torchvision VGG19 state dict file (extra keys ignored)."""
    if not path:
        raise UserError("stage two needs --vgg-weights FILE (a torchvision VGG19 state dict); nothing is downloaded")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--vgg-weights: file not found: {path}")
    try:
        state = torch_load(path)
    except UnloadableFile as exc:
        raise UserError(f"--vgg-weights: {path} is not a loadable state dict ({exc.reason})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    model = VGG19Features()
    wanted = model.state_dict().keys()
    if not isinstance(state, dict) or not all(k in state for k in wanted):
        raise UserError(f"--vgg-weights: {path} is not a torchvision VGG19 state dict (features.N.weight keys missing)")
    try:
        model.load_state_dict({k: state[k] for k in wanted}, strict=True)
    except RuntimeError as exc:
        raise UserError(f"--vgg-weights: {path} does not fit VGG19: {str(exc).splitlines()[0][:160]}") from None
    return model.eval()
