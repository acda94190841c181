"""``train --config FILE``: a whole run, schedule changes included, as one TOML file.

A run whose step decay was changed on ``--resume`` (or whose weight average was switched on part
way) used to be reproducible only as a chain of ``train`` calls, each stopping where the next
change came. The file says the same once::

    groups = 4
    lr = 0.001
    decay_every = 1000
    steps = 33000
    [[schedule]]
    at = 86
    decay_every = 300
    [[schedule]]
    at = 6819
    ema = 0.999

Top-level keys are ``train``'s options (``decay_every`` for ``--decay-every``); ``schedule`` lists
the changes by step. ``train`` runs the chain itself, in one process: each segment is the very
``--resume`` call it stands for (same code path, same saved state in between), so the run is the
one the chain made, step for step. Options on the command line win over the file; machine paths
(``data``, ``val``, ``out``) belong on the command line, relative to where it runs.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import UserError

#: What a ``[[schedule]]`` entry may change from its step on (what ``--resume`` accepts).
CHANGES: tuple[str, ...] = ("decay_every", "gamma", "ema")


def read_recipe(path: str | Path, known: set[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(options, schedule changes sorted by step) of a recipe file; ``known``: the option names ``train`` takes."""
    try:
        doc = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise UserError(f"--config {path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"--config {path}: not valid TOML ({exc})") from None
    schedule = doc.pop("schedule", [])
    unknown = sorted(set(doc) - known)
    if unknown:
        raise UserError(f"--config {path}: unknown option {unknown[0]!r} (options are train's, e.g. decay_every)")
    if not isinstance(schedule, list) or not all(isinstance(c, dict) for c in schedule):
        raise UserError(f"--config {path}: 'schedule' must be a list of [[schedule]] tables")
    for change in schedule:
        at, rest = change.get("at"), set(change) - {"at"}
        if not isinstance(at, int) or at <= 0 or not rest or rest - set(CHANGES):
            raise UserError(f"--config {path}: each [[schedule]] needs a step 'at' > 0 and one or more of "
                            f"{', '.join(CHANGES)} (got {change})")
    schedule = sorted(schedule, key=lambda c: c["at"])
    steps = [c["at"] for c in schedule]
    if len(set(steps)) != len(steps):
        raise UserError(f"--config {path}: two [[schedule]] entries at the same step")
    return doc, schedule


def as_argv(options: dict[str, Any]) -> list[str]:
    """``{"decay_every": 300, "scales": [2, 3]}`` -> ``["--decay-every", "300", "--scales", "2,3"]``."""
    argv: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv += [flag] if value else []
        elif key == "scales":
            argv += [flag, ",".join(str(v) for v in value)]
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def segments(base: list[str], cli: list[str], schedule: list[dict[str, Any]], steps: int | None) -> list[list[str]]:
    """The chain of train calls the file stands for: ``base`` options then ``cli`` (which win), stopping at each
    change; each later call is ``--resume`` with that change and ``cli``. ``steps``: the run's total."""
    if not schedule:
        return [base + cli]
    if steps is not None and steps <= schedule[-1]["at"]:
        raise UserError(f"--steps {steps} ends before the last [[schedule]] change (at step {schedule[-1]['at']})")
    stops = [c["at"] for c in schedule] + [steps]
    calls = [base + cli + ["--steps", str(stops[0])]]
    for change, stop in zip(schedule, stops[1:]):
        tail = ["--steps", str(stop)] if stop is not None else []
        calls.append(["--resume", *as_argv({k: v for k, v in change.items() if k != "at"}), *cli, *tail])
    return calls
