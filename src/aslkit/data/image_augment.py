"""Image augmentation for image models, and a preview grid a person can open before training.

Each op named in ``ImageAugmentConfig.ops`` fires with its own probability (see defaults.toml
[image_augment]). Rotation, shift, shear and zoom are combined into one affine warp about the image
centre, with mirrored (BORDER_REFLECT_101) borders so no black corners teach the model a cue. Then come
a horizontal flip, a motion-blur streak, brightness/contrast changes and, last, grey: an image model
that sometimes sees no colour cannot lean on one skin tone or one room's light. Everything is deterministic
for a given ``numpy.random.Generator`` state, and with every op off (or every probability 0) an image
comes back unchanged, bit for bit.

Only numpy, OpenCV and Pillow are used (no torch), so this runs in data-loader workers and in the CLI's
``preview`` without loading a model. Augmentation is applied to pixel arrays in memory, never to the
user's files: the preview is written where it is asked for, and never inside the data folder.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aslkit.config import ImageAugmentConfig
from aslkit.data.dataset import Sample, load_dataset
from aslkit.data.images import MIN_SIDE, load_image, to_model_size
from aslkit.errors import AslkitError, ImageError
from aslkit.names import shown
from aslkit.outputs import atomic_write, check_new_file

log = logging.getLogger(__name__)

OPS = ("rotation", "shift", "shear", "zoom", "flip", "motion_blur", "brightness", "contrast", "grayscale")
AFFINE_OPS = ("rotation", "shift", "shear", "zoom")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 weights for the contrast pivot (RGB order)


@dataclass(frozen=True)
class AugmentParams:
    """The random draw for one image; ``None`` (or ``False``) means the op did not fire.

    rotation: degrees, counter-clockwise as seen; shift: (dx, dy) as fractions of width and height;
    shear: degrees (horizontal shear); zoom: scale factor about the centre; flip: horizontal mirror;
    motion_blur: (streak length in pixels, angle in degrees); brightness, contrast: multiplicative factors;
    grayscale: colour replaced by its luma (kept in 3 channels).
    """

    rotation: float | None = None
    shift: tuple[float, float] | None = None
    shear: float | None = None
    zoom: float | None = None
    flip: bool = False
    motion_blur: tuple[int, float] | None = None
    brightness: float | None = None
    contrast: float | None = None
    grayscale: bool = False

    @property
    def identity(self) -> bool:
        return all(getattr(self, f.name) is None or getattr(self, f.name) is False for f in fields(self))

    def describe(self) -> str:
        """Short text for the preview, e.g. ``rot +12 zoom 1.08 flip blur 7px@40``."""
        parts = []
        if self.rotation is not None:
            parts.append(f"rot {self.rotation:+.0f}")
        if self.shift is not None:
            parts.append(f"shift {self.shift[0]:+.2f},{self.shift[1]:+.2f}")
        if self.shear is not None:
            parts.append(f"shear {self.shear:+.0f}")
        if self.zoom is not None:
            parts.append(f"zoom {self.zoom:.2f}")
        if self.flip:
            parts.append("flip")
        if self.motion_blur is not None:
            parts.append(f"blur {self.motion_blur[0]}px@{self.motion_blur[1]:.0f}")
        if self.brightness is not None:
            parts.append(f"bright x{self.brightness:.2f}")
        if self.contrast is not None:
            parts.append(f"contrast x{self.contrast:.2f}")
        if self.grayscale:
            parts.append("grey")
        return " ".join(parts) or "unchanged"


def _check_config(cfg: ImageAugmentConfig) -> list[str]:
    names = cfg.op_names()
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise AslkitError(
            f"unknown image augmentation op(s) {', '.join(map(repr, unknown))}; valid ops: {', '.join(OPS)}"
        )
    for key in (f"{op}_p" for op in OPS):
        p = float(getattr(cfg, key))
        if not 0.0 <= p <= 1.0:
            raise AslkitError(f"{key} must be a probability between 0 and 1, got {p}")
    for key in ("rotation_deg", "shift", "shear_deg", "zoom", "motion_blur_px", "brightness", "contrast"):
        v = float(getattr(cfg, key))
        if not (math.isfinite(v) and v >= 0):
            raise AslkitError(f"{key} must be a range >= 0, got {v}")
    if cfg.zoom >= 1.0:
        raise AslkitError(f"zoom must be below 1 (scale 1 +- zoom must stay positive), got {cfg.zoom}")
    if cfg.shear_deg >= 80.0:
        raise AslkitError(f"shear_deg must be below 80 degrees, got {cfg.shear_deg}")
    return list(dict.fromkeys(names))


def affine_matrix(params: AugmentParams, width: int, height: int) -> np.ndarray:
    """The 2x3 matrix (source pixel -> output pixel, as cv2.warpAffine takes it) of rotation, shear and
    zoom about the image centre followed by the shift."""
    a = math.radians(params.rotation or 0.0)
    sh = math.tan(math.radians(params.shear or 0.0))
    s = params.zoom if params.zoom is not None else 1.0
    dx, dy = params.shift if params.shift is not None else (0.0, 0.0)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])  # y points down: counter-clockwise
    lin = rot @ np.array([[1.0, sh], [0.0, 1.0]]) @ (s * np.eye(2))
    c = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    t = c + np.array([dx * width, dy * height]) - lin @ c
    return np.hstack([lin, t[:, None]])


def motion_blur_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalized float32 (k, k) kernel: a straight streak of ``length`` pixels through the centre at
    ``angle_deg`` (counter-clockwise from the x axis), drawn by bilinear splatting of points along it."""
    length = max(1, int(length))
    k = length if length % 2 else length + 1
    ker = np.zeros((k + 1, k + 1), np.float64)  # one spare row/column for the splat's right/bottom neighbours
    c = (k - 1) / 2.0
    a = math.radians(angle_deg)
    t = np.linspace(-(length - 1) / 2.0, (length - 1) / 2.0, 4 * length)
    xs = np.clip(c + t * math.cos(a), 0.0, k - 1.0)
    ys = np.clip(c - t * math.sin(a), 0.0, k - 1.0)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dy, dx, wgt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(ker, (y0 + dy, x0 + dx), wgt)
    ker = ker[:k, :k]
    return (ker / ker.sum()).astype(np.float32)


