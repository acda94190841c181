"""Runs a Qualcomm-compiled ``.tflite`` on Qualcomm's x86 HTP emulator: a server *inside* the NPU venv.

LiteRT's x86 wheel cannot run a compiled file (it has no Qualcomm dispatch library), but the
file is a thin flatbuffer around a QNN HTP context binary: one ``DISPATCH_OP`` whose custom
options give ``bytecode_offset``/``bytecode_size`` of that binary, appended to the file. The
same binary is what ONNX Runtime's QNN execution provider loads from an ``EPContext`` node, and
its HTP back-end (``libQnnHtp.so``) on x86 simulates the Hexagon NPU. So this wraps the binary in
a one-node ONNX model and runs it there, with CPU fallback disabled: every value comes from the
emulated NPU. Imports nothing of this repository (``converters.npu_runner`` starts it).

Usage: ``python npu_emulator.py COMPILED.tflite QNN_LIB_DIR``. Protocol on stdin/stdout: frames
of an 8-byte little-endian length and a ``.npy`` payload; a float32 NHWC array in [0, 1] in, the
output as float32 NHWC back ((de)quantized here with the file's own scales). The first frame
out is the I/O description as a JSON-encoded ``.npy`` string.
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np

#: ONNX element types of the TFLite tensor types an SR file's I/O can have.
_ONNX_TYPES = {0: 1, 9: 3, 3: 2}  # FLOAT32 -> FLOAT, INT8 -> INT8, UINT8 -> UINT8
_NUMPY_TYPES = {0: np.float32, 9: np.int8, 3: np.uint8}


def describe(path: Path) -> dict:
    """The compiled file's context binary and I/O tensors (name, shape, dtype, scale, zero point)."""
    import flatbuffers.flexbuffers as flex
    from ai_edge_litert import schema_py_generated as schema

    data = path.read_bytes()
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    graph = model.subgraphs[0]
    codes = model.operatorCodes
    ops = [op for op in graph.operators if codes[op.opcodeIndex].customCode == b"DISPATCH_OP"]
    if len(graph.operators) != 1 or len(ops) != 1:
        raise ValueError(f"{path.name}: expected one DISPATCH_OP (the whole graph on the NPU), found "
                         f"{len(graph.operators)} operators")
    options = flex.Loads(bytes(ops[0].customOptions))
    start, size = int(options["bytecode_offset"]), int(options["bytecode_size"])

    def tensor(i: int) -> dict:
        t = graph.tensors[i]
        q = t.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        zero = int(q.zeroPoint[0]) if scale is not None else 0
        return {"name": t.name.decode(), "shape": [int(d) for d in t.shape], "type": int(t.type),
                "scale": scale, "zero_point": zero}

    return {"context": data[start:start + size], "partition": options["name"],
            "inputs": [tensor(i) for i in graph.inputs], "outputs": [tensor(i) for i in graph.outputs]}


def epcontext_model(desc: dict) -> bytes:
    """A one-node ONNX model: ``com.microsoft:EPContext`` embedding the context binary (embed_mode 1)."""
    from onnx import helper

    def value(t: dict):
        return helper.make_tensor_value_info(t["name"], _ONNX_TYPES[t["type"]], t["shape"])

    node = helper.make_node(
        "EPContext", [t["name"] for t in desc["inputs"]], [t["name"] for t in desc["outputs"]],
        domain="com.microsoft", embed_mode=1, ep_cache_context=desc["context"], source="QNNExecutionProvider",
        partition_name=desc["partition"], main_context=1,
    )
    graph = helper.make_graph([node], "npu", [value(t) for t in desc["inputs"]], [value(t) for t in desc["outputs"]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def session(model: bytes, qnn_libs: Path):
    """An ONNX Runtime session on the QNN plugin EP's HTP back-end only (no CPU fallback)."""
    import onnxruntime as ort

    ort.register_execution_provider_library("QNNExecutionProvider", str(qnn_libs / "libonnxruntime_providers_qnn.so"))
    devices = [d for d in ort.get_ep_devices() if d.ep_name == "QNNExecutionProvider"]
    if not devices:
        raise RuntimeError("the QNN execution provider offers no device")
    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    options.add_provider_for_devices(devices[:1], {"backend_path": str(qnn_libs / "libQnnHtp.so")})
    return ort.InferenceSession(model, sess_options=options)


def _quantize(x: np.ndarray, t: dict) -> np.ndarray:
    dtype = _NUMPY_TYPES[t["type"]]
    if t["scale"] is None or dtype == np.float32:
        return x.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / t["scale"] + t["zero_point"]), info.min, info.max).astype(dtype)


def _dequantize(q: np.ndarray, t: dict) -> np.ndarray:
    if t["scale"] is None or q.dtype == np.float32:
        return q.astype(np.float32)
    return ((q.astype(np.float32) - t["zero_point"]) * t["scale"]).astype(np.float32)


def read_frame(stream) -> np.ndarray | None:
    """One frame of the protocol (None at the end of the stream)."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    (length,) = struct.unpack("<Q", head)
    return np.lib.format.read_array(io.BytesIO(stream.read(length)))


def write_frame(stream, array: np.ndarray) -> None:
    """One frame: 8-byte little-endian length, then the array as .npy."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    stream.write(struct.pack("<Q", buf.tell()) + buf.getvalue())
    stream.flush()


def main(argv: list[str]) -> int:
    path, qnn_libs = Path(argv[0]), Path(argv[1])
    # Only frames on the protocol stream: QNN's native logging writes to fd 1, so fd 1 becomes stderr.
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    desc = describe(path)
    sess = session(epcontext_model(desc), qnn_libs)
    (inp,), (out,) = desc["inputs"], desc["outputs"]
    io_facts = {k: [{x: t[x] for x in ("name", "shape", "type", "scale", "zero_point")} for t in desc[k]]
                for k in ("inputs", "outputs")}
    write_frame(stdout, np.array(json.dumps(io_facts)))
    while (x := read_frame(stdin)) is not None:
        (y,) = sess.run([out["name"]], {inp["name"]: _quantize(x, inp)})
        write_frame(stdout, _dequantize(y, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
