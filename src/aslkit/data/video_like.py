"""Photos made to look like video frames, before landmarking (``aslkit train --video-like N``).

In real fingerspelling videos the hand is small (40-120 px tall), blurred by focus and motion, and
JPEG/H.264-compressed; MediaPipe places landmarks worse on such frames than on sharp photos, and a model
trained on sharp photos only never saw those errors. A degraded copy of a training photo, run through
MediaPipe like the photo itself, carries the landmark errors of a real frame. The degradation is a pure
function of the image and a seed, and the seed a function of the file's bytes and the copy's index, so a
copy is the same on every run (and cacheable: its cache key names the recipe, see ``recipe_tag``).

Measured on the shipped letter recipe (3 seeds each; not the default for that reason): one copy per photo
kept Massey (95.1%) and read hands shrunk to 64 px better (Massey at 64 px: 89.7 -> 90.8%), but read the real
fingerspelling video worse (88.9 -> 85.7% of frames: S read as T, H as R) and five more people worse
(83.0 -> 81.5%); a milder recipe (128-240 px, sigma 0.3-1.2, 3-7 px streaks) did the same, less so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VideoLikeRecipe:
    """Ranges of one degraded copy (each drawn uniformly per copy)."""

    long_side: tuple[int, int] = (96, 240)  # the image's longer side after downscaling, pixels
    gauss_sigma: tuple[float, float] = (0.5, 2.0)  # focus blur at that size, pixels
    motion_px: tuple[int, int] = (3, 11)  # motion-blur streak length at that size, pixels (random angle)
    jpeg_quality: tuple[int, int] = (35, 85)  # re-compression quality
    upscale_p: float = 0.5  # share of copies scaled back to the photo's size (the rest stay small)


RECIPE = VideoLikeRecipe()


def recipe_tag(recipe: VideoLikeRecipe | None = None) -> str:
    """Short hash of the recipe (default: RECIPE): part of the landmark cache key, so a changed recipe is
    never served stale."""
    spec = asdict(recipe or RECIPE)
    return "vl-" + hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]


def copy_seed(data: bytes, copy: int) -> int:
    """Seed of copy number ``copy`` (1, 2, ...) of the file with these bytes: the same photo gets the same
    copies wherever it lies, different copies of it differ."""
    return int.from_bytes(hashlib.sha256(data + b":video-like:" + str(int(copy)).encode()).digest()[:8], "little")


def motion_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalized line kernel ``length`` pixels long at ``angle_deg`` (a straight motion streak)."""
    import cv2

    k = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    dx, dy = np.cos(np.deg2rad(angle_deg)) * c, np.sin(np.deg2rad(angle_deg)) * c
    # drawn at 8x sub-pixel precision so every angle gives a streak of the full length
    cv2.line(
        k,
        (round((c - dx) * 8), round((c - dy) * 8)),
        (round((c + dx) * 8), round((c + dy) * 8)),
        1.0,
        1,
        cv2.LINE_AA,
        3,
    )
    if k.sum() <= 0:
        k[int(c), int(c)] = 1.0
    return k / k.sum()


def degrade_fixed(
    img: np.ndarray, long_side: int, sigma: float, motion_px: int, angle_deg: float, quality: int, upscale: bool
) -> np.ndarray:
    """``img`` (H, W, 3 RGB uint8) shrunk to ``long_side`` (never enlarged), blurred (Gaussian ``sigma`` then
    a ``motion_px`` streak at ``angle_deg``), JPEG-compressed at ``quality``, and scaled back to its size
    if ``upscale``. sigma 0 / motion_px < 2 / quality 0 skip that step."""
    import cv2

    h, w = img.shape[:2]
    out = np.ascontiguousarray(img)
    s = long_side / max(h, w)
    if s < 1:
        out = cv2.resize(out, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    if sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT)
    if motion_px >= 2:
        out = cv2.filter2D(out, -1, motion_kernel(int(motion_px), angle_deg), borderType=cv2.BORDER_REFLECT)
    if quality > 0:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if ok:
            out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    if upscale and out.shape[:2] != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def draw(seed: int, recipe: VideoLikeRecipe | None = None) -> dict[str, Any]:
    """The settings of one copy (keyword arguments of ``degrade_fixed``), drawn from ``recipe`` (default:
    RECIPE) with ``seed``."""
    recipe = recipe or RECIPE
    rng = np.random.default_rng(seed)
    return {
        "long_side": int(rng.integers(recipe.long_side[0], recipe.long_side[1] + 1)),
        "sigma": float(rng.uniform(*recipe.gauss_sigma)),
        "motion_px": int(rng.integers(recipe.motion_px[0], recipe.motion_px[1] + 1)),
        "angle_deg": float(rng.uniform(0.0, 180.0)),
        "quality": int(rng.integers(recipe.jpeg_quality[0], recipe.jpeg_quality[1] + 1)),
        "upscale": bool(rng.random() < recipe.upscale_p),
    }


def degrade(img: np.ndarray, seed: int, recipe: VideoLikeRecipe | None = None) -> np.ndarray:
    """A video-like copy of ``img`` (H, W, 3 RGB uint8), its settings drawn from ``recipe`` with ``seed``."""
    return degrade_fixed(img, **draw(seed, recipe))
