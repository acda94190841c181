"""The Core ML target: ML Program packages (fp16/fp32, optional int8 / 6-bit palettized weights), image I/O by default.

Packages come from ``converters.coreml`` (which never imports this package); each is handed
back with a runner that executes the SAVED package with the NumPy MIL evaluator
(``converters.coreml_runner``), so parity measures what an app would load. On macOS the real
``MLModel.predict`` is measured too and reported beside it.
"""
from __future__ import annotations

import time
from collections import Counter
from functools import partial
from typing import Any

from converters import coreml as cm
from converters.coreml_eval import coverage
from converters.coreml_package import read_package
from converters.coreml_runner import BACKENDS, load_runner

from .. import __version__
from ..tiling import TorchRunner
from .job import UNIT_RANGE, Artifact, Job
from .options import CoreMLPlan
from .parity import parity_crops, parity_on_photos


def shape_spec(plan: CoreMLPlan) -> cm.ShapeSpec:
    return cm.ShapeSpec(size=plan.size, sizes=plan.sizes, range=plan.range)


def _shape_tag(plan: CoreMLPlan) -> str:
    if plan.size is not None:
        return f"{plan.size[0]}x{plan.size[1]}"
    if plan.sizes:
        return "-".join(f"{h}x{w}" for h, w in plan.sizes)
    return "dyn"


def _tensors(plan: CoreMLPlan, scale: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Input and output as the sidecar lists them (shape (1, 3, H, W); -1 where the size may vary)."""
    h, w = plan.size or (-1, -1)
    sizes: dict[str, Any] = {"sizes": [list(s) for s in plan.sizes]} if plan.sizes else (
        {"size_range": list(plan.range)} if plan.range else {})
    if plan.image_io:
        kind: dict[str, Any] = {"dtype": "uint8", "layout": "image", "color": "RGB", "range": [0, 255]}
    else:
        kind = {"dtype": "float32", "layout": "NCHW", "range": UNIT_RANGE}
    up = (lambda n: n * scale if n > 0 else n)
    return ({"name": cm.INPUT_NAME, "shape": [1, 3, h, w], **kind, "quantization": None, **sizes},
            {"name": cm.OUTPUT_NAME, "shape": [1, 3, up(h), up(w)], **kind, "quantization": None, "clamped": True})


def export(job: Job) -> list[Artifact]:
    """Every package of the plan (``--ios-demo``: the enumerated one for the Neural Engine and the range one
    for CPU/GPU, one conversion each per precision)."""
    assert job.plan.coreml is not None
    return [a for package in job.plan.coreml.packages() for a in _export(job, package)]


def _export(job: Job, plan: CoreMLPlan) -> list[Artifact]:
    h = job.weights.header
    info = cm.PackageInfo(
        scale=job.scale, groups=h.groups,
        short_description=f"{h.arch.upper().replace('_', '-')} x{job.scale} super-resolution (groups {h.groups})",
        author="pcarn-mobile (network: Ahn et al., PCARN)", license="MIT", version=__version__,
        user_defined={"arch": h.arch, "weights": job.weights.file_name or "random-init",
                      "weights_sha256": job.weights.sha256 or "random-init"},
    )
    tags = (["tensorio"] if not plan.image_io else []) + ([f"ios{plan.min_ios}"] if plan.min_ios != 16 else [])

    def name(precision: str, compress: str) -> str:
        return job.name(_shape_tag(plan), precision, *([compress] if compress != "none" else []), *tags)

    since = [time.perf_counter()]
    assert job.plan.coreml is not None
    tag = f"{_shape_tag(plan)} " if job.plan.coreml.demo_range else ""  # which package, where a run writes two

    def lap(stage: str) -> None:
        since[0] = job.lap(f"{tag}{stage}", since[0])

    shape = shape_spec(plan)
    variants = cm.export_variants(job.module, job.workdir, name, info, shape=shape, precisions=job.plan.precisions["coreml"],
                                  compressions=plan.compressions, image_io=plan.image_io, min_ios=plan.min_ios, lap=lap)
    input_size = plan.size or (plan.sizes[0] if plan.sizes else None)
    tensors = _tensors(plan, job.scale)
    artifacts = []
    for v in variants:
        histogram = Counter(op.type for op in read_package(v.path).block.operations)
        graph = {
            "model_type": "mlprogram", "minimum_deployment_target": f"iOS{plan.min_ios}",
            "compute_precision": v.precision, "compress_description": cm.COMPRESSIONS[v.compress],
            "input_sizes": shape.describe(), "ops": dict(sorted(histogram.items())),
            "evaluator_covers_all_ops": all(coverage(v.path).values()),
        }
        artifact = Artifact(v.path, job.fmt, v.precision, v.precision if v.compress == "none" else v.compress,
                            input_size, partial(_runner, v.path), *tensors, graph, extra={"compress": v.compress})
        if "coreml" in BACKENDS:  # pragma: no cover - macOS only: the real Core ML beside the evaluator
            artifact.parity["coreml_predict"] = parity_on_photos(
                load_runner(v.path, backend="coreml"), TorchRunner(job.module, job.scale), parity_crops(input_size))
        artifacts.append(artifact)
    return artifacts


def _runner(path, any_size: bool = False):
    """A package's own shapes decide what it takes, so ``any_size`` changes nothing here."""
    return load_runner(path)
