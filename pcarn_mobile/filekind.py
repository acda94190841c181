"""What a file seems to be, from its first bytes: for error messages about files that are not what was asked.

A user who passes the wrong file (a README, a photo, a web page saved instead of the download)
learns more from "it is a text file" than from a library's unpickling or protobuf error, and
the libraries themselves fail in many ways (``KeyError: 101`` from ``torch.load`` on a file that
starts with ``hello``). Only the first bytes are read, so sniffing a large file costs nothing.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

#: What :func:`describe` says of the files this project itself reads.
TORCH_CHECKPOINT = "a PyTorch checkpoint"
TFLITE_MODEL = "a TFLite model"
ONNX_MODEL = "an ONNX model"
COREML_PACKAGE = "a Core ML package"
#: A binary file none of the signatures below matches.
UNKNOWN_BINARY = "binary data of no recognised kind"

#: The pickle opcodes torch's legacy (pre-1.6) format starts with: protocol 2, then its magic number.
_LEGACY_TORCH = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

#: Leading bytes -> kind, checked in order.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (_LEGACY_TORCH, TORCH_CHECKPOINT),
)

#: Sizes of the BMP info headers (core, v1 to v5) that follow "BM" and the 12-byte file header.
_BMP_INFO_SIZES = (12, 40, 52, 56, 64, 108, 124)

_HEAD = 4096


def describe(path: str | os.PathLike[str]) -> str:
    """A few words for what ``path`` holds ("a text file", "a PNG image", "an empty file", ...)."""
    path = Path(path)
    if path.is_dir():
        return COREML_PACKAGE if (path / "Manifest.json").is_file() else "a folder"
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        return f"an unreadable file ({exc.strerror or type(exc).__name__})"
    return describe_bytes(head)


def other_than(path: str | os.PathLike[str], expected: str) -> str | None:
    """What ``path`` holds when it cannot be ``expected`` (one of the kinds above), else None. ONNX has
    no magic number, so binary data of no recognised kind may be an ONNX model."""
    found = describe(path)
    return None if found == expected or (expected == ONNX_MODEL and found == UNKNOWN_BINARY) else found


def describe_bytes(head: bytes) -> str:
    """:func:`describe` for a file's first bytes (up to a few KB)."""
    if not head:
        return "an empty file"
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"TFL3":  # the FlatBuffer file identifier TFLite writes after the root offset
        return TFLITE_MODEL
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head)
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO opcode, protocols 2-5
        return "a plain Python pickle"
    if head.startswith(b"BM") and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_INFO_SIZES:
        return "a BMP image"
    text = _as_text(head)
    if text is not None:
        if text.lstrip().lower().startswith(("<!doctype html", "<html")):
            return "an HTML page (a web page saved instead of the file?)"
        return "a text file"
    if _looks_like_onnx(head):
        return ONNX_MODEL
    return UNKNOWN_BINARY


def _zip_kind(head: bytes) -> str:
    """torch.save's zip files hold ``<archive>/data.pkl`` first; its local header names it even in a truncated file."""
    name_len = struct.unpack_from("<H", head, 26)[0] if len(head) >= 30 else 0
    if head[30 : 30 + name_len].endswith(b"/data.pkl"):
        return TORCH_CHECKPOINT
    return "a zip archive"


def _as_text(head: bytes) -> str | None:
    """The head as text when it is UTF-8 without NUL bytes (a multi-byte character cut at the end is fine)."""
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 and len(head) == _HEAD else None


def _looks_like_onnx(head: bytes) -> bool:
    """ONNX's ModelProto as every exporter writes it: field 1 (ir_version, a small varint) first."""
    return len(head) > 2 and head[0] == 0x08 and 1 <= head[1] <= 32
