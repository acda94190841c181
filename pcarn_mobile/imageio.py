"""Reading and writing the images users feed the upscaler: grey, RGB, RGBA, 8 or 16 bits.

The returned array itself says how to write the image back: ``dtype`` (uint8 or uint16) is the
bit depth and the shape the layout: (H, W) grey, (H, W, 2) grey + alpha, (H, W, 3) RGB,
(H, W, 4) RGBA. Pillow decodes nearly everything and applies the EXIF orientation phones
write, but silently truncates 16-bit colour PNG/TIFF to 8 bits and cannot encode 16-bit
colour; those two cases go through OpenCV (already installed as an onnx2tf dependency).
Writes go to a temporary file in the target folder, then ``os.replace``: a crash or a full
disk never leaves a half-written image under the requested name.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserError, first_line
from .fileio import atomic_path

#: Extensions ``write_image`` can encode, and whether they can hold 16 bits / alpha.
_WRITERS: dict[str, tuple[str, bool, bool]] = {
    ".png": ("PNG", True, True),
    ".tif": ("TIFF", True, True),
    ".tiff": ("TIFF", True, True),
    ".bmp": ("BMP", False, False),
    ".jpg": ("JPEG", False, False),
    ".jpeg": ("JPEG", False, False),
    ".webp": ("WEBP", False, True),
}


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decodes an image to uint8/uint16, (H, W), (H, W, 2), (H, W, 3) or (H, W, 4).

    Palette images become RGB(A), 1-bit becomes grey, CMYK/YCbCr/LAB become RGB. Raises
    :class:`UserError` naming the file when it is missing, not an image, or damaged.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not an image")
    if not path.is_file():
        raise UserError(f"image not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if _is_deep_colour(path, im):
                    return _read_deep_colour(path)
                im.load()
                im = ImageOps.exif_transpose(im)
                return _to_array(im)
    except UserError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UserError(f"cannot read {path}: {first_line(exc)}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged data
        raise UserError(f"cannot read {path}: damaged or truncated image ({first_line(exc)})") from None


def _is_deep_colour(path: Path, im: Image.Image) -> bool:
    """True for 16-bit RGB(A) PNG/TIFF, which Pillow would decode to 8 bits without a word."""
    if im.mode not in ("RGB", "RGBA"):
        return False
    if im.format == "PNG":
        with open(path, "rb") as fh:
            header = fh.read(26)
        return len(header) == 26 and header[24] == 16  # IHDR bit depth
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        return max(bits if isinstance(bits, tuple) else (bits,)) == 16
    return False


def _read_deep_colour(path: Path) -> np.ndarray:
    import cv2  # only needed for 16-bit colour

    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim != 3 or arr.dtype != np.uint16:
        raise UserError(f"cannot read {path}: damaged 16-bit colour image")
    code = cv2.COLOR_BGRA2RGBA if arr.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return np.ascontiguousarray(cv2.cvtColor(arr, code))


def _to_array(im: Image.Image) -> np.ndarray:
    """Maps Pillow's many modes onto the five layouts the rest of the package handles."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(im, dtype=np.uint8).copy()
    if mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    if mode == "I":  # 16-bit grey from some decoders comes as 32-bit int
        arr = np.asarray(im)
        if arr.min() < 0 or arr.max() > 65535:
            raise UserError(f"unsupported 32-bit integer image (values {arr.min()}..{arr.max()})")
        return arr.astype(np.uint16)
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in im.info
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8).copy()
    if mode == "1":
        return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    raise UserError(f"unsupported image mode {mode!r}: use an 8- or 16-bit grey, RGB or RGBA image")


def write_image(path: str | os.PathLike[str], image: np.ndarray, quality: int = 95) -> None:
    """Encodes ``image`` (a layout :func:`read_image` returns) atomically; format from the extension.

    Raises :class:`UserError` when the folder is missing or not writable, or the format cannot
    hold the image (16 bits or alpha in JPEG, say).
    """
    path = Path(path)
    fmt = check_writable(path, image)
    try:
        with atomic_path(path, suffix=path.suffix.lower()) as tmp:
            _encode(tmp, image, fmt, quality)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or first_line(exc)}") from None


def check_writable(path: str | os.PathLike[str], like: np.ndarray | None = None) -> str:
    """Fails early, before minutes of compute, when ``path`` cannot be written (as ``like``).

    Checks the extension, the folder, and that the format holds ``like``'s bit depth and
    alpha; returns the format name.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in _WRITERS:
        raise UserError(f"cannot write {path}: unknown extension {ext!r}; use one of {', '.join(_WRITERS)}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"cannot write {path}: {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: no write permission in {folder}")
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a folder")
    fmt, deep_ok, alpha_ok = _WRITERS[ext]
    if like is not None:
        channels = 1 if like.ndim == 2 else like.shape[2]
        if like.dtype not in (np.uint8, np.uint16) or channels not in (1, 2, 3, 4):
            raise ValueError(f"expected uint8/uint16 grey, grey+alpha, RGB or RGBA, got {like.dtype} {like.shape}")
        if like.dtype == np.uint16 and not deep_ok:
            raise UserError(f"cannot write {path}: {fmt} holds 8 bits only; use .png or .tif for 16-bit images")
        if channels in (2, 4) and not alpha_ok:
            raise UserError(f"cannot write {path}: {fmt} has no alpha channel; use .png, .tif or .webp")
    return fmt


def _encode(tmp: Path, image: np.ndarray, fmt: str, quality: int) -> None:
    channels = 1 if image.ndim == 2 else image.shape[2]
    if image.dtype == np.uint16 and channels > 1:
        import cv2  # Pillow cannot encode 16-bit colour

        if channels == 2:  # no 16-bit grey+alpha in OpenCV: store as RGBA, nothing is lost
            image = np.concatenate([np.repeat(image[..., :1], 3, axis=2), image[..., 1:]], axis=2)
            channels = 4
        code = cv2.COLOR_RGBA2BGRA if channels == 4 else cv2.COLOR_RGB2BGR
        if not cv2.imwrite(str(tmp), cv2.cvtColor(np.ascontiguousarray(image), code)):
            raise OSError(f"OpenCV could not encode {fmt}")
        return
    if image.ndim == 3 and channels == 1:
        image = image[..., 0]
    pil = Image.fromarray(np.ascontiguousarray(image))
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    pil.save(tmp, format=fmt, **options)
