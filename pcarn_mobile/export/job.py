"""What a format adapter receives (:class:`Job`) and hands back (:class:`Artifact`).

An adapter (``tflite_target``, ``onnx_target``, ``coreml_target``) turns a job into files in
the run's staging folder and describes each: its tensors as the sidecar lists them, its graph,
and a way to run it for parity. Naming, parity, sidecars and moving files into place are the
run's business (:mod:`.run`), the same for every format.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from converters.runner import Runner

from ..data import EvalPair

from ..models import SRDeploy
from ..weights import LoadedWeights
from .calibration import CalibrationSet
from .formats import Format
from .options import Plan

#: Values every [0, 1] float tensor carries; image tensors carry 8-bit pixel values.
UNIT_RANGE = [0.0, 1.0]


@dataclass
class Job:
    """One format's share of a run: the deployment module, the checked options, the staging folder."""

    module: SRDeploy
    weights: LoadedWeights
    plan: Plan
    fmt: Format
    scale: int
    workdir: Path
    calibration: CalibrationSet | None = None  # loaded and checked before any conversion, for int8
    pairs: list[EvalPair] | None = None  # --parity-data, loaded up front (int8 sensitivity scores on it)
    timings: dict[str, float] = field(default_factory=dict)

    def lap(self, stage: str, since: float) -> float:
        """Records the seconds a stage took (into report.json); returns now, for the next stage."""
        now = time.perf_counter()
        self.timings[f"{self.fmt.name}: {stage}"] = round(now - since, 2)
        return now

    def name(self, shape: str, *tags: str) -> str:
        """``{arch}_g{G}_x{S}_{shape}[_dense]_{tags...}{suffix}``: every option that changes the file is in it."""
        h = self.weights.header
        dense = ["dense"] if self.plan.expand_groups and "expand_groups" in self.fmt.flags else []
        return "_".join([h.arch, f"g{h.groups}", f"x{self.scale}", shape, *dense, *tags]) + self.fmt.suffix

    @staticmethod
    def shape_tag(size: tuple[int, int] | None) -> str:
        return f"{size[0]}x{size[1]}" if size else "dyn"


@dataclass
class Artifact:
    """One file a format wrote, while it still sits in the staging folder."""

    path: Path
    fmt: Format
    precision: str
    variant: str  # the key of the format's verdict limits: the precision, or a Core ML compression
    input_size: tuple[int, int] | None  # fixed input (the first of enumerated sizes), None when any size works
    runner: Callable[..., Runner]  # runner(any_size=False) opens the file
    input: dict[str, Any]
    output: dict[str, Any]
    graph: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific sidecar sections (calibration, compress)
    parity: dict[str, Any] = field(default_factory=dict)
    parity_photos: int | None = None  # photo tiles its parity runs (None: parity.PARITY_PHOTOS); fewer for slow runners
    baseline: Artifact | None = None  # the file this one was compiled from (an NPU file's CPU file), compared too
