"""ONNX export and graph shaping: exact rewrites, checker-clean files, ONNX Runtime at static and dynamic sizes."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from converters.onnx_export import export_onnx
from converters.onnx_runner import load_runner
from converters.onnx_shaping import shape_for_tflite
from pcarn_mobile.models import SRDeploy, build_model


@pytest.fixture(scope="module")
def deploy() -> SRDeploy:
    torch.manual_seed(0)
    return SRDeploy(build_model("pcarn_m", groups=4), 4).eval()


def _torch(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def _ops(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


@pytest.mark.parametrize("size", [(20, 28), None], ids=["static", "dynamic"])
def test_onnx_runs_in_onnxruntime_and_matches_torch(deploy, tmp_path, size):
    path = tmp_path / "m.onnx"
    model, stats = export_onnx(deploy, path, size)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert model.opset_import[0].version >= 17
    runner = load_runner(path)
    assert runner.scale == 4 and runner.input_size == size
    for hw in ([size] if size else [(20, 28), (33, 17)]):
        x = np.random.default_rng(1).random((1, 3, *hw), dtype=np.float32)
        y = runner(x)
        assert y.shape == (1, 3, 4 * hw[0], 4 * hw[1])
        np.testing.assert_allclose(y, _torch(deploy, x), atol=2e-5)
    # What the rewrites did: the exit conv moved before the last shuffle, two CRD shuffles -> DCR,
    # mean shifts folded / turned into one Add, which then moved into the entry conv as channels of
    # ones; the global residual folded into c3.
    assert stats["subpixel_exit"] == 1 and stats["crd_to_dcr"] == 2
    assert stats["folded_identity_convs"] == 1 and stats["identity_convs_as_add"] == 1
    assert stats["offsets_into_convs"] == 1 and stats["folded_residual_adds"] == 1
    ops = _ops(model)
    assert ops["Add"] == 9 and ops["Max"] == 1  # the nine residual blocks' own adds; the ones
    entry = next(n for n in model.graph.node if n.op_type == "Conv")
    assert next(i for i in model.graph.initializer if i.name == entry.input[1]).dims[1] == 6  # RGB + 3 ones
    # The first x2 stage: one depth-to-space per group; the last: one, after the dense sub-pixel exit conv.
    assert ops["DepthToSpace"] == 5 and ops["Split"] == 1
    assert model.graph.node[-2].op_type == "DepthToSpace" and model.graph.node[-3].op_type == "Conv"
    assert all(
        onnx.helper.get_attribute_value(a) in (b"DCR", "DCR")
        for n in model.graph.node if n.op_type == "DepthToSpace" for a in n.attribute if a.name == "mode"
    )
    assert ops["Conv"] == 43  # 45 convs minus the two identity mean shifts


def test_expand_groups_is_exact_and_dense(deploy, tmp_path):
    model, stats = export_onnx(deploy, tmp_path / "d.onnx", (16, 16), expand_groups=True)
    groups = [a.i for n in model.graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "group"]
    assert groups and set(groups) == {1}
    assert stats["expanded_group_convs"] == 20  # 18 block uses + 2 upsampler convs
    x = np.random.default_rng(2).random((1, 3, 16, 16), dtype=np.float32)
    np.testing.assert_allclose(load_runner(tmp_path / "d.onnx")(x), _torch(deploy, x), atol=2e-5)
    assert _ops(model)["DepthToSpace"] == 2  # dense upsampler: one DCR depth-to-space, no split


@pytest.mark.parametrize("r", [2, 3])
def test_subpixel_twin_of_a_conv_after_a_shuffle_is_exact(r):
    from converters.onnx_subpixel import subpixel_weights

    torch.manual_seed(r)
    conv = torch.nn.Conv2d(5, 3, 3, padding=1)
    x = torch.randn(2, 5 * r * r, 7, 9)
    weight, bias = subpixel_weights(conv.weight.detach().double().numpy(), conv.bias.detach().numpy(), r)
    twin = torch.nn.functional.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1)
    with torch.no_grad():
        torch.testing.assert_close(torch.nn.functional.pixel_shuffle(twin, r), conv(torch.nn.functional.pixel_shuffle(x, r)),
                                   rtol=0, atol=1e-5)


def test_shaping_leaves_a_crd_shuffle_without_conv_alone():
    """A CRD DepthToSpace straight off the graph input has no conv to absorb the permutation."""
    from onnx import TensorProto, helper

    node = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="CRD")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert shape_for_tflite(model)["crd_to_dcr"] == 0
    assert helper.get_attribute_value(model.graph.node[0].attribute[1]) in (b"CRD", "CRD")


@pytest.mark.parametrize("groups", [8, 64])
def test_many_groups_split_and_concatenate_in_trees_xnnpack_takes(tmp_path, groups):
    torch.manual_seed(groups)
    deploy = SRDeploy(build_model("pcarn_m", groups=groups), 4).eval()
    model, _ = export_onnx(deploy, tmp_path / "m.onnx", (16, 20))
    operands = [len(n.output) if n.op_type == "Split" else len(n.input)
                for n in model.graph.node if n.op_type in ("Split", "Concat")]
    assert max(operands) <= 4  # XNNPACK: even splits into 2-4, concatenations of 2-5
    assert sum(n.op_type == "DepthToSpace" for n in model.graph.node) == groups + 1  # per group, then the exit's
    x = np.random.default_rng(4).random((1, 3, 16, 20), dtype=np.float32)
    np.testing.assert_allclose(load_runner(tmp_path / "m.onnx")(x), _torch(deploy, x), atol=2e-5)


def _onnx_of(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple[onnx.ModelProto, dict[str, int]]:
    import io

    buffer = io.BytesIO()
    torch.onnx.export(module.eval(), (torch.zeros(shape),), buffer, input_names=["x"], output_names=["y"],
                      opset_version=17, dynamo=False)
    model = onnx.load_from_string(buffer.getvalue())
    return model, shape_for_tflite(model)


def _ort(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


class _OffsetConv(torch.nn.Module):
    """``conv(x - mean)`` with zero padding, the mean as a frozen identity conv (PCARN's MeanShift)."""

    def __init__(self) -> None:
        super().__init__()
        from pcarn_mobile.models.layers import MeanShift

        self.shift, self.conv = MeanShift(sub=True), torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.shift(x))


