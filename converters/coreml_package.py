"""Reading a saved ``.mlpackage`` back from disk: the spec protobuf, its MIL program and weight blobs.

This is the first half of the Linux-side Core ML evaluator (:mod:`converters.coreml_eval`): it
deliberately reads the files an app ships, not the in-memory objects the converter used, so a
package damaged on the way to disk, or a converter bug that only shows in serialisation, cannot
pass the parity check.

The weight file (``Data/com.apple.CoreML/weights/weight.bin``) is parsed by hand. Its layout
(Core ML's "MILBlob" storage, version 2), as written by coremltools:

* a 64-byte file header: ``uint32 count, uint32 version`` then padding;
* for every blob, a 64-byte metadata record at the offset the program's ``BlobFileValue``
  names: ``uint32 sentinel 0xDEADBEEF, uint32 dtype, uint64 size_in_bytes, uint64 data_offset``
  then padding; the data itself sits at ``data_offset`` (64-byte aligned);
* sub-byte types (uint1/2/3/4/6, int4) are bit-packed, least significant bit first.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coremltools.proto import MIL_pb2, Model_pb2

_BLOB_SENTINEL = 0xDEADBEEF
_BLOB_VERSION = 2

#: MILBlob storage dtype codes -> (numpy dtype, bits per element, signed) for every code we decode.
_BLOB_DTYPES: dict[int, tuple[type, int, bool]] = {
    1: (np.float16, 16, True),
    2: (np.float32, 32, True),
    3: (np.uint8, 8, False),
    4: (np.int8, 8, True),
    6: (np.int16, 16, True),
    7: (np.uint16, 16, False),
    8: (np.int8, 4, True),  # int4
    9: (np.uint8, 1, False),  # uint1
    10: (np.uint8, 2, False),  # uint2
    11: (np.uint8, 4, False),  # uint4
    12: (np.uint8, 3, False),  # uint3
    13: (np.uint8, 6, False),  # uint6
    14: (np.int32, 32, True),
    15: (np.uint32, 32, False),
}

_DT = MIL_pb2.DataType
#: MIL tensor dtype -> (numpy dtype, bits per element). Sub-byte types are held as (u)int8 arrays.
MIL_DTYPES: dict[int, tuple[type, int]] = {
    _DT.FLOAT16: (np.float16, 16),
    _DT.FLOAT32: (np.float32, 32),
    _DT.FLOAT64: (np.float64, 64),
    _DT.INT8: (np.int8, 8),
    _DT.INT16: (np.int16, 16),
    _DT.INT32: (np.int32, 32),
    _DT.INT64: (np.int64, 64),
    _DT.UINT8: (np.uint8, 8),
    _DT.UINT16: (np.uint16, 16),
    _DT.UINT32: (np.uint32, 32),
    _DT.UINT64: (np.uint64, 64),
    _DT.BOOL: (np.bool_, 8),
    _DT.INT4: (np.int8, 4),
    _DT.UINT1: (np.uint8, 1),
    _DT.UINT2: (np.uint8, 2),
    _DT.UINT3: (np.uint8, 3),
    _DT.UINT4: (np.uint8, 4),
    _DT.UINT6: (np.uint8, 6),
}


class PackageError(ValueError):
    """The package on disk is missing, damaged or not an ML Program."""


def unpack_bits(data: bytes | np.ndarray, nbits: int, count: int, signed: bool = False) -> np.ndarray:
    """``count`` integers of ``nbits`` bits each, packed LSB first (Core ML's sub-byte layout)."""
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8), bitorder="little")
    if bits.size < nbits * count:
        raise PackageError(f"packed data holds {bits.size} bits, {nbits * count} needed")
    bits = bits[: nbits * count].reshape(count, nbits).astype(np.int16)
    values = (bits << np.arange(nbits, dtype=np.int16)).sum(axis=1)
    if signed:
        values = np.where(values >= 1 << (nbits - 1), values - (1 << nbits), values)
        return values.astype(np.int8)
    return values.astype(np.uint8)


