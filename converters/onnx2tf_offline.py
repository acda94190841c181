"""The one place that steers onnx2tf around its internet download; fails loudly if onnx2tf changes.

onnx2tf calls ``download_test_image_data()`` (20 MS-COCO images fetched from GitHub or Wasabi)
in two places: for its dummy inference when every input looks like a fixed-size RGB image, and
for int8 calibration when no calibration data is given. The exporter converts a graph with
dynamic height and width and quantizes with its own calibration, so neither path should be
reached; inside :func:`offline` the function is replaced by one that raises, so that if a
future onnx2tf reaches it anyway the conversion stops with a clear message instead of going
online (or hanging on a machine without network). If the function disappears or moves, the
patch cannot be applied and :func:`offline` raises rather than silently doing nothing.
"""
from __future__ import annotations

import contextlib
import importlib
from typing import Iterator

#: Modules that hold a reference to the downloader (it is imported by name into onnx2tf.onnx2tf).
_HOLDERS = ("onnx2tf.utils.common_functions", "onnx2tf.onnx2tf")
_NAME = "download_test_image_data"


class OnnxTfDownloadAttempt(RuntimeError):
    """onnx2tf tried to download its sample images during a conversion that must stay offline."""


def _refuse_download(*_args: object, **_kwargs: object) -> None:
    raise OnnxTfDownloadAttempt(
        "onnx2tf tried to download its sample calibration images; this conversion is offline by design "
        "(see converters/onnx2tf_offline.py)"
    )


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Within the block, onnx2tf cannot reach its sample-image download."""
    saved = []
    for name in _HOLDERS:
        module = importlib.import_module(name)
        if not callable(getattr(module, _NAME, None)):
            raise RuntimeError(
                f"{name}.{_NAME} is gone: onnx2tf changed how it fetches sample data; "
                "review converters/onnx2tf_offline.py before converting"
            )
        saved.append((module, getattr(module, _NAME)))
    try:
        for module, _ in saved:
            setattr(module, _NAME, _refuse_download)
        yield
    finally:
        for module, original in saved:
            setattr(module, _NAME, original)
