"""A NumPy interpreter for saved Core ML ML Programs: parity on Linux, where Core ML cannot run.

coremltools converts on Linux but ``MLModel.predict`` needs macOS. This module executes the MIL
program of a package read back from disk (:mod:`converters.coreml_package`) op by op:

* every value is converted to the dtype the program declares for it, so an fp16 program is
  rounded to float16 after every op, as Core ML's fp16 engines do (arithmetic is done in float32
  and rounded; hardware may accumulate differently, which is what the PSNR floors allow for).
  Rounded float16 values are held in float32 arrays, and ops that cannot create a new value
  (relu, clip, concat, pixel shuffle, ...) skip the no-op re-rounding, which halves the cost;
* the image pre/post-processing is whatever the program holds: coremltools puts an image
  input's scale/bias into the program as ``mul``/``add`` ops, and an image output is the
  program's output as it is (pixel values);
* compressed weights are decompressed from the stored integers and tables
  (``constexpr_affine_dequantize``, ``constexpr_lut_to_dense``, ``constexpr_blockwise_shift_scale``);
* an op not in :data:`OPS` fails loudly when the package is loaded, naming the op, before any
  number is computed: the evaluator never skips what it does not understand.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from .coreml_package import MIL_DTYPES, Package, PackageError, decode_value, read_package, tensor_shape

_F32 = np.float32


class UnsupportedOpError(PackageError):
    """The program uses a MIL op (or an op variant) the evaluator does not implement."""


def _f(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=_F32)


def _conv(x, weight, bias=None, strides=(1, 1), pad_type="valid", pad=(0, 0, 0, 0), dilations=(1, 1), groups=1):
    """2-D convolution as grouped im2col + one batched matmul (float32 accumulation)."""
    x, weight = _f(x), _f(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise UnsupportedOpError("MIL op 'conv' is only implemented for 2-D (NCHW) convolutions")
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    groups = int(groups)
    (sh, sw), (dh, dw) = (int(v) for v in strides), (int(v) for v in dilations)
    if c != cg * groups:
        raise PackageError(f"conv: {c} input channels do not match weight {weight.shape} with groups={groups}")
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if pad_type == "custom":
        pt, pb, pl, pr = (int(v) for v in pad)
    elif pad_type == "valid":
        pt = pb = pl = pr = 0
    elif pad_type in ("same", "same_lower"):
        th = max((-(-h // sh) - 1) * sh + ekh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + ekw - w, 0)
        small_first = pad_type == "same"
        pt, pl = (th // 2, tw // 2) if small_first else (th - th // 2, tw - tw // 2)
        pb, pr = th - pt, tw - pl
    else:
        raise UnsupportedOpError(f"MIL op 'conv' with pad_type={pad_type!r} is not implemented")
    hp, wp = h + pt + pb, w + pl + pr
    oh, ow = (hp - ekh) // sh + 1, (wp - ekw) // sw + 1
    wmat = weight.reshape(groups, o // groups, cg * kh * kw)
    if kh == kw == 1 and sh == sw == 1 and not (pt or pb or pl or pr):
        out = np.matmul(wmat, x.reshape(n, groups, cg, h * w)).reshape(n, o, h, w)
    elif sh == sw == 1:
        # im2col over the flattened padded image: tap (i, j) is one contiguous slice at offset
        # i*dh*wp + j*dw; each output row then carries wp - ow junk columns, dropped afterwards.
        # One spare zero row keeps the last tap's slice in bounds.
        xp = np.pad(x, ((0, 0), (0, 0), (pt, pb + 1), (pl, pr))).reshape(n, groups, cg, (hp + 1) * wp)
        span = oh * wp
        cols = np.empty((n, groups, cg, kh * kw, span), dtype=_F32)
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                cols[:, :, :, i * kw + j] = xp[..., off : off + span]
        out = np.matmul(wmat, cols.reshape(n, groups, cg * kh * kw, span))
        out = out.reshape(n, o, oh, wp)[..., :ow]
    else:
        xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        cols = np.empty((n, groups, cg, kh, kw, oh, ow), dtype=_F32)
        for i in range(kh):
            for j in range(kw):
                win = xp[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                cols[:, :, :, i, j] = win.reshape(n, groups, cg, oh, ow)
        out = np.matmul(wmat, cols.reshape(n, groups, cg * kh * kw, oh * ow)).reshape(n, o, oh, ow)
    if bias is not None:
        out = out + _f(bias).reshape(1, -1, 1, 1)
    return out


def _pixel_shuffle(x, upscale_factor):
    """PyTorch's (CRD) pixel shuffle: (N, C*r*r, H, W) -> (N, C, H*r, W*r)."""
    r = int(upscale_factor)
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def _concat(values, axis, interleave=False):
    if bool(interleave):
        raise UnsupportedOpError("MIL op 'concat' with interleave=True is not implemented")
    return np.concatenate([_f(v) for v in values], axis=int(axis))


