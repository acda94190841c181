"""The int8 sensitivity report: which tensors cost an int8 file its quality, each quantized alone.

An int8 file's one Y-PSNR drop says nothing about where the loss comes from or what would fix
it. Here the float file is quantized in one place at a time, exactly as the int8 file has it
(:mod:`converters.tflite_sensitivity`: the same calibration crops, ranges and tied
concatenations), and scored on an evaluation set; each tensor's drop is its cost. Tensors are
named by network stage (:mod:`pcarn_mobile.models.stages`) with the latency harness's rule: an
operator belongs to the stage of the convolution at or before it, the input mean shift to ``entry``. Drops do
not add up exactly to the full file's (errors interact), but the ranking says which to fix first.

``convert --int8-sensitivity`` writes the report into the int8 sidecar's ``calibration``
section; ``python -m benchmarks.int8_sensitivity`` prints it for any weights and scale.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from ..data import EvalPair
from ..evaluation import evaluate_runner

#: Tensors the sidecar lists, the most costly first (the report keeps the sums of all).
SIDECAR_TOP = 10


def int8_sensitivity(float_model: bytes, crops: Sequence[np.ndarray], pairs: list[EvalPair], scale: int,
                     stages: list[str], data: str, top: int | None = None) -> dict[str, Any]:
    """The report for ``float_model`` (a float TFLite file of the network at ``scale``) calibrated on
    ``crops`` and scored on ``pairs`` (named ``data``); ``stages``: the stage of the k-th convolution.

    Returns ``{data, images, float_psnr_y, int8_psnr_y, tensors_measured, activations_alone_db,
    weights_alone_db, by_stage: {stage: {activation, weights}}, tensors: [{kind, op_index, op, conv,
    stage, drop_db}]}``, ``tensors`` in execution order, or the ``top`` most costly first.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    from converters import tflite, tflite_ranges
    from converters.tflite_runner import load_runner
    from converters.tflite_sensitivity import probes, variant

    start, stats = tflite.int8_starting_point(float_model, crops)
    ranges = tflite_ranges.quantized_ranges(flatbuffer_utils.convert_bytearray_to_object(start), stats)
    found = probes(float_model, ranges)
    convs = sum(p.kind == "weights" for p in found)  # one per convolution
    if convs != len(stages):
        raise ValueError(f"the file has {convs} convolutions, the network {len(stages)}: cannot name their stages")
    with tempfile.TemporaryDirectory(prefix="pcarn-sensitivity-") as scratch:
        path = Path(scratch) / "variant.tflite"

        def score(model_bytes: bytes) -> float:
            path.write_bytes(model_bytes)
            return float(evaluate_runner(load_runner(path, any_size=True), pairs, scale)["psnr_y"])

        base = score(float_model)
        full = score(tflite.quantize_from_stats(start, stats, io="float"))
        rows, stage = [], stages[0]
        for probe in tqdm(found, desc="int8 sensitivity", unit="tensor", leave=False):
            if probe.conv_number is not None:  # an operator counts to the stage of the conv at or before it
                stage = stages[probe.conv_number]
            rows.append({"kind": probe.kind, "op_index": probe.op_index, "op": probe.op_name, "conv": probe.conv_number,
                         "stage": stage, "drop_db": round(base - score(variant(float_model, probe, start)), 4)})
    by_stage: dict[str, dict[str, float]] = {}
    for r in rows:
        by_stage.setdefault(r["stage"], {"activation": 0.0, "weights": 0.0})[r["kind"]] += r["drop_db"]
    ranked = sorted(rows, key=lambda r: -r["drop_db"])[:top] if top is not None else rows
    return {"data": data, "images": len(pairs), "float_psnr_y": round(base, 4), "int8_psnr_y": round(full, 4),
            "tensors_measured": len(rows),
            "activations_alone_db": round(sum(r["drop_db"] for r in rows if r["kind"] == "activation"), 4),
            "weights_alone_db": round(sum(r["drop_db"] for r in rows if r["kind"] == "weights"), 4),
            "by_stage": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in by_stage.items()},
            "tensors": ranked}
