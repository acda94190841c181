"""The ONNX target: opset 17, checked, shaped as for TFLite, at the asked size or dynamic (NCHW float32)."""
from __future__ import annotations

from functools import partial

from converters.onnx_export import export_onnx
from converters.onnx_runner import load_runner

from .job import UNIT_RANGE, Artifact, Job


def _tensor(value) -> dict:
    """A graph input/output as the sidecar lists it; named dynamic dimensions become -1."""
    shape = [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]
    return {"name": value.name, "shape": shape, "dtype": "float32", "layout": "NCHW", "range": UNIT_RANGE,
            "quantization": None}


def export(job: Job) -> list[Artifact]:
    plan = job.plan
    path = job.workdir / job.name(job.shape_tag(plan.input_size), "fp32")
    model, shaping = export_onnx(job.module, path, plan.input_size, expand_groups=plan.expand_groups)
    ops: dict[str, int] = {}
    for node in model.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    graph = {"opset": model.opset_import[0].version, "ops": dict(sorted(ops.items())), "shaping": shaping}
    return [Artifact(path, job.fmt, "fp32", "fp32", plan.input_size, partial(_runner, path),
                     _tensor(model.graph.input[0]), _tensor(model.graph.output[0]), graph)]


def _runner(path, any_size: bool = False):
    """ONNX Runtime takes a static file only at its size, so ``any_size`` changes nothing here."""
    return load_runner(path)
