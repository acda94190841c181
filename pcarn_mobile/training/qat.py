"""Quantization-aware fine-tuning that fake-quantizes exactly where, and on the grids, the int8 file does.

Post-training int8 loses most at x2 in a handful of activations (docs/int8-quality.md); the float
weights can learn to live with those grids if training sees them. Rather than re-deriving from
the network which tensors TFLite quantizes (fused ReLUs, tied concatenation scales propagated
onto their inputs, the clamp chain pinned to [0, 1], the mean shifts moved into the entry and exit
convs, the global residual folded into ``c3``),
this module asks the file:

1. the network is converted as ``convert`` does it (dynamic fp32 TFLite, then int8 calibrated on
   the default calibration crops), once per scale, from the starting weights;
2. the float file is run on one photo crop with every activation as an output, the PyTorch
   graph (``torch.fx``) on the same crop, and each TFLite activation is matched to the PyTorch
   nodes that compute the same values;
3. a fake-quant (int8, the int8 file's own scale and zero point for that tensor) goes after each
   matched node, and every trained conv computes with its weights on TFLite's per-channel
   symmetric int8 grid (straight-through gradients for both).

The ranges stay fixed during training (the file's calibration, from the starting weights), and
the checkpoint is written with its weights already on the int8 grid (:func:`on_int8_grid`), so
the converter's rounding is exact and its bias correction has nothing to correct: the int8 file
computes what was trained.
"""
from __future__ import annotations

import copy
import operator
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from ..models import SRDeploy

#: int8 activation limits (TFLite's asymmetric int8) and the symmetric weight limit.
QMIN, QMAX, WMAX = -128, 127, 127
#: A PyTorch node matches a TFLite tensor when they differ by at most this, relative to the tensor's largest value.
MATCH_TOLERANCE = 1e-3
#: Side of the photo crop the matching runs on.
PROBE_SIDE = 40


class FakeQuantConv(nn.Module):
    """A conv computing with its weights fake-quantized per output channel (``max|w| / 127``), sharing them."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv._conv_forward(x, int8_weight(self.conv.weight), self.conv.bias)


def int8_weight(w: torch.Tensor) -> torch.Tensor:
    """``w`` on TFLite's per-output-channel symmetric int8 grid, with a straight-through gradient."""
    scale = (w.detach().abs().amax(dim=tuple(range(1, w.dim()))) / WMAX).clamp_min(1e-12)
    zero = torch.zeros_like(scale, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -WMAX, WMAX)


class FakeQuantOffsetConv(nn.Module):
    """The entry conv as the file computes it: the mean shift in front of it moved in as input channels of
    ones (:mod:`converters.onnx_offset`), ``conv(cat(x, 1))`` with ``[W, W * shift]`` on one int8 grid per
    output channel. Reads the image itself, not the shifted one."""

    def __init__(self, conv: nn.Conv2d, shift: nn.Conv2d) -> None:
        super().__init__()
        self.conv, self.shift = conv, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.conv.weight
        joined = torch.cat([w, w * self.shift.bias.detach().view(1, -1, 1, 1)], 1)
        return self.conv._conv_forward(torch.cat([x, torch.ones_like(x)], 1), int8_weight(joined), self.conv.bias)


def _skip_identity(conv: nn.Conv2d, first: int) -> torch.Tensor:
    """The identity the file adds to a 1x1 conv's weights on the skipped tensor's channels ``first..``."""
    eye = torch.zeros_like(conv.weight.detach())
    eye[:, first:first + conv.out_channels, 0, 0] = torch.eye(conv.out_channels)
    return eye


class FakeQuantResidualConv(nn.Module):
    """A 1x1 fusion conv whose residual sum the file folds into it (:mod:`converters.onnx_residual`): its
    weights plus the identity on the skipped channels are what the file rounds, so the simulation rounds
    ``W + E`` and takes ``E`` back out (the graph's ADD then adds the skipped tensor exactly)."""

    def __init__(self, conv: nn.Conv2d, first: int) -> None:
        super().__init__()
        self.conv = conv
        self.register_buffer("eye", _skip_identity(conv, first))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv._conv_forward(x, int8_weight(self.conv.weight + self.eye) - self.eye, self.conv.bias)


def fake_quant(x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    """``x`` on an int8 activation grid; the gradient passes inside the grid's range and stops outside."""
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, QMIN, QMAX)


def _trained_convs(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.weight.requires_grad]