class BlobFile:
    """The weight file of a package, read once into memory and decoded blob by blob."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            self.data = b""  # a program with only immediate values has no weight file
            return
        self.data = path.read_bytes()
        if len(self.data) < 64:
            raise PackageError(f"{path} is too short to be a Core ML weight file")
        self.count, version = struct.unpack_from("<II", self.data, 0)
        if version != _BLOB_VERSION:
            raise PackageError(f"{path}: weight file version {version}, expected {_BLOB_VERSION}")

    def read(self, offset: int, mil_dtype: int, shape: tuple[int, ...]) -> np.ndarray:
        """The tensor whose metadata record starts at ``offset``, checked against the program's type."""
        if not self.data:
            raise PackageError(f"weight file missing or empty: {self.path}")
        if offset + 24 > len(self.data):
            raise PackageError(f"{self.path}: blob offset {offset} past the end of the file")
        sentinel, code, size, data_offset = struct.unpack_from("<IIQQ", self.data, offset)
        if sentinel != _BLOB_SENTINEL:
            raise PackageError(f"{self.path}: no blob at offset {offset} (bad sentinel {sentinel:#x})")
        if code not in _BLOB_DTYPES:
            raise PackageError(f"{self.path}: blob at {offset} has unknown storage dtype code {code}")
        np_dtype, bits, signed = _BLOB_DTYPES[code]
        want_dtype, want_bits = MIL_DTYPES[mil_dtype]
        if (np.dtype(np_dtype), bits) != (np.dtype(want_dtype), want_bits):
            raise PackageError(f"{self.path}: blob at {offset} stores {bits}-bit {np.dtype(np_dtype)}, program expects another type")
        raw = self.data[data_offset : data_offset + size]
        if len(raw) != size:
            raise PackageError(f"{self.path}: blob at {offset} is truncated")
        count = int(np.prod(shape)) if shape else 1
        if bits < 8:
            return unpack_bits(raw, bits, count, signed).reshape(shape)
        arr = np.frombuffer(raw, dtype=np_dtype)
        if arr.size != count:
            raise PackageError(f"{self.path}: blob at {offset} holds {arr.size} values, shape {shape} needs {count}")
        return arr.reshape(shape)


def tensor_shape(ttype: MIL_pb2.TensorType) -> tuple[int | None, ...]:
    """Dimensions of a MIL tensor type; None for a flexible (unknown) dimension."""
    return tuple(d.constant.size if d.WhichOneof("dimension") == "constant" else None for d in ttype.dimensions)


def decode_value(value: MIL_pb2.Value, blobs: BlobFile) -> Any:
    """A MIL ``Value`` (immediate or in the weight file) as a NumPy array, or a str/tuple."""
    vtype = value.type
    kind = vtype.WhichOneof("type")
    if kind == "listType" or kind == "tupleType":
        return tuple(decode_value(v, blobs) for v in value.immediateValue.tuple.values)
    if kind != "tensorType":
        raise PackageError(f"unsupported MIL value type {kind}")
    ttype = vtype.tensorType
    shape = tensor_shape(ttype)
    if None in shape:
        raise PackageError("a constant value with a flexible shape")
    if value.WhichOneof("value") == "blobFileValue":
        return blobs.read(value.blobFileValue.offset, ttype.dataType, shape)  # type: ignore[arg-type]
    tensor = value.immediateValue.tensor
    field = tensor.WhichOneof("value")
    if ttype.dataType == _DT.STRING:
        vals = list(tensor.strings.values)
        return vals[0] if not shape else np.array(vals, dtype=object).reshape(shape)
    np_dtype, bits = MIL_DTYPES[ttype.dataType]
    count = int(np.prod(shape)) if shape else 1
    if field == "bytes":
        raw = tensor.bytes.values
        arr = unpack_bits(raw, bits, count, np.dtype(np_dtype).kind == "i") if bits < 8 else np.frombuffer(raw, dtype=np_dtype)
    else:
        arr = np.asarray(list(getattr(tensor, field).values), dtype=np_dtype)
    if arr.size != count:
        raise PackageError(f"immediate value holds {arr.size} values, shape {shape} needs {count}")
    return arr.reshape(shape)


