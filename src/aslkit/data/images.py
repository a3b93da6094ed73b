"""Safe image loading: every way a file can be bad becomes one clear ImageError."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from aslkit.errors import ImageError, ImageTooLarge
from aslkit.names import regular_file_problem, shown

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
MAX_PIXELS = 64_000_000  # decompression-bomb guard: a 8000x8000 photo is fine, a 50k x 50k PNG is not
MIN_SIDE = 16  # MediaPipe cannot find a hand in fewer pixels than this
ALPHA_BACKGROUND = (114, 114, 114)  # neutral grey under transparent pixels


def is_image_path(path: Path) -> bool:
    """True for file names with a common image extension (case-insensitive)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def read_bytes(path: str | Path) -> bytes:
    """Read a file's bytes, turning OS problems into ImageError."""
    p = Path(path)
    why = regular_file_problem(p)  # a FIFO named x.jpg would block the read forever
    if why is not None:
        raise ImageError(
            f"{shown(p)}: {why}" if why != "is a folder, not a file" else f"{shown(p)}: is a folder, not an image file"
        )
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in since the check: no wait
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ImageError(f"{shown(p)}: not a regular file")
            data = f.read()
    except OSError as exc:
        raise ImageError(f"{shown(p)}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise ImageError(f"{shown(p)}: empty file (0 bytes)")
    return data


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode bytes to an RGB uint8 array (H, W, 3), honouring EXIF rotation.

    Alpha is composited on grey, grayscale/16-bit/palette images are converted, and
    truncated files, non-images and oversized images raise ImageError.
    """
    name = shown(name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageTooLarge(
                    f"{name}: image too large ({w}x{h} = {w * h / 1e6:.0f} MP; limit {max_pixels / 1e6:.0f} MP)"
                )
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{name}: image too large (decompression-bomb guard)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image file (unrecognized format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from None
    if min(w, h) < MIN_SIDE:
        raise ImageError(f"{name}: image too small ({w}x{h} pixels; need at least {MIN_SIDE}x{MIN_SIDE})")
    with contextlib.suppress(Exception):  # a broken EXIF block must not lose the image
        img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        img = Image.alpha_composite(bg, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # scaled by the bit depth (16 bits: 0-65535), never by the image's own maximum: the same scene
        # must give the same pixels however bright its brightest spot is
        arr = np.clip(np.asarray(img, dtype=np.float64), 0, 65535)
        img = Image.fromarray(np.round(arr / 257.0).astype(np.uint8))
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Load an image file as RGB uint8 (H, W, 3); raise ImageError with a one-line reason."""
    return decode_image(read_bytes(path), str(path), max_pixels)


def image_input(image: np.ndarray | str | Path) -> tuple[str | None, np.ndarray]:
    """What a recognizer's ``predict`` accepts, as (path or None, RGB uint8 array); ImageError otherwise."""
    path = None
    if isinstance(image, (str, Path)):
        path = str(image)
        image = load_image(image)
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ImageError("expected an RGB uint8 image array of shape (H, W, 3)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageError(f"empty image ({arr.shape[1]}x{arr.shape[0]} pixels)")
    return path, arr


def crop_box(img: np.ndarray, crop: tuple[float, float, float, float] | None) -> np.ndarray:
    """A sample's pixel box (e.g. from a box CSV) clamped to the image; ImageError if nothing is left.
    Shared by the landmark pass and the image sets: both see the same pixels of a boxed sample."""
    if crop is None:
        return img
    h, w = img.shape[:2]
    x0, y0, x1, y1 = crop
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(w, int(x1)), min(h, int(y1))
    if x1 - x0 < 16 or y1 - y0 < 16:
        raise ImageError(f"crop box {crop} is empty or outside the {w}x{h} image")
    return img[y0:y1, x0:x1]


def to_model_size(img: np.ndarray, size: int) -> np.ndarray:
    """Resize to (size, size); area interpolation when shrinking (no aliasing), linear when growing."""
    import cv2

    interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(img, (size, size), interpolation=interp))


def encode_image(bgr: np.ndarray, suffix: str = ".jpg", quality: int = 90) -> bytes:
    """A BGR image as the bytes of a ``suffix`` file (OpenCV's encoder). Written by Python, not by
    cv2.imwrite, whose non-UTF-8 file names crash the process."""
    import cv2

    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix.lower(), bgr, params)
    if not ok:
        raise ImageError(f"OpenCV cannot encode a {suffix} image")
    return buf.tobytes()