@torch.no_grad()
def on_int8_grid(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose trained conv weights sit on the int8 grid the file will use.

    A fusion conv the file folds its residual sum into is snapped as ``W + E`` (what the file
    rounds), the others as they are; the entry conv's extra weights for the moved mean shift
    (``W * shift``) cannot share ``W``'s grid, and the converter's bias correction takes their
    rounding out (their input is constant, 1).
    """
    snapped = copy.deepcopy(model)
    gm = fx.symbolic_trace(SRDeploy(snapped, snapped.scales[0]))
    channels = _channels(gm, torch.zeros(1, 3, 8, 8))
    eyes: dict[nn.Module, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module" and isinstance(gm.get_submodule(node.target), nn.Conv2d):
            first = _folded_residual(gm, node, channels)
            if first is not None:
                eyes[gm.get_submodule(node.target)] = first
    for conv in _trained_convs(snapped):
        if conv in eyes:
            eye = _skip_identity(conv, eyes[conv])
            conv.weight.copy_(int8_weight(conv.weight + eye) - eye)
        else:
            conv.weight.copy_(int8_weight(conv.weight))
    return snapped


def tflite_pair(module: nn.Module, crops: list[np.ndarray]) -> tuple[bytes, bytes]:
    """The dynamic-size fp32 TFLite of ``module`` and its int8 file calibrated on ``crops``, as ``convert`` writes them
    but with nearest-rounded weights (no GPTQ): the simulation rounds to nearest as it trains, and the
    checkpoint it writes is on the grid already, where GPTQ changes nothing."""
    from converters.onnx_export import export_onnx
    from converters.tflite import float_tflite, onnx_to_keras, quantize_int8

    with tempfile.TemporaryDirectory() as scratch:
        onnx_path = Path(scratch) / "qat.onnx"
        export_onnx(module, onnx_path, None)
        fp32 = float_tflite(onnx_to_keras(onnx_path, scratch), None)
    return fp32, quantize_int8(fp32, crops, gptq=False)


def _node_values(gm: fx.GraphModule, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every tensor-valued node's output on ``x`` (copied: in-place ReLUs would change them later)."""
    values: dict[str, torch.Tensor] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n: fx.Node):  # noqa: ANN201 - fx's signature
            out = super().run_node(n)
            if isinstance(out, torch.Tensor) and n.op != "output":
                values[n.name] = out.detach().clone()
            return out

    with torch.no_grad():
        Recorder(gm).run(x)
    return values


def match_grids(gm: fx.GraphModule, fp32: bytes, int8: bytes, sample: np.ndarray) -> dict[str, tuple[float, int]]:
    """The int8 grid (scale, zero point) of every node of ``gm`` whose output a quantized tensor of the file holds.

    Raises ``RuntimeError`` when a quantized tensor of the file matches no node and shares its grid
    with none that does (the one expected unmatched tensor, the sub-pixel exit conv's low-resolution
    output, has the grid of the depth-to-space after it): the graph or the converter changed, and
    training would miss a quantization step.
    """
    from converters.tflite_tensors import ActivationProbe, int8_grids

    probe = ActivationProbe(fp32)
    tensors = probe.run(sample)
    grids = int8_grids(int8)
    nodes = _node_values(gm, torch.from_numpy(sample).permute(0, 3, 1, 2))
    found: dict[str, tuple[float, int]] = {}
    missing = []
    for index, value in tensors.items():
        name = probe.names[index]
        if name not in grids:
            continue
        v = torch.from_numpy(np.transpose(value, (0, 3, 1, 2)).copy())
        tol = MATCH_TOLERANCE * max(1.0, float(v.abs().max()))
        hits = [n for n, out in nodes.items() if out.shape == v.shape and float((out - v).abs().max()) <= tol]
        for n in hits:
            found.setdefault(n, grids[name])
        if not hits:
            missing.append(name)
    unexplained = [m for m in missing if grids[m] not in found.values()]
    if unexplained:
        raise RuntimeError(f"QAT: {len(unexplained)} int8 tensor(s) of the file match no PyTorch node, e.g. "
                           f"{unexplained[0]!r}; the export graph changed and qat.py must learn its new form")
    return found


def _channels(gm: fx.GraphModule, x: torch.Tensor) -> dict[str, int]:
    """Channel count of every 4-D node of ``gm`` on ``x``."""
    return {n: v.shape[1] for n, v in _node_values(gm, x).items() if v.dim() == 4}


