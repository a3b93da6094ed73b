"""A labelled image set turned into canonical hand points, ready for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aslkit.data.dataset import ImageDataset
from aslkit.errors import ImageError
from aslkit.landmarks.batch import ImageSource, LandmarkPool, extract_sources
from aslkit.landmarks.extractor import HandsResult
from aslkit.landmarks.features import canonical_points


@dataclass
class LandmarkSet:
    """Per sample: canonical hand points (zeros without a hand), hand flag, label, path, error."""

    pts: np.ndarray
    has_hand: np.ndarray
    labels: list[str]
    paths: list[str]
    errors: list[str | None]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> LandmarkSet:
        return LandmarkSet(
            self.pts[idx],
            self.has_hand[idx],
            [self.labels[i] for i in idx],
            [self.paths[i] for i in idx],
            [self.errors[i] for i in idx],
        )

    @property
    def readable(self) -> np.ndarray:
        return np.array([e is None for e in self.errors], dtype=bool)


def from_results(results: list[HandsResult | ImageError], labels: list[str], paths: list[str]) -> LandmarkSet:
    n = len(results)
    pts = np.zeros((n, 21, 3), np.float32)
    has = np.zeros(n, bool)
    errors: list[str | None] = [None] * n
    for i, r in enumerate(results):
        if isinstance(r, Exception):
            errors[i] = str(r)
            continue
        h = r.main_hand()
        if h is not None:
            pts[i] = canonical_points(h, r.width, r.height)
            has[i] = True
    return LandmarkSet(pts, has, list(labels), list(paths), errors)


def landmarks_for(
    ds: ImageDataset,
    cache_dir="default",
    workers: int | None = None,
    progress: bool = True,
    mirror: bool = False,
    pool: LandmarkPool | None = None,
    video_like: int = 0,
) -> LandmarkSet:
    """Run (or read cached) hand landmarks for every sample of a dataset (of its mirror images if asked).

    video_like: instead of the samples, their video-like copies 1..video_like (training only, see
    data.video_like): copy 1 of every sample, then copy 2 of every sample, ...
    """
    copies = range(1, video_like + 1) if video_like > 0 else (0,)
    samples = [s for _ in copies for s in ds.samples]
    results = extract_sources(
        [ImageSource(s.path, s.crop, mirror, k) for k in copies for s in ds.samples],
        cache_dir=cache_dir,
        workers=workers,
        progress=progress,
        desc=f"landmarks {Path(ds.root).name}"
        + (" (mirrored)" if mirror else "")
        + (f" (video-like x{video_like})" if video_like > 0 else ""),
        pool=pool,
    )
    return from_results(results, [s.label for s in samples], [str(s.path) for s in samples])


def concat(sets: list[LandmarkSet]) -> LandmarkSet:
    return LandmarkSet(
        np.concatenate([s.pts for s in sets]),
        np.concatenate([s.has_hand for s in sets]),
        sum((s.labels for s in sets), []),
        sum((s.paths for s in sets), []),
        sum((s.errors for s in sets), []),
    )
