"""A labelled image set as model-sized pixel arrays, for image models (CNNs, EfficientNet, CLIP).

Optionally cropped to the hand: MediaPipe's hand box (from the same on-disk landmark cache the
landmark models use) plus a margin, made square so the hand keeps its shape. Image models learn
backgrounds as readily as hands; a hand crop takes most of the background away, which is what lets
them carry over to other rooms. An image where no hand is found is used whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from aslkit.data.dataset import ImageDataset
from aslkit.data.images import load_image
from aslkit.errors import AslkitError, ImageError
from aslkit.landmarks.batch import crop_box

CROP_MODES = ("none", "hand")
HAND_MARGIN = 0.25  # of the hand box's longer side, on every side: keeps the wrist and finger tips


@dataclass
class ImageSet:
    """Per sample: an (S, S, 3) uint8 image (zeros if unreadable), label, path, error, hand found."""

    images: np.ndarray
    labels: list[str]
    paths: list[str]
    errors: list[str | None]
    has_hand: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def readable(self) -> np.ndarray:
        return np.array([e is None for e in self.errors], dtype=bool)

    def subset(self, idx: np.ndarray) -> ImageSet:
        idx = np.asarray(idx, dtype=np.int64)
        return ImageSet(
            self.images[idx],
            [self.labels[i] for i in idx],
            [self.paths[i] for i in idx],
            [self.errors[i] for i in idx],
            self.has_hand[idx],
        )


def check_crop_mode(crop: str) -> str:
    if crop not in CROP_MODES:
        raise AslkitError(f"crop must be one of {', '.join(CROP_MODES)}, got {crop!r}")
    return crop


def hand_square(box: tuple[float, float, float, float], width: int, height: int, margin: float = HAND_MARGIN):
    """A square pixel box (x0, y0, x1, y1) around a hand box given in image fractions, with a margin,
    shifted (not shrunk) to stay inside the image where it can."""
    x0, y0, x1, y1 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    side = min(max(side, 16.0), float(max(width, height)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - side / 2, 0.0), max(width - side, 0.0))
    top = min(max(cy - side / 2, 0.0), max(height - side, 0.0))
    return int(round(left)), int(round(top)), int(round(left + side)), int(round(top + side))


def crop_square(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Crop a pixel box, padding with the edge colour where the box leaves the image."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return img[y0:y1, x0:x1]


def to_model_size(img: np.ndarray, size: int) -> np.ndarray:
    """Resize to (size, size); area interpolation when shrinking (no aliasing), linear when growing."""
    interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(img, (size, size), interpolation=interp))


def prepare_image(img: np.ndarray, size: int, hand_box: tuple[float, float, float, float] | None) -> np.ndarray:
    """What an image model sees: the hand square (when a hand box is given) or the whole image, resized."""
    if hand_box is not None:
        img = crop_square(img, hand_square(hand_box, img.shape[1], img.shape[0]))
    return to_model_size(img, size)


def images_for(
    ds: ImageDataset,
    size: int,
    crop: str = "none",
    cache_dir: str | Path | None = "default",
    workers: int | None = None,
    progress: bool = True,
) -> ImageSet:
    """Load every sample of a dataset at the model's input size (cropped to the hand if asked)."""
    check_crop_mode(crop)
    boxes: list = [None] * len(ds)
    has_hand = np.zeros(len(ds), bool)
    if crop == "hand":
        from aslkit.landmarks.batch import ImageSource, extract_sources

        results = extract_sources(
            [ImageSource(s.path, s.crop) for s in ds.samples],
            cache_dir=cache_dir,
            workers=workers,
            progress=progress,
            desc=f"hand boxes {Path(ds.root).name}",
        )
        for i, r in enumerate(results):
            h = None if isinstance(r, Exception) else r.main_hand()
            if h is not None:
                boxes[i], has_hand[i] = h.box, True
    images = np.zeros((len(ds), size, size, 3), np.uint8)
    errors: list[str | None] = [None] * len(ds)
    for i, s in enumerate(tqdm(ds.samples, desc=f"images {Path(ds.root).name}", unit="img", disable=not progress)):
        try:
            img = crop_box(load_image(s.path), s.crop)
            images[i] = prepare_image(img, size, boxes[i])
        except ImageError as exc:
            errors[i] = str(exc)
    if crop == "none":
        has_hand[:] = True  # the whole image is the input: every readable image gets an answer
    has_hand &= np.array([e is None for e in errors], dtype=bool)
    return ImageSet(images, [s.label for s in ds.samples], [str(s.path) for s in ds.samples], errors, has_hand)


def concat_images(sets: list[ImageSet]) -> ImageSet:
    return ImageSet(
        np.concatenate([s.images for s in sets]),
        sum((s.labels for s in sets), []),
        sum((s.paths for s in sets), []),
        sum((s.errors for s in sets), []),
        np.concatenate([s.has_hand for s in sets]),
    )


def to_tensor_batch(images: np.ndarray):
    """uint8 (N, S, S, 3) -> float32 torch tensor (N, 3, S, S) in [0, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div_(255.0)