def _affine_dequantize(quantized_data, zero_point, scale, axis):
    """iOS 16: ``scale * (q - zero_point)``, scale/zero-point scalar or a vector along ``axis``."""
    shape = [1] * quantized_data.ndim
    axis = int(axis)
    shape[axis] = -1
    zp = _f(zero_point).reshape(shape) if np.ndim(zero_point) else _f(zero_point)
    sc = _f(scale).reshape(shape) if np.ndim(scale) else _f(scale)
    return (quantized_data.astype(_F32) - zp) * sc


def _block_broadcast(param: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Repeats a block-wise parameter (same rank, each dim dividing ``shape``) up to ``shape``."""
    if param.ndim != len(shape) or any(s % p for s, p in zip(shape, param.shape)):
        raise PackageError(f"block-wise parameter of shape {param.shape} does not tile data of shape {shape}")
    for axis, (s, p) in enumerate(zip(shape, param.shape)):
        if s != p:
            param = np.repeat(param, s // p, axis=axis)
    return param


def _blockwise_shift_scale(data, scale, offset=None):
    """iOS 18: ``scale * (data - offset)`` with block-wise scale and offset."""
    out = data.astype(_F32)
    if offset is not None:
        out = out - _block_broadcast(_f(offset), data.shape)
    return out * _block_broadcast(_f(scale), data.shape)


def _lut_to_dense(indices, lut, shape=None, vector_axis=None):
    """Palettized weights: iOS 16 (packed uint8 indices, one table, ``shape``) or iOS 18 (typed indices, block-wise tables)."""
    if shape is not None:  # iOS 16 form
        from .coreml_package import unpack_bits

        shape = tuple(int(s) for s in shape)
        nbits = int(np.log2(lut.shape[0]))
        if lut.ndim != 1 or 1 << nbits != lut.shape[0]:
            raise PackageError(f"constexpr_lut_to_dense: table of {lut.shape} entries is not a power of two")
        idx = unpack_bits(indices, nbits, int(np.prod(shape))).reshape(shape)
        return lut[idx]
    if lut.shape[-1] != 1 or vector_axis is not None:
        raise UnsupportedOpError("MIL op 'constexpr_lut_to_dense' with vector palettes is not implemented")
    tables = lut[..., 0]  # (*blocks, palette)
    rank = indices.ndim
    index = [np.arange(s).reshape([-1 if a == k else 1 for a in range(rank)]) * tables.shape[k] // s for k, s in enumerate(indices.shape)]
    return tables[tuple(index) + (indices.astype(np.intp),)]


def _cast(x, dtype):
    return x  # the declared output dtype does the conversion (see Evaluator._store)


#: MIL op type -> NumPy implementation (keyword arguments = the op's inputs and attributes).
OPS: dict[str, Callable[..., Any]] = {
    "add": lambda x, y: _f(x) + _f(y),
    "sub": lambda x, y: _f(x) - _f(y),
    "mul": lambda x, y: _f(x) * _f(y),
    "real_div": lambda x, y: _f(x) / _f(y),
    "maximum": lambda x, y: np.maximum(_f(x), _f(y)),
    "minimum": lambda x, y: np.minimum(_f(x), _f(y)),
    "relu": lambda x: np.maximum(_f(x), 0.0),
    "clip": lambda x, alpha, beta: np.clip(_f(x), alpha, beta),
    "floor": lambda x: np.floor(_f(x)),
    "cast": _cast,
    "identity": lambda x: x,
    "concat": _concat,
    "pixel_shuffle": _pixel_shuffle,
    "conv": _conv,
    "constexpr_affine_dequantize": _affine_dequantize,
    "constexpr_lut_to_dense": _lut_to_dense,
    "constexpr_blockwise_shift_scale": _blockwise_shift_scale,
}

#: Ops whose output is exactly representable in their inputs' dtype (selection, max, copy): rounding
#: it again to float16 would change nothing, so it is skipped (saves ~half the conversions).
_EXACT_OPS = {"relu", "clip", "floor", "concat", "pixel_shuffle", "identity", "maximum", "minimum"}

#: Ops whose value is fixed by the package: computed once, when the package is loaded.
_CONST_OPS = {"const", "constexpr_affine_dequantize", "constexpr_lut_to_dense", "constexpr_blockwise_shift_scale"}


class Evaluator:
    """Runs the ``main`` function of a saved ML Program with NumPy.

    >>> ev = Evaluator("model.mlpackage")
    >>> out = ev.predict({"lr": x})["sr"]
    """

    def __init__(self, package: str | Path | Package) -> None:
        self.package = package if isinstance(package, Package) else read_package(package)
        unknown = [t for t in self.package.op_types if t != "const" and t not in OPS]
        if unknown:
            raise UnsupportedOpError(
                f"{self.package.path}: MIL op {unknown[0]!r} is not implemented by the NumPy evaluator"
                + (f" (nor {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else "")
            )
        self.consts: dict[str, Any] = {}
        for op in self.package.block.operations:
            if op.type in _CONST_OPS:
                self._execute(op, self.consts)

    def _args(self, op, env: dict[str, Any]) -> dict[str, Any]:
        blobs = self.package.blobs
        kwargs: dict[str, Any] = {}
        for key, arg in op.inputs.items():
            vals = []
            for binding in arg.arguments:
                if binding.WhichOneof("binding") == "name":
                    if binding.name not in env:
                        raise PackageError(f"op {op.type} reads {binding.name!r}, which nothing defined before it")
                    vals.append(env[binding.name])
                else:
                    vals.append(decode_value(binding.value, blobs))
            kwargs[key] = tuple(vals) if key == "values" else vals[0]
        for key, value in op.attributes.items():
            if key != "name" and not (op.type == "const" and key == "val"):
                kwargs[key] = decode_value(value, blobs)
        return kwargs

    def _execute(self, op, env: dict[str, Any]) -> None:
        if op.type == "const":
            result = decode_value(op.attributes["val"], self.package.blobs)
        else:
            try:
                result = OPS[op.type](**self._args(op, env))
            except TypeError as exc:
                raise UnsupportedOpError(f"MIL op {op.type!r} with these arguments is not implemented ({exc})") from None
        self._store(op, result, env)

    @staticmethod
    def _store(op, result: Any, env: dict[str, Any]) -> None:
        """Stores the op's output in its declared dtype (fp16 rounding) after checking its shape."""
        out = op.outputs[0]
        ttype = out.type.tensorType
        if out.type.WhichOneof("type") == "tensorType" and ttype.dataType in MIL_DTYPES:
            np_dtype = MIL_DTYPES[ttype.dataType][0]
            if np_dtype is np.float16:  # rounded to float16, held in float32: every consumer computes in it
                result = np.asarray(result, dtype=_F32)
                if op.type not in _EXACT_OPS:
                    result = result.astype(np.float16).astype(_F32)
            else:
                result = np.asarray(result).astype(np_dtype, copy=False)
            declared = tensor_shape(ttype)
            if len(declared) != result.ndim or any(d is not None and d != r for d, r in zip(declared, result.shape)):
                raise PackageError(f"op {op.type} ({out.name}) produced shape {result.shape}, program declares {declared}")
        env[out.name] = result

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Runs the program on named float inputs (the program's input dtypes) and returns its outputs."""
        env = dict(self.consts)
        for inp in self.package.function.inputs:
            if inp.name not in feeds:
                raise ValueError(f"missing input {inp.name!r}")
            ttype = inp.type.tensorType
            arr = np.asarray(feeds[inp.name]).astype(MIL_DTYPES[ttype.dataType][0])
            arr = arr.astype(_F32) if arr.dtype == np.float16 else arr  # float16 values are held in float32
            declared = tensor_shape(ttype)
            if len(declared) != arr.ndim or any(d is not None and d != a for d, a in zip(declared, arr.shape)):
                raise ValueError(f"input {inp.name!r} has shape {arr.shape}; the program takes {declared}")
            env[inp.name] = arr
        for op in self.package.block.operations:
            if op.type not in _CONST_OPS:
                self._execute(op, env)
        return {name: np.asarray(env[name]) for name in self.package.block.outputs}


def coverage(package: str | Path | Package) -> dict[str, bool]:
    """Every op type in the package's program -> whether the evaluator implements it."""
    pkg = package if isinstance(package, Package) else read_package(package)
    return {t: t == "const" or t in OPS for t in pkg.op_types}
