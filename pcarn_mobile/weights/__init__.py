"""Checkpoint loading and saving: upstream state dicts, the project's own format, the default.

Two formats are read, both with ``torch.load(weights_only=True)`` so that a pickle that needs
code to load is refused rather than executed:

* upstream: a bare state dict as the PCARN/CARN authors released it; the architecture, group
  count and scales are read off the key names and shapes;
* project: ``{"format": FORMAT, "arch", "groups", "scales", "channels", "state_dict", "meta"}``,
  what ``train`` writes and what ships as the embedded default.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import UserError, first_line
from ..fileio import atomic_path, sha256_of
from ..models import MULTI_SCALES, build_model
from .safeload import torch_load

#: Tag of the project's checkpoint format; bump on incompatible changes.
FORMAT = "pcarn-mobile/1"

#: What ``train`` writes as ``last.pt`` (:mod:`pcarn_mobile.training.state`): the optimizer and sampler
#: state ``--resume`` needs, not weights to load; ``best.pt`` beside it is. Named here so that
#: loading weights can tell a user who passes ``last.pt`` which file they meant.
TRAIN_STATE_FORMAT, TRAIN_BEST = "pcarn-mobile-train/1", "best.pt"

#: Public releases recognised by their SHA-256, and what a user loading one should know. The
#: authors' PCARN-M.pth has the same keys and shapes as PCARN-M-L1.pth, and nothing in it says
#: that it is their GAN-stage model.
KNOWN_RELEASES: dict[str, str] = {
    "a7e328d6c87991ec81540d6b0b15723714443d0c276bec0e864aae441ef16a24": (
        "the authors' PCARN-M.pth, their GAN (perceptual) model: textures over fidelity, Set5 x4 29.47 dB; "
        "for their L1 model (31.90 dB) pass PCARN-M-L1.pth"
    ),
}

#: The embedded default for the main job (PCARN-M, groups 4, x2/x3/x4), once training ships it.
DEFAULT_WEIGHTS = Path(__file__).with_name("pcarn_m_g4.pt")
DEFAULT_GROUPS = 4
#: How a user gets weights for another group count (README "Weights for other group counts"):
#: fine-tune the embedded weights, regrouped (train --init with another --groups).
DERIVE_HINT = ("python -m pcarn_mobile.train --groups {groups} --init {default} --data YOUR_HR_PHOTOS "
               "--out runs/g{groups}; see the README's 'Weights for other group counts'")


@dataclass(frozen=True)
class Header:
    """What a checkpoint holds: enough to rebuild the network it belongs to."""

    arch: str
    groups: int
    scales: tuple[int, ...]
    channels: int = 64


@dataclass
class LoadedWeights:
    """A network with its weights loaded, and where they came from (for sidecars and reports)."""

    model: nn.Module
    header: Header
    source: str  # file path, or "random-init"
    sha256: str | None
    kind: str  # "upstream", "project" or "random-init"
    note: str | None = None  # what a user should know about these weights (KNOWN_RELEASES), for sidecars too
    meta: dict[str, Any] = field(default_factory=dict)

    def regrouped(self, groups: int) -> tuple[nn.Module, Header, dict[str, int]]:
        """The same architecture with ``groups`` groups, holding these weights regrouped
        (``models.regroup.regroup_into``: exact for fewer groups, the diagonal blocks for more);
        its header and the regrouping's counts."""
        from ..models.regroup import regroup_into

        h = self.header
        header = Header(h.arch, groups, h.scales, h.channels)
        target = build_model(h.arch, groups, h.scales, h.channels)
        return target, header, regroup_into(self.model, target)

    @property
    def file_name(self) -> str | None:
        """The weights file's name without its folder (what sidecars record), None for random weights."""
        return None if self.kind == "random-init" else Path(self.source).name


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[Header, dict[str, torch.Tensor], dict[str, Any], str]:
    """Reads either format; returns header, state dict, meta and kind ("project" or "upstream").

    Raises :class:`UserError` for anything a user could have passed by mistake.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a checkpoint file (.pth/.pt)")
    if not path.is_file():
        raise UserError(f"weights file not found: {path}")
    obj = torch_load(path)
    if isinstance(obj, dict) and obj.get("format") == TRAIN_STATE_FORMAT:
        raise UserError(f"{path} is a training state ({TRAIN_STATE_FORMAT}) for train --resume, not weights: "
                        f"use {path.parent / TRAIN_BEST}, the run's best weights")
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        try:
            header = Header(obj["arch"], int(obj["groups"]), tuple(int(s) for s in obj["scales"]), int(obj["channels"]))
            state = obj["state_dict"]
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path} has a damaged {FORMAT} header") from None
        return header, state, dict(obj.get("meta") or {}), "project"
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return _infer_header(path, obj), obj, {}, "upstream"
    raise UserError(f"{path} is not a PCARN checkpoint (neither a state dict nor a {FORMAT} file)")


def _infer_header(path: Path, state: dict[str, torch.Tensor]) -> Header:
    """Reads architecture, groups and scales off an upstream state dict's names and shapes."""
    if "b1.b1.conv1.weight" in state and "b1.b1.pw.weight" in state:
        arch = "pcarn_m"
    elif "b1.b1.conv1.weight" in state:
        arch = "pcarn"
    elif "b1.b1.body.0.weight" in state:
        arch = "carn_m"
    else:
        raise UserError(f"{path} is a state dict, but not of PCARN, PCARN-M or CARN-M")
    channels = int(state["entry.weight"].shape[0])
    if "upsample.up.body.0.weight" in state:
        conv = state["upsample.up.body.0.weight"]
        ratio = conv.shape[0] // channels
        n_stages = sum(1 for k in state if k.startswith("upsample.up.body.") and k.endswith(".weight"))
        scales: tuple[int, ...] = (3,) if ratio == 9 else (2**n_stages,)
    else:
        scales = tuple(s for s in (2, 3, 4, 8) if f"upsample.up{s}.body.0.weight" in state)
        conv = state[f"upsample.up{scales[0]}.body.0.weight"]
    groups = channels // int(conv.shape[1])
    return Header(arch, groups, scales, channels)


