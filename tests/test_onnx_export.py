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
    # mean shifts folded / turned into one Add.
    assert stats["subpixel_exit"] == 1 and stats["crd_to_dcr"] == 2
    assert stats["folded_identity_convs"] == 1 and stats["identity_convs_as_add"] == 1
    ops = _ops(model)
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
