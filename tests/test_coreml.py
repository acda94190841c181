"""Core ML export and the Linux-side parity evaluator (NumPy execution of the saved MIL program).

Two PCARN-M conversions cover the matrix: fp32 tensor I/O with enumerated shapes (x2) and the
deployment default, fp16 image I/O with a range of shapes (x4, with its int8 and 6-bit palettized
variants: iOS 16 compression ops). A tiny x3 network at a fixed size exercises the iOS 18
compression ops cheaply. Random-init weights: what is compared is the package against PyTorch.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from pcarn_mobile.models import SRDeploy, build_model

ct = pytest.importorskip("coremltools")

from converters import coreml as cm  # noqa: E402
from converters.coreml_eval import Evaluator, UnsupportedOpError, coverage  # noqa: E402
from converters.coreml_package import BlobFile, read_package, unpack_bits  # noqa: E402
from converters.coreml_runner import load_runner  # noqa: E402
from coreml_tiny import TinyX3  # noqa: E402


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


@pytest.fixture(scope="module")
def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("pcarn_m", groups=4).eval()


@pytest.fixture(scope="module")
def tiny() -> torch.nn.Module:
    torch.manual_seed(1)
    return TinyX3().eval()


@pytest.fixture(scope="module")
def built(network, tiny, tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """name -> (saved package, the in-memory MLModel it was saved from), written once for the module."""
    out = tmp_path_factory.mktemp("coreml")
    info = dict(author="tests", license="MIT", version="0", user_defined={"weights_sha256": "abc"})
    specs = {
        "fp32_tensor_enum_x2": (network, 2, cm.ShapeSpec(sizes=((16, 20), (20, 16))), "fp32", False, 16, ("none",)),
        "fp16_image_range_x4": (network, 4, cm.ShapeSpec(range=(8, 48)), "fp16", True, 16, ("none", "int8", "palette6")),
        "tiny_fixed_x3_ios18": (tiny, 3, cm.ShapeSpec(size=(16, 16)), "fp16", True, 18, ("none", "int8", "palette6")),
    }
    built = {}
    for name, (net, scale, shape, precision, image_io, ios, kinds) in specs.items():
        base = cm.convert(SRDeploy(net, scale), shape=shape, precision=precision, image_io=image_io, min_ios=ios)
        for kind in kinds:
            mlmodel = cm.compress(base, kind)
            cm.set_metadata(mlmodel, cm.PackageInfo(scale=scale, groups=4, **info), image_io)
            key = name if kind == "none" else f"{name}_{kind}"
            mlmodel.save(str(out / f"{key}.mlpackage"))
            built[key] = (out / f"{key}.mlpackage", mlmodel)
    return built


@pytest.fixture(scope="module")
def packages(built) -> dict[str, Path]:
    return {name: path for name, (path, _) in built.items()}


def _reference(network, scale: int, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return SRDeploy(network, scale)(torch.from_numpy(x)).numpy()


def _photo_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random images (pixel-quantised, as an app's buffer would be) rather than white noise."""
    rs = np.random.RandomState(seed)
    small = rs.rand(1, 3, h // 4 + 2, w // 4 + 2)
    big = np.kron(small, np.ones((1, 1, 4, 4)))[:, :, :h, :w]
    return (np.round(big * 255) / 255).astype(np.float32)


def test_op_list_and_coverage_printed(packages):
    """Every op each package uses, and whether the evaluator implements it (all must be)."""
    for name, path in sorted(packages.items()):
        cov = coverage(path)
        print(f"{name}: " + ", ".join(f"{op}{'' if ok else ' (NOT COVERED)'}" for op, ok in cov.items()))
        assert all(cov.values()), f"{name}: uncovered ops {[op for op, ok in cov.items() if not ok]}"
        assert {"conv", "pixel_shuffle"} <= set(cov)
    assert "constexpr_affine_dequantize" in coverage(packages["fp16_image_range_x4_int8"])
    assert "constexpr_lut_to_dense" in coverage(packages["fp16_image_range_x4_palette6"])
    assert "constexpr_blockwise_shift_scale" in coverage(packages["tiny_fixed_x3_ios18_int8"])
    assert "constexpr_lut_to_dense" in coverage(packages["tiny_fixed_x3_ios18_palette6"])


def test_fp32_tensor_io_enumerated_matches_pytorch(packages, network):
    runner = load_runner(packages["fp32_tensor_enum_x2"])
    assert (runner.scale, runner.image_io, runner.input_size) == (2, False, (16, 20))
    for h, w in ((16, 20), (20, 16)):
        x = _photo_like(h, w)
        y = runner(x)
        assert y.shape == (1, 3, 2 * h, 2 * w)
        assert _psnr(y, _reference(network, 2, x)) > 100
    with pytest.raises(ValueError, match="does not accept a 18x18 input"):
        runner(_photo_like(18, 18))


def test_fp16_image_io_range_matches_pytorch(packages, network):
    runner = load_runner(packages["fp16_image_range_x4"])
    assert runner.image_io and runner.input_size is None
    for h, w in ((8, 8), (24, 40), (48, 12)):
        x = _photo_like(h, w, seed=h)
        y = runner(x)
        assert _psnr(y, _reference(network, 4, x)) > 55
    raw = Evaluator(packages["fp16_image_range_x4"]).predict({"lr": _photo_like(16, 16) * 255})["sr"]
    assert raw.max() > 2.0 and raw.min() >= 0.0 and raw.max() <= 255.0, "image output must carry 0-255 pixel values"
    with pytest.raises(ValueError, match="heights 8..48"):
        runner(_photo_like(52, 16))


@pytest.mark.parametrize("suffix,floor", [("int8", 45), ("palette6", 33)])
@pytest.mark.parametrize("base", ["fp16_image_range_x4", "tiny_fixed_x3_ios18"])
def test_compressed_packages(built, network, tiny, base, suffix, floor):
    """Weights decompressed from disk equal coremltools' own decompression; outputs stay close to PyTorch."""
    path, mlmodel = built[f"{base}_{suffix}"]
    evaluator = Evaluator(path)
    checked = 0
    for op in mlmodel._mil_program.functions["main"].operations:
        if op.op_type.startswith("constexpr_"):
            want = np.asarray(op.materialized_val_inference(), dtype=np.float32)
            np.testing.assert_array_equal(evaluator.consts[op.outputs[0].name], want, err_msg=op.name)
            checked += 1
    assert checked >= (1 if base.startswith("tiny") else 20)
    net, scale = (tiny, 3) if base.startswith("tiny") else (network, 4)
    x = _photo_like(16, 16, seed=3)
    got = load_runner(path)(x)
    full = load_runner(built[base][0])(x)
    assert _psnr(got, _reference(net, scale, x)) > floor
    assert 0 < _psnr(got, full) < 200, "compressed weights must change the output a little, not nothing"


def test_fp16_rounding_is_applied(packages, network):
    """An fp16 program evaluated in fp16 differs from PyTorch fp32 (slightly); the fp32 one does not."""
    x = _photo_like(16, 20)
    fp32 = _psnr(load_runner(packages["fp32_tensor_enum_x2"])(x), _reference(network, 2, x))
    x = _photo_like(16, 16)
    fp16 = _psnr(load_runner(packages["fp16_image_range_x4"])(x), _reference(network, 4, x))
    assert fp32 > 100 > fp16 > 55


def test_scale_without_metadata(packages, tmp_path):
    """A package from elsewhere (no 'scale' key) still runs when its shapes are fixed."""
    bare = tmp_path / "bare.mlpackage"
    shutil.copytree(packages["tiny_fixed_x3_ios18"], bare)
    pkg = read_package(bare)
    del pkg.spec.description.metadata.userDefined["scale"]
    (bare / "Data" / "com.apple.CoreML" / "model.mlmodel").write_bytes(pkg.spec.SerializeToString())
    assert load_runner(bare).scale == 3


def test_metadata_and_description(packages):
    pkg = read_package(packages["fp16_image_range_x4"])
    assert pkg.metadata["scale"] == "4" and pkg.metadata["groups"] == "4"
    assert pkg.metadata["weights_sha256"] == "abc" and pkg.metadata["io"] == "image"
    desc = pkg.spec.description.metadata
    assert (desc.author, desc.license, desc.versionString) == ("tests", "MIT", "0")
    assert pkg.inputs[0].kind == pkg.outputs[0].kind == "image"
    assert pkg.spec.specificationVersion >= 7  # iOS 16 ML Program


def test_unknown_op_fails_naming_it(packages, tmp_path):
    src = packages["fp32_tensor_enum_x2"]
    bad = tmp_path / "bad.mlpackage"
    shutil.copytree(src, bad)
    spec_path = bad / "Data" / "com.apple.CoreML" / "model.mlmodel"
    pkg = read_package(bad)
    next(op for op in pkg.block.operations if op.type == "relu").type = "gelu_tanh_fancy"
    spec_path.write_bytes(pkg.spec.SerializeToString())
    with pytest.raises(UnsupportedOpError, match="'gelu_tanh_fancy' is not implemented"):
        Evaluator(bad)
    assert coverage(bad)["gelu_tanh_fancy"] is False


def _tampered_copy(src: Path, dst: Path) -> Path:
    """A copy with one weight tensor (the exit conv's) altered in weight.bin: its sign bits flipped."""
    shutil.copytree(src, dst)
    pkg = read_package(dst)
    op = next(op for op in pkg.block.operations if op.type == "const" and "exit_weight" in op.outputs[0].name)
    offset = op.attributes["val"].blobFileValue.offset
    blob = pkg.blobs
    _, _, size, data_offset = __import__("struct").unpack_from("<IIQQ", blob.data, offset)
    weights = np.frombuffer(blob.data, dtype=np.float16, count=size // 2, offset=data_offset).copy()
    weights *= -1.0
    with open(blob.path, "r+b") as fh:
        fh.seek(data_offset)
        fh.write(weights.tobytes())
    return dst


def _verdict(photos: dict) -> str:
    """The verdict ``convert`` gives an fp16 package with these photo figures."""
    from pcarn_mobile.export.formats import FORMATS
    from pcarn_mobile.export.parity import verdict

    return verdict(FORMATS["coreml"], "fp16", photos, None)["verdict"]


def test_tampered_weight_is_a_mismatch(packages, network, tmp_path):
    from pcarn_mobile.export.parity import parity_on_photos as photo_parity
    from pcarn_mobile.tiling import TorchRunner

    reference = TorchRunner(SRDeploy(network, 4), 4)
    crops = [("a", _photo_like(16, 16))]
    good = photo_parity(load_runner(packages["fp16_image_range_x4"]), reference, crops)
    bad = photo_parity(load_runner(_tampered_copy(packages["fp16_image_range_x4"], tmp_path / "t.mlpackage")), reference, crops)
    assert _verdict(good) == "OK"
    assert _verdict(bad) == "MISMATCH", bad


def test_wrong_input_scale_is_a_mismatch(packages, network, tmp_path):
    from pcarn_mobile.export.parity import parity_on_photos as photo_parity
    from pcarn_mobile.tiling import TorchRunner

    bad = tmp_path / "scale.mlpackage"
    shutil.copytree(packages["fp16_image_range_x4"], bad)
    pkg = read_package(bad)
    mul = next(op for op in pkg.block.operations if op.type == "mul" and "scaled" in op.outputs[0].name)
    y = mul.inputs["y"].arguments[0]
    const = next(op for op in pkg.block.operations if op.type == "const" and op.outputs[0].name == y.name) if y.name else None
    target = const.attributes["val"] if const is not None else y.value
    target.immediateValue.tensor.floats.values[0] = 1.0 / 127.5  # the classic [-1, 1] vs [0, 1] mix-up
    (bad / "Data" / "com.apple.CoreML" / "model.mlmodel").write_bytes(pkg.spec.SerializeToString())
    reference = TorchRunner(SRDeploy(network, 4), 4)
    crops = [("a", _photo_like(16, 16))]
    figures = photo_parity(load_runner(bad), reference, crops)
    assert _verdict(figures) == "MISMATCH", figures


def test_blob_reader_matches_coremltools_writer(tmp_path):
    """Our hand-written weight-file parser against coremltools' own (C++) writer, incl. sub-byte types."""
    from coremltools import libmilstoragepython as storage
    from coremltools.proto import MIL_pb2

    rs = np.random.RandomState(0)
    cases = {
        "fp16": (rs.randn(37).astype(np.float16), MIL_pb2.DataType.FLOAT16),  # written as raw uint16 bits
        "float": (rs.randn(5, 3).astype(np.float32), MIL_pb2.DataType.FLOAT32),
        "int8": (rs.randint(-128, 128, 70).astype(np.int8), MIL_pb2.DataType.INT8),
        "uint8": (rs.randint(0, 256, 9).astype(np.uint8), MIL_pb2.DataType.UINT8),
        "uint6": (rs.randint(0, 64, 41).astype(np.uint8), MIL_pb2.DataType.UINT6),
        "uint4": (rs.randint(0, 16, 13).astype(np.uint8), MIL_pb2.DataType.UINT4),
        "int4": (rs.randint(-8, 8, 11).astype(np.int8), MIL_pb2.DataType.INT4),
    }
    path = tmp_path / "weight.bin"
    writer = storage._BlobStorageWriter(str(path))
    offsets = {
        k: getattr(writer, f"write_{k}_data")(np.ascontiguousarray(v.view(np.uint16) if k == "fp16" else v).ravel())
        for k, (v, _) in cases.items()
    }
    del writer
    blobs = BlobFile(path)
    for key, (values, dtype) in cases.items():
        np.testing.assert_array_equal(blobs.read(offsets[key], dtype, values.shape), values, err_msg=key)
    assert unpack_bits(bytes([0b01101100, 0b11]), 2, 5).tolist() == [0, 3, 2, 1, 3]  # coremltools' doc example


def test_damaged_packages_are_refused_in_one_line(packages, tmp_path):
    """What ``evaluate --coreml`` turns into ``error: cannot load ...``: a ValueError with one line."""
    from converters.coreml_package import PackageError

    not_a_package = tmp_path / "empty.mlpackage"
    not_a_package.mkdir()
    truncated = tmp_path / "truncated.mlpackage"
    shutil.copytree(packages["fp32_tensor_enum_x2"], truncated)
    weights = truncated / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    weights.write_bytes(weights.read_bytes()[:5000])
    garbled = tmp_path / "garbled.mlpackage"
    shutil.copytree(packages["fp32_tensor_enum_x2"], garbled)
    (garbled / "Data" / "com.apple.CoreML" / "model.mlmodel").write_bytes(b"\x00not a protobuf" * 10)
    for path, match in ((not_a_package, "no Manifest.json"), (truncated, "past the end|truncated"),
                        (garbled, "not a Core ML model spec")):
        with pytest.raises(PackageError, match=match) as info:
            load_runner(path)
        assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