class ImageAugmenter:
    """Random augmentation of uint8 images, configured by an ``ImageAugmentConfig``.

    ``augmenter(img, rng)`` returns a new array of the same shape and dtype; ``sample(rng)`` and
    ``apply(img, params)`` split that into the random draw and its deterministic application.
    """

    def __init__(self, cfg: ImageAugmentConfig | None = None) -> None:
        self.cfg = cfg if cfg is not None else ImageAugmentConfig.defaults()
        self.ops = _check_config(self.cfg)

    @classmethod
    def from_config(cls, cfg: ImageAugmentConfig | None = None) -> ImageAugmenter:
        """An augmenter for ``cfg`` (defaults.toml [image_augment] when None)."""
        return cls(cfg)

    def __repr__(self) -> str:
        return f"ImageAugmenter(ops={self.ops})"

    def _prob(self, op: str) -> float:
        return float(self.cfg.flip_p if op == "flip" else getattr(self.cfg, f"{op}_p"))

    @property
    def active(self) -> bool:
        """False when no op can ever fire (every op off or at probability 0)."""
        return any(self._prob(op) > 0 for op in self.ops)

    def sample(self, rng: np.random.Generator) -> AugmentParams:
        """Draw which ops fire and their amounts. Ops are drawn in a fixed order, whatever the order of
        ``ops``, so the same generator state always gives the same draw."""
        cfg = self.cfg
        got: dict = {}
        for op in OPS:
            if op not in self.ops:
                continue
            p = self._prob(op)
            if p <= 0 or rng.random() >= p:
                continue
            if op == "rotation":
                got[op] = float(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
            elif op == "shift":
                got[op] = (float(rng.uniform(-cfg.shift, cfg.shift)), float(rng.uniform(-cfg.shift, cfg.shift)))
            elif op == "shear":
                got[op] = float(rng.uniform(-cfg.shear_deg, cfg.shear_deg))
            elif op == "zoom":
                got[op] = float(1.0 + rng.uniform(-cfg.zoom, cfg.zoom))
            elif op in ("flip", "grayscale"):
                got[op] = True
            elif op == "motion_blur":
                longest = int(cfg.motion_blur_px)
                if longest >= 2:
                    got[op] = (int(rng.integers(2, longest + 1)), float(rng.uniform(0.0, 180.0)))
            elif op == "brightness":
                got[op] = float(max(0.0, 1.0 + rng.uniform(-cfg.brightness, cfg.brightness)))
            elif op == "contrast":
                got[op] = float(max(0.0, 1.0 + rng.uniform(-cfg.contrast, cfg.contrast)))
        return AugmentParams(**got)

    @staticmethod
    def apply(img: np.ndarray, params: AugmentParams) -> np.ndarray:
        """``img`` (H, W[, C]) uint8 transformed by ``params``; a new array of the same shape and dtype."""
        img = _check_image(img)
        shape = img.shape
        out = img
        if any(getattr(params, op) is not None for op in AFFINE_OPS):
            h, w = shape[:2]
            m = affine_matrix(params, w, h)
            out = cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if params.flip:
            out = out[:, ::-1]
        if params.motion_blur is not None:
            ker = motion_blur_kernel(*params.motion_blur)
            out = cv2.filter2D(np.ascontiguousarray(out), -1, ker, borderType=cv2.BORDER_REFLECT_101)
        if params.brightness is not None or params.contrast is not None:
            x = out.astype(np.float32)
            if params.brightness is not None:
                x *= params.brightness
            if params.contrast is not None:
                gray = x @ _LUMA if x.ndim == 3 and x.shape[2] == 3 else x
                pivot = float(gray.mean())
                x = (x - pivot) * params.contrast + pivot
            out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
        if params.grayscale and out.ndim == 3 and out.shape[2] >= 3:
            out = np.ascontiguousarray(out).copy()
            luma = np.clip(np.rint(out[..., :3].astype(np.float32) @ _LUMA), 0, 255).astype(np.uint8)
            out[..., :3] = luma[..., None]
        out = out.copy() if out is img else np.ascontiguousarray(out)
        return out.reshape(shape)  # cv2 drops a trailing 1-channel axis

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.apply(img, self.sample(rng))

    def augment_batch(self, imgs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, H, W, C) uint8 -> a new (N, H, W, C) uint8 array, each image with its own draw."""
        imgs = np.asarray(imgs)
        if imgs.ndim != 4 or imgs.dtype != np.uint8:
            raise ValueError(f"augment_batch expects uint8 (N, H, W, C), got {imgs.dtype} {imgs.shape}")
        out = np.empty_like(imgs)
        for i in range(len(imgs)):
            out[i] = self(imgs[i], rng)
        return out


def _check_image(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and not 1 <= img.shape[2] <= 4):
        raise ValueError(f"expected a uint8 image (H, W) or (H, W, 1-4), got {img.dtype} {img.shape}")
    if min(img.shape[:2]) < 1:
        raise ValueError(f"empty image {img.shape}")
    return np.ascontiguousarray(img)


# ---------------------------------------------------------------------------------------------
# preview grid
# ---------------------------------------------------------------------------------------------
PAD = 4  # pixels between cells and around the grid
TEXT_LINES = 3  # caption lines under each cell
BACKGROUND = (255, 255, 255)
TEXT_COLOUR = (20, 20, 20)


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=11)
    except (TypeError, OSError, ImportError):  # no FreeType: the small bitmap font
        return ImageFont.load_default()


def _line_height(font) -> int:
    x0, y0, x1, y1 = font.getbbox("Agjy|")
    return int(y1) + 2


def grid_size(rows: int, cols: int, size: int = 160) -> tuple[int, int]:
    """(width, height) in pixels of a preview with ``rows`` images and ``cols`` columns of ``size`` px cells."""
    cell_h = size + TEXT_LINES * _line_height(_font())
    return cols * size + (cols + 1) * PAD, rows * cell_h + (rows + 1) * PAD


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    """Greedy word wrap into at most ``lines`` lines; the last line is cut with '...' if needed."""
    out: list[str] = []
    words = text.split()
    cur = ""
    for i, word in enumerate(words):
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not cur:
            cur = trial
            continue
        out.append(cur)
        cur = word
        if len(out) == lines - 1:
            cur = " ".join(words[i:])
            break
    if cur:
        out.append(cur)
    return [_fit(draw, line, font, width) for line in out[:lines]]


def _to_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise ValueError(f"preview images must be uint8, got {img.dtype}")
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
        raise ValueError(f"preview images must be (H, W, 3) RGB, got {img.shape}")
    return np.ascontiguousarray(img)


def write_preview(
    images: Sequence[np.ndarray],
    out_png: str | Path,
    augmenter: ImageAugmenter | None = None,
    per_image: int = 4,
    seed: int = 0,
    titles: Sequence[str] | None = None,
    size: int = 160,
) -> Path:
    """A PNG grid: one row per image, the original (resized to ``size`` x ``size``, as a model sees it)
    first, then ``per_image`` augmented versions, each captioned with what was applied.

    Pass the model's input size as ``size`` to see blur streaks and shifts at the scale training uses.
    Deterministic for ``seed``. The parent folder is created; the file is written atomically.
    """
    if not len(images):
        raise AslkitError("no images to preview")
    if int(per_image) < 0:
        raise AslkitError(f"per_image must be >= 0, got {per_image}")
    if int(size) < MIN_SIDE:
        raise AslkitError(f"size must be at least {MIN_SIDE} pixels, got {size}")
    if titles is not None and len(titles) != len(images):
        raise AslkitError(f"{len(titles)} titles for {len(images)} images")
    augmenter = augmenter if augmenter is not None else ImageAugmenter()
    per_image, size = int(per_image), int(size)
    rng = np.random.default_rng(seed)
    font = _font()
    line_h = _line_height(font)
    cols, rows = 1 + per_image, len(images)
    width, height = grid_size(rows, cols, size)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    cell_h = size + TEXT_LINES * line_h
    for r, img in enumerate(images):
        base = to_model_size(_to_rgb(img), size)
        cells: list[tuple[np.ndarray, list[str]]] = []
        title = titles[r] if titles is not None else f"image {r + 1}"
        cells.append((base, [_fit(draw, "original", font, size), *_wrap(draw, str(title), font, size, TEXT_LINES - 1)]))
        for k in range(per_image):
            params = augmenter.sample(rng)
            caption = [f"aug {k + 1}", *_wrap(draw, params.describe(), font, size, TEXT_LINES - 1)]
            cells.append((augmenter.apply(base, params), caption))
        y = PAD + r * (cell_h + PAD)
        for c, (arr, caption) in enumerate(cells):
            x = PAD + c * (size + PAD)
            canvas.paste(Image.fromarray(arr), (x, y))
            for i, line in enumerate(caption[:TEXT_LINES]):
                draw.text((x, y + size + i * line_h + 1), line, fill=TEXT_COLOUR, font=font)
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    out = Path(out_png)
    atomic_write(out, buf.getvalue())
    return out


def _crop_box(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        raise ImageError(f"crop box {box} is empty or outside the {w}x{h} image")
    return img[y0:y1, x0:x1]


def _pick(
    samples: list[Sample], labels: list[str], n: int, seed: int
) -> tuple[list[tuple[Sample, np.ndarray]], list[str]]:
    """Up to n readable samples spread over the classes (round robin over a seeded class order, a seeded
    order within each class); unreadable ones are skipped. Returns (picked, skip reasons)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Sample]] = {lab: [] for lab in labels}
    for s in samples:
        by_label[s.label].append(s)
    queues = {lab: [by_label[lab][i] for i in rng.permutation(len(by_label[lab]))] for lab in labels}
    order = [labels[i] for i in rng.permutation(len(labels))]
    picked: list[tuple[int, Sample, np.ndarray]] = []
    skipped: list[str] = []
    while len(picked) < n and any(queues[lab] for lab in order):
        for lab in order:
            while queues[lab] and len(picked) < n:
                s = queues[lab].pop(0)
                try:
                    img = load_image(s.path)
                    if s.crop is not None:
                        img = _crop_box(img, s.crop)
                except ImageError as exc:
                    skipped.append(str(exc))
                    continue
                picked.append((labels.index(lab), s, img))
                break
    picked.sort(key=lambda t: t[0])  # rows grouped by class, in label order; stable within a class
    return [(s, img) for _, s, img in picked], skipped


