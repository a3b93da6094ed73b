"""Exact and near-duplicate images, found by content: byte hashes, then a look-alike search verified by
aligning the two images.

Why not a perceptual hash alone: augmented copies (the usual 3x "augmented" export of a labelling
platform) are cropped, zoomed, sheared, rotated, mirrored, greyed and re-lit; on the shared detection
set a 64-bit pHash puts a quarter of such copies further apart than unrelated photos of the same room.
So a cheap global descriptor only proposes candidates (each image's ``candidates`` most similar,
mirror included), and each candidate pair is checked the way a person would: ORB keypoints matched,
an affine transform fitted with RANSAC, one image warped onto the other, and their pixels compared
(normalized correlation over the overlap). Photos of the same room with another hand shape align on
the background but not on the hand, so they stay apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

SIDE = 256  # images are compared as SIDE x SIDE greyscale
MIN_OVERLAP = 0.3  # of the image that must overlap after alignment for the correlation to mean anything


@dataclass
class DuplicateSettings:
    """candidates: look-alikes verified per image; min_inliers: matched keypoints the alignment must
    explain; min_correlation: pixel agreement after alignment (0.95: 491 of 495 groups found on the
    shared detection train split hold copies of one photo only)."""

    candidates: int = 10
    min_inliers: int = 10
    min_correlation: float = 0.95


def sha1_groups(blobs: Sequence[bytes | None]) -> list[list[int]]:
    """Indices of byte-identical files, in groups of two or more (None: unreadable, never grouped)."""
    by: dict[str, list[int]] = {}
    for i, b in enumerate(blobs):
        if b is not None:
            by.setdefault(hashlib.sha1(b).hexdigest(), []).append(i)
    return [g for g in by.values() if len(g) > 1]


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """The SIDE x SIDE greyscale form the comparison works on."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def _descriptor(grey: np.ndarray) -> np.ndarray:
    import cv2

    v = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    v -= v.mean()
    return v / (np.linalg.norm(v) + 1e-6)


def _candidates(thumbs: list[np.ndarray], k: int) -> set[tuple[int, int]]:
    """Each image's k most similar others (16x16 correlation, the mirror image too), as (i, j) with i < j."""
    d = np.stack([_descriptor(t) for t in thumbs])
    dm = np.stack([_descriptor(np.ascontiguousarray(t[:, ::-1])) for t in thumbs])
    k = min(k, len(thumbs) - 1)
    pairs: set[tuple[int, int]] = set()
    for a in range(0, len(d), 1024):
        sim = np.maximum(d[a : a + 1024] @ d.T, d[a : a + 1024] @ dm.T)
        sim[np.arange(len(sim)), np.arange(a, a + len(sim))] = -np.inf
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(sim), 0), int)
        for r, row in enumerate(top):
            i = a + r
            pairs.update((min(i, int(j)), max(i, int(j))) for j in row)
    return pairs


class _Features:
    """ORB keypoints of an image and of its mirror image."""

    def __init__(self, grey: np.ndarray, orb) -> None:
        self.grey = grey
        self.plain = self._orb(grey, orb)
        self.mirror = self._orb(np.ascontiguousarray(grey[:, ::-1]), orb)

    @staticmethod
    def _orb(grey: np.ndarray, orb) -> tuple[np.ndarray, np.ndarray | None]:
        kp, desc = orb.detectAndCompute(grey, None)
        return np.array([k.pt for k in kp], np.float32).reshape(-1, 2), desc


def _correlation(a: np.ndarray, b: np.ndarray, affine: np.ndarray) -> float:
    """Normalized correlation of ``a`` warped by ``affine`` and ``b``, over where they overlap."""
    import cv2

    warped = cv2.warpAffine(a.astype(np.float32), affine, (SIDE, SIDE), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones((SIDE, SIDE), np.float32), affine, (SIDE, SIDE)) > 0.99
    if mask.mean() < MIN_OVERLAP:
        return -1.0
    x, y = warped[mask], b.astype(np.float32)[mask]
    x, y = x - x.mean(), y - y.mean()
    den = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / den) if den > 1e-3 else -1.0


def _verify(fi: _Features, fj: _Features, matcher, settings: DuplicateSettings) -> float:
    """The pixel correlation of i aligned onto j (or onto j's mirror image); -1 when they do not align."""
    import cv2

    best = -1.0
    for (pj, dj), grey_j in ((fj.plain, fj.grey), (fj.mirror, np.ascontiguousarray(fj.grey[:, ::-1]))):
        pi, di = fi.plain
        if di is None or dj is None or len(di) < settings.min_inliers or len(dj) < settings.min_inliers:
            continue
        good = [m[0] for m in matcher.knnMatch(di, dj, k=2) if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
        if len(good) < settings.min_inliers:
            continue
        src = pi[[m.queryIdx for m in good]]
        dst = pj[[m.trainIdx for m in good]]
        affine, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
        if affine is None or int(inliers.sum()) < settings.min_inliers:
            continue
        best = max(best, _correlation(fi.grey, grey_j, affine))
    return best


@dataclass
class NearDuplicates:
    """groups: indices of images that are copies of one another (two or more each, largest first);
    pairs: every verified (i, j, correlation) that joined them."""

    groups: list[list[int]]
    pairs: list[tuple[int, int, float]]


def near_duplicate_groups(
    thumbs: Sequence[np.ndarray | None], settings: DuplicateSettings | None = None, progress: bool = False
) -> NearDuplicates:
    """Group images (SIDE x SIDE greyscale thumbnails; None for unreadable ones) that are copies of one
    photo under crop, zoom, rotation, shear, mirroring, greying or lighting changes."""
    import cv2

    s = settings or DuplicateSettings()
    idx = [i for i, t in enumerate(thumbs) if t is not None and float(t.std()) > 1.0]  # flat images: nothing to align
    if len(idx) < 2:
        return NearDuplicates([], [])
    cv2.setNumThreads(1)
    orb = cv2.ORB_create(nfeatures=500)
    feats = {i: _Features(thumbs[i], orb) for i in tqdm(idx, desc="keypoints", disable=not progress, leave=False)}
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    local = _candidates([thumbs[i] for i in idx], s.candidates)
    parent = list(range(len(thumbs)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs: list[tuple[int, int, float]] = []
    for a, b in tqdm(sorted(local), desc="near-duplicates", disable=not progress, leave=False):
        i, j = idx[a], idx[b]
        corr = _verify(feats[i], feats[j], matcher, s)
        if corr >= s.min_correlation:
            pairs.append((i, j, round(corr, 4)))
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in idx:
        groups.setdefault(root(i), []).append(i)
    found = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
    return NearDuplicates(found, pairs)