@dataclass
class FeatureSpec:
    """One model input/output as the app sees it: image or multi-array, and its allowed sizes."""

    name: str
    kind: str  # "image" or "tensor"
    #: Fixed (H, W), or None when flexible.
    size: tuple[int, int] | None
    #: Enumerated (H, W) sizes, empty unless the input has enumerated shapes.
    sizes: tuple[tuple[int, int], ...]
    #: (low, high) per side for range-flexible inputs, high -1 for unbounded; None otherwise.
    range_h: tuple[int, int] | None
    range_w: tuple[int, int] | None

    def accepts(self, h: int, w: int) -> bool:
        if self.sizes:
            return (h, w) in self.sizes
        if self.range_h is not None and self.range_w is not None:
            return all(lo <= v and (hi < 0 or v <= hi) for v, (lo, hi) in ((h, self.range_h), (w, self.range_w)))
        return self.size is None or self.size == (h, w)


def _feature(desc: Any) -> FeatureSpec:
    ftype = desc.type
    which = ftype.WhichOneof("Type")
    if which == "imageType":
        img = ftype.imageType
        if img.colorSpace != Model_pb2.ImageFeatureType.RGB:
            raise PackageError(f"feature {desc.name}: only RGB images are supported")
        sizes = tuple((s.height, s.width) for s in img.enumeratedSizes.sizes)
        flex = img.WhichOneof("SizeFlexibility")
        rh = rw = None
        if flex == "imageSizeRange":
            r = img.imageSizeRange
            rh, rw = (r.heightRange.lowerBound, r.heightRange.upperBound), (r.widthRange.lowerBound, r.widthRange.upperBound)
        size = (img.height, img.width) if flex is None else None
        return FeatureSpec(desc.name, "image", size, sizes, rh, rw)
    if which == "multiArrayType":
        arr = ftype.multiArrayType
        sizes = tuple((tuple(s.shape)[2], tuple(s.shape)[3]) for s in arr.enumeratedShapes.shapes)
        flex = arr.WhichOneof("ShapeFlexibility")
        rh = rw = None
        if flex == "shapeRange":
            ranges = arr.shapeRange.sizeRanges
            rh, rw = (ranges[2].lowerBound, ranges[2].upperBound), (ranges[3].lowerBound, ranges[3].upperBound)
        size = (int(arr.shape[2]), int(arr.shape[3])) if flex is None and len(arr.shape) == 4 else None
        return FeatureSpec(desc.name, "tensor", size, sizes, rh, rw)
    raise PackageError(f"feature {desc.name}: type {which} is not supported")


@dataclass
class Package:
    """A saved ML Program: its description, main function, weights and metadata."""

    path: Path
    spec: Model_pb2.Model
    function: MIL_pb2.Function
    block: MIL_pb2.Block
    blobs: BlobFile
    inputs: list[FeatureSpec]
    outputs: list[FeatureSpec]
    metadata: dict[str, str]

    @property
    def op_types(self) -> list[str]:
        """Distinct MIL op types of the main block, in first-use order."""
        return list(dict.fromkeys(op.type for op in self.block.operations))


def read_package(path: str | Path) -> Package:
    """Parses ``path`` (an ``.mlpackage`` folder) from disk; raises :class:`PackageError` if unusable."""
    path = Path(path)
    manifest = path / "Manifest.json"
    if not manifest.is_file():
        raise PackageError(f"{path} is not an .mlpackage (no Manifest.json)")
    try:
        entries = json.loads(manifest.read_text())["itemInfoEntries"].values()
        spec_rel = next(e["path"] for e in entries if e["path"].endswith(".mlmodel"))
    except (ValueError, KeyError, StopIteration):
        raise PackageError(f"{path}/Manifest.json names no model spec") from None
    data_dir = path / "Data"
    spec_path = data_dir / spec_rel
    if not spec_path.is_file():
        raise PackageError(f"model spec missing: {spec_path}")
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(spec_path.read_bytes())
    except Exception as exc:  # protobuf raises its own DecodeError
        raise PackageError(f"{spec_path} is not a Core ML model spec ({exc})") from None
    if spec.WhichOneof("Type") != "mlProgram":
        raise PackageError(f"{path} holds a {spec.WhichOneof('Type')} model, not an ML Program")
    function = spec.mlProgram.functions["main"]
    block = function.block_specializations[function.opset]
    weights = spec_path.parent / "weights" / "weight.bin"
    blobs = BlobFile(weights)
    desc = spec.description
    return Package(
        path=path,
        spec=spec,
        function=function,
        block=block,
        blobs=blobs,
        inputs=[_feature(d) for d in desc.input],
        outputs=[_feature(d) for d in desc.output],
        metadata=dict(desc.metadata.userDefined),
    )
