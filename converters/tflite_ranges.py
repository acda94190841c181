"""The range each activation of a float TFLite file is quantized over: calibration statistics and the rules on them.

The float model is run on the calibration crops (any size: every op is shape-agnostic, so small
crops calibrate a large static model at a fraction of the cost) and each activation's range is
estimated from the crops' own extremes (:data:`RANGE_QUANTILE`). Then: the input, and what the graph computes from it alone on its grid (the ones of a
mean shift moved into the entry conv), keep the input's [0, 1]; tensors that only feed the output
clamp get the clamp's own [0, 1] (the int8 conv then saturates exactly where the clamp would, at
full output resolution); concatenation ranges are narrowed and tied together where int8 needs one
scale (:data:`CONCAT_RANGE`; without that the quantizer inserts a requantizing QUANTIZE op
mid-graph).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .tflite_tensors import ActivationProbe, constant_tensors

#: Calibrated ranges of CONCATENATION outputs are narrowed by this factor. int8 ties every
#: concatenation to one scale shared by its inputs, and concatenations that share an input or
#: feed one another (PCARN's local and global cascades) to one common scale, so their range is
#: the union of many tensors', set by a few extreme channels; narrowing it trades rare clipping
#: for resolution everywhere else. Chosen on Set5 x4 and checked on Set14 x4 (authors'
#: PCARN-M-L1): x1.0 31.831 / 28.404 dB, x0.85 31.848 / 28.406, x0.75 31.849 / 28.411,
#: x0.7 31.844 / 28.413. Other tensors are best at plain min/max (residual ADDs at x0.85: -0.9 dB).
CONCAT_RANGE = 0.75

#: Ops through which a tensor reaches the output only via the [0, 1] clamp: the clamp's own ops, and
#: DEPTH_TO_SPACE, which moves values without changing them (after the sub-pixel exit conv it sits
#: between that conv and the clamp; int8 gives its input and output one scale anyway).
_CLAMP_OPS = frozenset({"RELU", "MINIMUM", "MAXIMUM", "RELU_0_TO_1", "DEPTH_TO_SPACE"})


def _clamp_chain(model) -> set[int]:
    """The output tensor and the tensors that reach it only through clamp ops (RELU, MINIMUM, ...) and
    value-preserving ones (DEPTH_TO_SPACE)."""
    from tensorflow.lite.tools import flatbuffer_utils

    sg = model.subgraphs[0]
    producer = {o: op for op in sg.operators for o in op.outputs}
    chain, tensor = set(), int(sg.outputs[0])
    while True:
        chain.add(tensor)
        op = producer.get(tensor)
        if op is None or flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) not in _CLAMP_OPS:
            return chain
        tensor = int(op.inputs[0])


#: Ops through which a tensor computed from the input alone stays on the input's [0, 1] grid: the ones
#: of an offset moved into the entry conv (:mod:`converters.onnx_offset`) and their concatenation with
#: the input; int8 then gives the conv the input bytes themselves.
_INPUT_OPS = frozenset({"MAXIMUM", "MINIMUM", "CONCATENATION"})


def _input_chain(model) -> set[int]:
    """The input tensor and the tensors computed from it (and constants) by :data:`_INPUT_OPS` alone."""
    from tensorflow.lite.tools import flatbuffer_utils

    sg = model.subgraphs[0]
    constant = constant_tensors(model)
    chain = {int(sg.inputs[0])}
    for op in sg.operators:  # operators are stored in execution order
        inputs = [int(i) for i in op.inputs if i >= 0 and int(i) not in constant]
        if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) in _INPUT_OPS and inputs and set(inputs) <= chain:
            chain.update(int(o) for o in op.outputs)
    return chain


#: Each tensor's range ends are these quantiles of the samples' own minima and maxima, not the
#: extremes of all samples. One crop with a rare feature (a specular highlight in scikit-image's
#: ``coffee``) reaches 3 to 5x the activations of every other crop; with plain min/max over 24
#: crops whether such a crop was drawn decides the grids, and the int8 file's drop with them
#: (PCARN-M-L1 x4, seven calibration seeds: Set5 0.021 to 0.113 dB). 0.96 is where the largest of
#: 24 crops falls on average (1 - 1/25), so over many crops (``convert`` takes 192) the ranges
#: are what 24 crops give, without their variance (docs/int8-quality.md).
RANGE_QUANTILE = 0.96


@dataclass
class ActivationStats:
    """Per activation tensor: its (min, max) range, from quantiles of the samples' extremes, and the per-channel mean (last axis)."""

    ranges: dict[int, tuple[float, float]]
    channel_means: dict[int, np.ndarray]


