"""Pre-extracted hand landmarks in a ``.npz`` file, as a training/evaluation source.

Layout (NumPy arrays, loaded without pickle):
- ``landmarks`` (N, 21, 3): x, y as fractions of the image, z relative depth (MediaPipe's layout).
- ``label`` (N,): class names (mapped to canonical spellings).
- optional ``handedness`` (N,): MediaPipe's "Left"/"Right" per row. Without it the file's hand
  side is inferred once for the whole file: letters are shown palm to the viewer, so if most rows
  show the back of the canonical hand, the file holds the other hand and every row is mirrored.
- optional ``aspect`` (scalar): image width / height, so x and y get true proportions (default 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aslkit.data.npz import read_npz
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label
from aslkit.landmarks.features import CANONICAL_HANDEDNESS, canonical_array, other_side
from aslkit.landmarks.landmark_set import LandmarkSet


def is_landmark_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".npz"


def infer_side(landmarks: np.ndarray, aspect: float = 1.0) -> str:
    """MediaPipe's handedness label for a set of hands of one side, from their geometry.

    A hand and its mirror image differ in which way the palm faces once both are made canonical:
    most letters face the palm to the viewer, so a set whose canonical palms mostly face away is
    the other hand. (Without this, a right-handed file read as left-handed trains the model on
    mirror images, which blurs the letters that differ by direction: G/H, K/P.)
    """
    pts = canonical_array(landmarks, CANONICAL_HANDEDNESS, aspect, 1.0)
    ok = np.isfinite(pts).all(axis=(1, 2)) & (np.abs(pts).sum(axis=(1, 2)) > 0)
    if not ok.any():
        return CANONICAL_HANDEDNESS
    p = pts[ok]
    facing = np.cross(p[:, 5] - p[:, 0], p[:, 17] - p[:, 0])[:, 2]
    return CANONICAL_HANDEDNESS if np.median(facing) <= 0 else other_side(CANONICAL_HANDEDNESS)


def load_landmark_npz(path: str | Path, stride: int = 1, aspect: float | None = None) -> LandmarkSet:
    """Read a landmark .npz into a LandmarkSet (every ``stride``-th row: video frames are near-duplicates)."""
    p = Path(path)
    arrays = read_npz(p, "landmark")
    missing = {"landmarks", "label"} - set(arrays)
    if missing:
        raise DatasetError(f"{p}: missing array(s) {sorted(missing)}; expected landmarks (N,21,3) and label (N,)")
    lm = np.asarray(arrays["landmarks"], dtype=np.float32)
    labels = arrays["label"]
    if lm.ndim != 3 or lm.shape[1:] != (21, 3):
        raise DatasetError(f"{p}: landmarks must be (N, 21, 3), got {lm.shape}")
    if len(labels) != len(lm):
        raise DatasetError(f"{p}: {len(lm)} landmark rows but {len(labels)} labels")
    idx = np.arange(0, len(lm), max(1, int(stride)))
    a = float(aspect) if aspect else float(arrays.get("aspect", 1.0))
    hand = arrays.get("handedness")
    sides = [str(hand[i]) for i in idx] if hand is not None else [infer_side(lm[idx], a)] * len(idx)
    pts = np.empty((len(idx), 21, 3), np.float32)
    for out_i, i in enumerate(idx):
        pts[out_i] = canonical_array(lm[i], sides[out_i], a, 1.0)
    has = np.isfinite(pts).all(axis=(1, 2)) & (np.abs(pts).sum(axis=(1, 2)) > 0)
    pts[~has] = 0
    names = [canonical_label(str(labels[i])) for i in idx]
    paths = [f"{p}#{i}" for i in idx]
    return LandmarkSet(pts, has, names, paths, [None] * len(idx))
