"""Pre-extracted hand landmarks in a ``.npz`` file, as a training/evaluation source.

Layout (NumPy arrays, loaded without pickle):
- ``landmarks`` (N, 21, 3): x, y as fractions of the image, z relative depth (MediaPipe's layout).
- ``label`` (N,): class names (mapped to canonical spellings).
- optional ``handedness`` (N,): MediaPipe's "Left"/"Right" per row; without it every hand is
  taken as already canonical.
- optional ``aspect`` (scalar): image width / height, so x and y get true proportions (default 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aslkit.data.landmark_set import LandmarkSet
from aslkit.data.npz import read_npz
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label
from aslkit.landmarks.features import CANONICAL_HANDEDNESS, canonical_array


def is_landmark_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".npz"


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
    pts = np.empty((len(idx), 21, 3), np.float32)
    for out_i, i in enumerate(idx):
        side = str(hand[i]) if hand is not None else CANONICAL_HANDEDNESS
        pts[out_i] = canonical_array(lm[i], side, a, 1.0)
    has = np.isfinite(pts).all(axis=(1, 2)) & (np.abs(pts).sum(axis=(1, 2)) > 0)
    pts[~has] = 0
    names = [canonical_label(str(labels[i])) for i in idx]
    paths = [f"{p}#{i}" for i in idx]
    return LandmarkSet(pts, has, names, paths, [None] * len(idx))
