"""The TFLite target: a dynamic-size ONNX through onnx2tf, then fp32, fp16 (float16 weights) and full-integer int8.

Every file gets the project's tensor names and a ``serving_default`` signature
(:func:`converters.tflite.name_io`), so an app addresses ``lr`` and ``sr`` in every precision.
"""
from __future__ import annotations

import shutil
import time
from functools import partial
from typing import Any

from converters.onnx_export import export_onnx
from converters.onnx_runner import load_runner as load_onnx_runner
from converters.tflite import delegate_violations, float_tflite, name_io, onnx_to_keras, quantize_int8, summarize
from converters.tflite_ranges import CONCAT_RANGE, RANGE_QUANTILE
from converters.tflite_runner import load_runner

from ..fileio import write_bytes
from ..models.stages import conv_calls
from ..tiling import TorchRunner
from .calibration import random_crops
from .job import UNIT_RANGE, Artifact, Job
from .parity import parity_crops, parity_on_photos, set_name
from .sensitivity import SIDECAR_TOP, int8_sensitivity

CALIBRATION_METHOD = (f"ranges from the crops' own minima and maxima at quantiles {1 - RANGE_QUANTILE:.2g} / {RANGE_QUANTILE:g} (input and output clamp "
                      f"pinned to [0, 1], concatenations tied x{CONCAT_RANGE}), bias correction, per-channel int8 weights, GPTQ-rounded "
                      "dense convs")


def export(job: Job) -> list[Artifact]:
    plan = job.plan
    scratch = job.workdir / "tflite-scratch"
    scratch.mkdir()
    onnx_path = scratch / "dynamic.onnx"
    t = time.perf_counter()
    _, shaping = export_onnx(job.module, onnx_path, None, expand_groups=plan.expand_groups)
    # The intermediate ONNX in ONNX Runtime against PyTorch, before onnx2tf sees it.
    onnx_parity = parity_on_photos(load_onnx_runner(onnx_path), TorchRunner(job.module, job.scale), parity_crops((64, 64), 1))
    t = job.lap("torch -> onnx", t)
    keras_model = onnx_to_keras(onnx_path, scratch)
    t = job.lap("onnx2tf (incl. TensorFlow import)", t)
    sizes = plan.tflite_sizes or (plan.input_size,)
    files: dict[tuple[tuple[int, int] | None, str], bytes] = {}
    calibration = None
    for size in sizes:
        # One Keras model, any number of input shapes: each static file is its own conversion.
        tag = f" {job.shape_tag(size)}" if len(sizes) > 1 else ""
        fp32 = files[size, "fp32"] = float_tflite(keras_model, size)
        t = job.lap(f"fp32{tag}", t)
        if "fp16" in plan.precisions["tflite"]:
            files[size, "fp16"] = float_tflite(keras_model, size, fp16=True)
            t = job.lap(f"fp16{tag}", t)
        if "int8" in plan.precisions["tflite"]:
            photos = job.calibration
            assert photos is not None, "the run loads the calibration photos before converting"
            crops = random_crops(photos.images, plan.calib_count)
            files[size, "int8"] = quantize_int8(fp32, crops, io=plan.io)
            t = job.lap(f"int8 (calibration + quantization){tag}", t)
            if calibration is None:
                calibration = photos.describe(plan.calib_count, CALIBRATION_METHOD)
                if plan.int8_sensitivity:  # ranges do not depend on the shape: measured once, on the first
                    assert job.pairs is not None, "the plan refuses --int8-sensitivity without --parity-data"
                    stages = [c.stage for c in conv_calls(job.module.model, job.scale)]
                    calibration["sensitivity"] = int8_sensitivity(fp32, crops, job.pairs, job.scale, stages,
                                                                  set_name(plan.parity_data or ""), top=SIDECAR_TOP)
                    t = job.lap("int8 sensitivity", t)
    shutil.rmtree(scratch)
    artifacts = []
    for size in sizes:
        for precision in plan.precisions["tflite"]:
            artifacts.append(_artifact(job, size, precision, files[size, precision], shaping, onnx_parity, calibration))
    return artifacts


def _artifact(job: Job, size: tuple[int, int] | None, precision: str, data: bytes, shaping: dict[str, Any],
              onnx_parity: dict[str, Any], calibration: dict[str, Any] | None) -> Artifact:
    """One TFLite file written into the staging folder and described for the sidecar."""
    plan = job.plan
    io_tag = [f"{plan.io}io"] if precision == "int8" and plan.io != "int8" else []
    path = job.workdir / job.name(job.shape_tag(size), precision, *io_tag)
    data = name_io(data)
    write_bytes(path, data)
    summary = summarize(data)
    problems = delegate_violations(summary, precision)
    graph = {
        "ops": dict(sorted(summary.ops.items())), "max_rank": summary.max_rank,
        "internal_requantize": summary.requantize, "delegate_ready": not problems, "problems": problems,
        "signature": "serving_default", "shaping": shaping,
    }
    tensors = [{**t, "range": UNIT_RANGE} for t in (summary.inputs[0], summary.outputs[0])]
    return Artifact(
        path, job.fmt, precision, precision, size, partial(load_runner, path), *tensors, graph,
        extra={"calibration": calibration} if precision == "int8" else {},
        parity={"intermediate_onnx": onnx_parity},
    )
