"""The command-line options that choose a network, shared by every CLI that runs one.

``--weights`` decides the architecture: a checkpoint says what it holds (arch, groups, scales),
so ``--groups``/``--arch`` are only checks against it (a mismatch is an error naming both),
and ``carn_m.pth`` works with no extra flag. They pick the network only with ``--random-init``.
"""
from __future__ import annotations

import argparse

from .errors import UserError
from .models import ARCHITECTURES, VALID_GROUPS
from .weights import LoadedWeights, resolve_weights

_DEFAULT_ARCH, _DEFAULT_GROUPS = "pcarn_m", 4


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Adds --weights, --random-init, --groups and --arch."""
    parser.add_argument("--weights", metavar="FILE", help="checkpoint: the authors' .pth or this project's .pt "
                        "(default: the embedded default weights)")
    parser.add_argument("--random-init", action="store_true", help="use an untrained network (for testing tools)")
    parser.add_argument("--groups", type=int, choices=VALID_GROUPS, metavar="G",
                        help=f"group count, one of {', '.join(map(str, VALID_GROUPS))} (default: from the "
                        f"checkpoint; {_DEFAULT_GROUPS} with --random-init)")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES),
                        help=f"architecture (default: from the checkpoint; {_DEFAULT_ARCH} with --random-init)")


def model_from_args(args: argparse.Namespace, scale: int) -> LoadedWeights:
    """The network the options describe, with its weights, able to run at ``scale``."""
    if args.weights or not args.random_init:
        # None means "whatever the checkpoint holds"; a given value is checked against it.
        return resolve_weights(args.weights, args.random_init, groups=args.groups, scale=scale,  # type: ignore[arg-type]
                               arch=args.arch)  # type: ignore[arg-type]
    try:
        return resolve_weights(None, True, groups=args.groups or _DEFAULT_GROUPS, scale=scale,
                               arch=args.arch or _DEFAULT_ARCH)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def describe(loaded: LoadedWeights) -> str:
    """One line naming the network and where its weights came from."""
    h = loaded.header
    return f"{h.arch} groups={h.groups} scales={'/'.join(f'x{s}' for s in h.scales)} weights={loaded.source}"