def preview_dataset(
    data: str | Path,
    out_png: str | Path,
    cfg: ImageAugmentConfig | None = None,
    n: int = 8,
    per_image: int = 4,
    seed: int = 0,
    size: int = 160,
) -> Path:
    """Preview augmentation on ``n`` images of a labelled set (spread over its classes, deterministic for
    ``seed``), each cropped to its box when the set has boxes; see ``write_preview``.

    Unreadable files are skipped (logged with their count); an ImageError is raised only when none can be
    read. The data folder is only read: ``out_png`` must be a new file outside it.
    """
    if int(n) < 1:
        raise AslkitError(f"n must be at least 1, got {n}")
    check_new_file(out_png, [data], flag="--preview", what="the data folder")  # never over a file, nor in the data
    if Path(out_png).suffix.lower() != ".png":  # the grid is PNG bytes: a .jpg name would mislabel them
        raise AslkitError(f"--preview {shown(out_png)}: the grid is a PNG; give a file name ending in .png")
    augmenter = ImageAugmenter(cfg)  # a bad config fails before any image is read
    ds = load_dataset(data)
    out = Path(out_png)
    picked, skipped = _pick(ds.samples, ds.labels, int(n), seed)
    if not picked:
        first = f" (first: {skipped[0]})" if skipped else ""
        raise ImageError(f"{ds.root}: none of the {len(skipped)} images tried could be read{first}")
    if skipped:
        log.warning("preview: skipped %d unreadable image(s) in %s (first: %s)", len(skipped), ds.root, skipped[0])
    titles = [f"{s.label}  {shown(s.path.name)}" for s, _ in picked]
    return write_preview([img for _, img in picked], out, augmenter, per_image, seed, titles, size)