def test_an_offset_moves_into_the_padded_conv_exactly_at_the_border():
    """Folding the mean into the bias alone would be wrong on the 1-pixel frame; the ones channels are not."""
    torch.manual_seed(5)
    module = _OffsetConv()
    model, stats = _onnx_of(module, (1, 3, 9, 11))
    assert stats["offsets_into_convs"] == 1 and "Add" not in _ops(model)
    x = np.random.default_rng(5).random((1, 3, 9, 11), dtype=np.float32)
    y = _ort(model, x)
    np.testing.assert_allclose(y, _torch(module, x), atol=1e-5)
    with torch.no_grad():  # the mean folded into the bias alone: right inside, wrong on the frame
        w, b = module.conv.weight, module.conv.bias
        shift = module.shift.shifter.bias
        naive = torch.nn.functional.conv2d(torch.from_numpy(x), w, b + (w * shift.view(1, 3, 1, 1)).sum((1, 2, 3)), padding=1)
    gap = np.abs(naive.numpy() - y)
    assert gap[..., 1:-1, 1:-1].max() < 1e-5 and gap[..., 0, :].max() > 1e-2


class _Fusion(torch.nn.Module):
    """``fuse(cat(x, f(x))) + x``, with the 1x1 fusion's output read ``also`` somewhere else."""

    def __init__(self, also: bool) -> None:
        super().__init__()
        self.entry, self.f = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(4, 4, 3, padding=1)
        self.fuse, self.also = torch.nn.Conv2d(8, 4, 1), also

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.entry(x)
        o = self.fuse(torch.cat([x, torch.relu(self.f(x))], 1))
        return (o + x) * (o if self.also else 1.0)


@pytest.mark.parametrize("also", [False, True], ids=["folded", "fusion-read-elsewhere"])
def test_a_residual_sum_folds_into_the_fusion_conv_only_when_it_alone_reads_it(also):
    torch.manual_seed(6)
    module = _Fusion(also)
    model, stats = _onnx_of(module, (1, 3, 10, 12))
    assert stats["folded_residual_adds"] == (0 if also else 1)
    assert ("Add" in _ops(model)) == also
    x = np.random.default_rng(6).random((1, 3, 10, 12), dtype=np.float32)
    np.testing.assert_allclose(_ort(model, x), _torch(module, x), atol=1e-5)