def activation_stats(float_model: bytes, samples: Iterable[np.ndarray], quantile: float = RANGE_QUANTILE) -> ActivationStats:
    """Ranges and channel means of every activation tensor of ``float_model`` over ``samples``.

    ``samples`` are NHWC float32 in [0, 1]; the file is run at each sample's own size, by an
    :class:`~converters.tflite_tensors.ActivationProbe`. A range runs from the ``1 - quantile``
    quantile of the samples' minima to the ``quantile`` quantile of their maxima
    (:data:`RANGE_QUANTILE`; 1.0 gives plain min/max).
    """
    probe = ActivationProbe(float_model)
    tensors = probe.tensors
    lows: dict[int, list[float]] = {i: [] for i in tensors}
    highs: dict[int, list[float]] = {i: [] for i in tensors}
    sums: dict[int, np.ndarray] = {}
    pixels = 0
    for sample in samples:
        values = probe.run(sample)
        pixels += sample.shape[1] * sample.shape[2]
        for i in tensors:
            v = values[i]
            lows[i].append(float(v.min()))
            highs[i].append(float(v.max()))
            # Sum per channel, weighted so that tensors at any resolution average over the same images.
            channel_sum = v.reshape(-1, v.shape[-1]).mean(axis=0) * (sample.shape[1] * sample.shape[2])
            sums[i] = sums.get(i, 0) + channel_sum
    if not pixels:
        raise ValueError("no calibration samples")
    ranges = {i: (float(np.quantile(lows[i], 1.0 - quantile)), float(np.quantile(highs[i], quantile))) for i in tensors}
    return ActivationStats(ranges, {i: sums[i] / pixels for i in tensors})


def _same_scale_concats(concat_ops) -> list[set[int]]:
    """Concatenation outputs the MLIR quantizer ties to one grid: linked by a shared input or by feeding one another."""
    groups: list[tuple[set[int], set[int]]] = []  # (all tensors touched, outputs)
    for op in concat_ops:
        touched, outputs = {int(i) for i in op.inputs} | {int(op.outputs[0])}, {int(op.outputs[0])}
        for g in [g for g in groups if g[0] & touched]:
            groups.remove(g)
            touched |= g[0]
            outputs |= g[1]
        groups.append((touched, outputs))
    return [outputs for _, outputs in groups if len(outputs) > 1]


def tied_ranges(model, ranges: dict[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """``ranges`` with each group of concatenations the quantizer ties on the union of their ranges.

    What the quantizer is given: on tied ranges it propagates one grid through each group and
    inserts nothing mid-graph; :func:`~converters.tflite_requantize.untie_concatenations` then
    puts each tensor back on its own range.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    concat_ops = [op for op in model.subgraphs[0].operators
                  if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) == "CONCATENATION"]
    tied = dict(ranges)
    for group in _same_scale_concats(concat_ops):
        lo, hi = min(ranges[o][0] for o in group), max(ranges[o][1] for o in group)
        tied.update({o: (lo, hi) for o in group})
    return tied


def quantized_ranges(model, stats: ActivationStats, tie_concatenations: bool = True) -> dict[int, tuple[float, float]]:
    """The (min, max) each activation tensor of ``model`` (a flatbuffer object) is quantized over.

    The input (and what :func:`_input_chain` computes from it) and the clamp chain are pinned to
    [0, 1]; concatenation outputs are narrowed by
    :data:`CONCAT_RANGE`; concatenations the quantizer ties share the union of their ranges (the
    default file), or, with ``tie_concatenations`` False, every tensor keeps its own calibrated
    range (:mod:`converters.tflite_requantize` then requantizes concatenation inputs); every
    range contains 0 (an int8 zero point must be representable).
    """
    from tensorflow.lite.tools import flatbuffer_utils

    sg = model.subgraphs[0]
    pinned = _clamp_chain(model) | _input_chain(model)
    concat = {int(op.outputs[0]) for op in sg.operators
              if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) == "CONCATENATION"}
    out = {}
    for i, (lo, hi) in stats.ranges.items():
        if i in pinned:
            lo, hi = 0.0, 1.0
        elif i in concat:
            lo, hi = lo * CONCAT_RANGE, hi * CONCAT_RANGE
        out[i] = (min(lo, 0.0), max(hi, 0.0))
    return tied_ranges(model, out) if tie_concatenations else out
