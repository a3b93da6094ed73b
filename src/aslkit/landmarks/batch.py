"""Landmarks for many files: content-keyed cache, then MediaPipe on the misses in parallel processes.

MediaPipe Hands uses about one core, so on a 2-core machine a second process nearly doubles
throughput. Results are cached as they arrive, so an interrupted run loses little.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from aslkit.data.images import crop_box, decode_image, read_bytes
from aslkit.errors import ImageError
from aslkit.landmarks.cache import LandmarkCache, content_key, default_cache_dir
from aslkit.landmarks.extractor import HandLandmarker, HandsResult

PARALLEL_MIN = 16  # below this many uncached files, starting worker processes costs more than it saves


@dataclass(frozen=True)
class ImageSource:
    """An image file, optionally with a pixel box (x0, y0, x1, y1) to crop before looking for the hand,
    optionally mirrored left-right (a second view of the same hand, see Recognizer views), and optionally
    as its video-like copy number ``video_like`` (1, 2, ...; 0 = the image as it is; see data.video_like)."""

    path: Path
    crop: tuple[int, int, int, int] | None = None
    mirror: bool = False
    video_like: int = 0


def _prepare(img: np.ndarray, crop, mirror: bool = False, video_like: int = 0, data: bytes = b"") -> np.ndarray:
    img = crop_box(img, crop)
    img = np.ascontiguousarray(img[:, ::-1]) if mirror else img
    if video_like:  # seeded by the file's bytes: the same photo gives the same copy wherever it lies
        from aslkit.data.video_like import copy_seed, degrade

        img = degrade(img, copy_seed(data, video_like))
    return img


def _load(path: str, crop, mirror: bool, video_like: int) -> np.ndarray:
    data = read_bytes(path)
    return _prepare(decode_image(data, path), crop, mirror, video_like, data)


_WORKER: HandLandmarker | None = None


def _worker_init() -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = HandLandmarker(static=True)


def _work(item: tuple[int, str, tuple | None, bool, int, int]) -> tuple[int, dict | None, str | None]:
    idx, path, crop, mirror, video_like, start = item
    try:
        img = _load(path, crop, mirror, video_like)
        assert _WORKER is not None
        return idx, _WORKER(img, start).to_json(), None
    except ImageError as exc:
        return idx, None, str(exc)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def pool_size(workers: int, n_todo: int) -> int:
    """The processes actually started: never more than files to read, nor more than 4 per core. Each process
    loads MediaPipe (about 100 MB and a second or two), so 999 of them for 32 photos took minutes."""
    return max(1, min(workers, n_todo, 4 * (os.cpu_count() or 1)))


def _start_pool(workers: int):
    return mp.get_context("spawn").Pool(workers, _worker_init)  # spawn: MediaPipe is not fork-safe


class LandmarkPool:
    """MediaPipe worker processes shared by several passes (e.g. photos, then the mirror images of
    some), started on first real need, so that worker start-up (seconds: each imports MediaPipe)
    is paid at most once. Use as a context manager."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(1, workers)
        self._pool = None

    def get(self, n_todo: int):
        """The running pool for a pass of ``n_todo`` files, or None where one process is better."""
        if self.workers < 2 or n_todo < 2 or (self._pool is None and n_todo < PARALLEL_MIN):
            return None
        if self._pool is None:
            self._pool = _start_pool(pool_size(self.workers, n_todo))
        return self._pool

    def __enter__(self) -> LandmarkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _cache_keys(srcs: list[ImageSource], sig: str, out: list[HandsResult | ImageError | None]) -> list[str | None]:
    """Each source's cache key: its bytes, the extractor's signature and how the image is altered (crop,
    mirror, video-like recipe); None where the file cannot be read, whose ImageError goes into ``out``."""
    keys: list[str | None] = [None] * len(srcs)
    for i, s in enumerate(srcs):
        try:
            extra = (f":crop={s.crop}" if s.crop else "") + (":mirror" if s.mirror else "")
            if s.video_like:
                from aslkit.data.video_like import recipe_tag

                extra += f":{recipe_tag()}={s.video_like}"
            keys[i] = content_key(read_bytes(s.path), sig + extra)
        except ImageError as exc:
            out[i] = exc
    return keys


def extract_sources(
    sources: Sequence[ImageSource | str | Path],
    cache_dir: str | Path | None = "default",
    workers: int | None = None,
    progress: bool = True,
    desc: str = "hand landmarks",
    landmarker: HandLandmarker | None = None,
    pool: LandmarkPool | None = None,
) -> list[HandsResult | ImageError]:
    """Hand landmarks for each source, in order; an unreadable file gives its ImageError in its slot.

    cache_dir: "default" for the user cache, None to disable caching, or a folder.
    workers: processes for MediaPipe (default: one per core).
    landmarker: reuse an in-process extractor for small batches (the recognizer keeps one warm).
    pool: a LandmarkPool shared with other passes (default: a pool of ``workers`` for this call only).
    """
    srcs = [s if isinstance(s, ImageSource) else ImageSource(Path(s)) for s in sources]
    out: list[HandsResult | ImageError | None] = [None] * len(srcs)
    ref = landmarker or HandLandmarker(static=True)
    sig = ref.signature
    keys = _cache_keys(srcs, sig, out)
    # Open (and so create) the cache only when there is something to look up.
    any_readable = any(k is not None for k in keys)
    cache = LandmarkCache((default_cache_dir() if cache_dir == "default" else cache_dir) if any_readable else None)
    todo: list[int] = []
    start: dict[int, int] = {}
    for i in range(len(srcs)):
        if keys[i] is None:
            continue
        hit = cache.get(keys[i])
        resume = ref.resume_from(HandsResult.from_json(hit)) if hit is not None else None
        if hit is not None and resume == -1:
            out[i] = HandsResult.from_json(hit)
        else:
            todo.append(i)
            start[i] = resume or 0  # continue a shorter cached ladder instead of redoing it

    bar = tqdm(total=len(todo), desc=desc, unit="img", disable=not progress or not todo, leave=False)
    pending: list[tuple[str, dict]] = []

    def _store(i: int, res: dict | None, err: str | None) -> None:
        if err is not None:
            out[i] = ImageError(err)
        else:
            assert res is not None
            out[i] = HandsResult.from_json(res)
            pending.append((keys[i], res))
            if len(pending) >= 64:
                cache.put_many(pending)
                pending.clear()
        bar.update(1)

    items = [(i, str(srcs[i].path), srcs[i].crop, srcs[i].mirror, srcs[i].video_like, start[i]) for i in todo]
    with LandmarkPool(workers) if pool is None else nullcontext(pool) as lp:
        running = lp.get(len(todo))
        if running is not None:
            for i, res, err in running.imap_unordered(_work, items, chunksize=4):
                _store(i, res, err)
    if running is None:
        lm = landmarker or HandLandmarker(static=True)
        for i, path, crop, mirror, video_like, k in items:
            try:
                img = _load(path, crop, mirror, video_like)
                _store(i, lm(img, k).to_json(), None)
            except ImageError as exc:
                _store(i, None, str(exc))
        if landmarker is None:
            lm.close()
    cache.put_many(pending)
    cache.close()
    bar.close()
    return out  # type: ignore[return-value]