def load_weights(
    path: str | os.PathLike[str],
    groups: int | None = None,
    scale: int | None = None,
    arch: str | None = None,
) -> LoadedWeights:
    """Loads a checkpoint strictly into a freshly built network.

    ``groups``, ``scale`` and ``arch`` are what the user asked for; a checkpoint that differs
    is refused with both values in the message rather than silently rebuilt.
    """
    header, state, meta, kind = read_checkpoint(path)
    if groups is not None and groups != header.groups:
        raise UserError(f"{path} was trained with groups={header.groups}, but groups={groups} was asked")
    if scale is not None and scale not in header.scales:
        have = ", ".join(f"x{s}" for s in header.scales)
        raise UserError(f"{path} has upsamplers for {have}, but x{scale} was asked")
    if arch is not None and arch != header.arch:
        raise UserError(f"{path} holds a {header.arch} network, but {arch} was asked")
    model = build_model(header.arch, header.groups, header.scales, header.channels)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UserError(f"{path} does not match the {header.arch} network it claims: {first_line(exc)}") from None
    model.eval()
    digest = sha256_of(path)
    note = KNOWN_RELEASES.get(digest)
    if note:
        print(f"note: {path} is {note}", file=sys.stderr)
    return LoadedWeights(model, header, str(path), digest, kind, note=note, meta=meta)


def resolve_weights(
    weights: str | None,
    random_init: bool,
    groups: int = 4,
    scale: int | None = None,
    arch: str = "pcarn_m",
    scales: tuple[int, ...] = MULTI_SCALES,
) -> LoadedWeights:
    """What every CLI calls: ``--weights``, else ``--random-init``, else the embedded default.

    Random weights are only ever used when asked for by name, so a conversion never ships an
    untrained network by accident.
    """
    if weights and random_init:
        raise UserError("--weights and --random-init exclude each other; pass one")
    if weights:
        return load_weights(weights, groups=groups, scale=scale, arch=arch)
    if random_init:
        torch.manual_seed(0)
        model = build_model(arch, groups, scales).eval()
        return LoadedWeights(model, Header(arch, groups, tuple(scales)), "random-init", None, "random-init")
    if not DEFAULT_WEIGHTS.is_file():
        raise UserError(
            "no embedded default weights ship with this version yet: pass --weights FILE "
            "(e.g. the authors' PCARN-M-L1.pth) or accept an untrained network with --random-init"
        )
    if groups is not None and groups != DEFAULT_GROUPS and arch in (None, "pcarn_m"):
        raise UserError(
            f"the embedded weights are PCARN-M groups {DEFAULT_GROUPS}; for groups {groups} derive weights from them "
            f"({DERIVE_HINT.format(groups=groups, default=DEFAULT_WEIGHTS)}), then pass --weights runs/g{groups}/best.pt"
        )
    return load_weights(DEFAULT_WEIGHTS, groups=groups, scale=scale, arch=arch)


def save_checkpoint(
    path: str | os.PathLike[str], model: nn.Module, header: Header, meta: dict[str, Any] | None = None
) -> None:
    """Writes the project format atomically (temporary file in the same folder, then rename)."""
    payload = {
        "format": FORMAT,
        "arch": header.arch,
        "groups": header.groups,
        "scales": list(header.scales),
        "channels": header.channels,
        # No clone: the weight-tied blocks' aliased keys keep sharing one storage, so the file holds
        # the 414,811 parameters once (~1.7 MB, like the upstream files), not 551,131 copies.
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    atomic_torch_save(payload, path)


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` through :func:`~pcarn_mobile.fileio.atomic_path`: never a half file, normal permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