def _cat_offset(node: fx.Node, target: fx.Node, channels: dict[str, int]) -> int | None:
    """The first channel of ``target`` inside ``node``, through nested channel ``torch.cat``s; None if absent."""
    if node is target:
        return 0
    if node.op != "call_function" or node.target is not torch.cat:
        return None
    first = 0
    for part in node.args[0]:
        found = _cat_offset(part, target, channels)
        if found is not None:
            return first + found
        first += channels[part.name]
    return None


def _folded_residual(gm: fx.GraphModule, node: fx.Node, channels: dict[str, int]) -> int | None:
    """Where the skipped tensor sits in a 1x1 conv's input when the file folds ``conv(..) + skipped`` into it."""
    conv = gm.get_submodule(node.target)
    users = list(node.users)
    if conv.kernel_size != (1, 1) or conv.groups != 1 or len(users) != 1 or users[0].target is not operator.add:
        return None
    add = users[0]
    skipped = add.args[1] if add.args[0] is node else add.args[0]
    if not isinstance(skipped, fx.Node) or channels.get(skipped.name) != conv.out_channels:
        return None
    return _cat_offset(node.args[0], skipped, channels)


def fake_quantized_graph(model: nn.Module, scale: int, fp32: bytes, int8: bytes, sample: np.ndarray) -> fx.GraphModule:
    """``SRDeploy(model, scale)`` traced, with the file's activation fake-quants and int8 conv weights.

    The graph's modules are ``model``'s own (shared parameters): training it trains ``model``. The two
    places the export graph rewrites are simulated as the file computes them: the mean shift moved
    into the entry conv (:class:`FakeQuantOffsetConv`) and the global residual folded into ``c3``
    (:class:`FakeQuantResidualConv`).
    """
    gm = fx.symbolic_trace(SRDeploy(model, scale))
    grids = match_grids(gm, fp32, int8, sample)
    channels = _channels(gm, torch.from_numpy(sample).permute(0, 3, 1, 2))
    graph = gm.graph

    def install(node: fx.Node, wrapper: nn.Module) -> None:
        name = f"int8_{node.target.replace('.', '_')}"
        if not hasattr(gm, name):
            gm.add_submodule(name, wrapper)
        node.target = name

    for node in list(graph.nodes):
        conv = gm.get_submodule(node.target) if node.op == "call_module" else None
        if isinstance(conv, nn.Conv2d) and conv.weight.requires_grad:
            source = node.args[0]
            shift = gm.get_submodule(source.target) if source.op == "call_module" else None
            if isinstance(shift, nn.Conv2d) and not shift.weight.requires_grad and source.args[0].op == "placeholder":
                install(node, FakeQuantOffsetConv(conv, shift))  # reads the image; the shift node goes
                node.args = (source.args[0],)
            elif (first := _folded_residual(gm, node, channels)) is not None:
                install(node, FakeQuantResidualConv(conv, first))
            else:
                install(node, FakeQuantConv(conv))
        if node.name in grids:
            with graph.inserting_after(node):
                fq = graph.call_function(fake_quant, (node, *grids[node.name]))
            node.replace_all_uses_with(fq, delete_user_cb=lambda user: user is not fq)
    graph.eliminate_dead_code()
    graph.lint()
    gm.recompile()
    return gm


class QuantSim(nn.Module):
    """``model`` as its int8 files compute it, one fake-quantized graph per scale; ``forward(x, scale)``
    returns the clamped output, as the files do."""

    def __init__(self, model: nn.Module, graphs: dict[int, fx.GraphModule]) -> None:
        super().__init__()
        self.model = model
        self.graphs = nn.ModuleDict({str(s): g for s, g in graphs.items()})
        self.scales = tuple(graphs)

    def forward(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        return self.graphs[str(scale)](x)


def build_quant_sim(model: nn.Module, crops: list[np.ndarray]) -> QuantSim:
    """Converts ``model`` at each of its scales (int8 calibrated on ``crops``) and wraps it in the matching :class:`QuantSim`."""
    model.eval()
    sample = crops[0][:, :PROBE_SIDE, :PROBE_SIDE]
    graphs = {}
    for scale in model.scales:
        fp32, int8 = tflite_pair(SRDeploy(model, scale), crops)
        graphs[scale] = fake_quantized_graph(model, scale, fp32, int8, sample)
    model.train()
    return QuantSim(model, graphs)
