"""Hand landmarks for every frame of a video file or camera, in MediaPipe's tracking mode.

Tracking mode runs the palm detector only when it has lost the hand, then follows it from frame
to frame: faster and steadier than treating frames as unrelated photos.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aslkit.errors import AslkitError
from aslkit.landmarks.extractor import HandLandmarker, HandsResult, quiet_stderr
from aslkit.names import regular_file_problem, shown, utf8_alias


@dataclass
class FrameHands:
    """Landmarks of one video frame; ``time`` in seconds from the start."""

    index: int
    time: float
    result: HandsResult


def frame_time(pos_msec: float | None, n: int, fps: float, last: float | None) -> float:
    """Frame ``n``'s time in seconds: the decoder's timestamp (CAP_PROP_POS_MSEC, read right after the
    frame) where it is usable, else n / fps. Unusable: missing or not finite or negative, 0 after the
    first frame (backends that give no timestamps), or not after the previous frame's time ``last``.
    Never earlier than ``last`` + a frame: a stream whose timestamps go bad midway keeps moving on."""
    step = 1.0 / fps if fps > 0 and math.isfinite(fps) else 1.0 / 30.0
    fallback = n * step if last is None or n * step > last else last + step
    if pos_msec is None or not math.isfinite(pos_msec) or pos_msec < 0:
        return fallback
    t = pos_msec / 1000.0
    if (n > 0 and t == 0) or (last is not None and t <= last):
        return fallback
    return t


def open_video(source: str | int | Path):
    """An opened cv2.VideoCapture, or AslkitError with one line saying why not."""
    import cv2

    src: str | int = source if isinstance(source, int) else str(source)
    if isinstance(src, str) and src.isdigit():
        src = int(src)
    if isinstance(src, str) and "://" not in src:
        why = regular_file_problem(src)  # a FIFO would block FFmpeg forever; a folder is not a video
        if why is not None:
            raise AslkitError(f"{shown(src)}: {why}" if why != "no such file" else f"{shown(src)}: no such video file")
    with quiet_stderr(), contextlib.ExitStack() as stack:  # FFmpeg's own complaint: ours is the one line below
        name = src if isinstance(src, int) or "://" in src else stack.enter_context(utf8_alias(src))
        cap = cv2.VideoCapture(name)
    if not cap.isOpened():
        if isinstance(src, int):
            raise AslkitError(f"cannot open camera {src} (no such camera, or it is in use)")
        if "://" in src:
            raise AslkitError(f"cannot open the stream {shown(src)}")
        empty = Path(src).stat().st_size == 0
        raise AslkitError(f"{shown(src)}: " + ("empty file (0 bytes)" if empty else "not a video OpenCV can read"))
    return cap


def cut_short(cap, frames_read: int, source: str | Path) -> str | None:
    """A note when a video file ended well before the frame count its header gives (cut off, or damaged), so
    that a reading of half a video is not taken for the whole; None when it did not, or the count is unknown."""
    import cv2

    declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if declared <= 0 or frames_read >= 0.9 * declared or declared - frames_read <= 2:  # headers are approximate
        return None
    where = shown(str(source))
    return f"{where} ended after {frames_read} of the {declared} frames its header gives (cut short or damaged)"


def video_fps(path: str | Path) -> float:
    """A video file's frame rate as its container states it, or 30 where it states none (or nonsense)."""
    import cv2

    cap = open_video(path)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return fps if math.isfinite(fps) and 1.0 < fps <= 1000.0 else 30.0


def decode_times(path: str | Path, frames: int | None = None) -> np.ndarray:
    """Each frame's time in seconds by the file's own clock, read without running MediaPipe (frames are grabbed,
    not converted); ``frames``: how many the caller has, so the answer always has that length (n / fps beyond
    what the file gives)."""
    import cv2

    fps = video_fps(path)
    cap = open_video(path)
    times: list[float] = []
    t: float | None = None
    try:
        while (frames is None or len(times) < frames) and cap.grab():
            t = frame_time(cap.get(cv2.CAP_PROP_POS_MSEC), len(times), fps, t)
            times.append(t)
    finally:
        cap.release()
    while frames is not None and len(times) < frames:
        t = frame_time(None, len(times), fps, t)
        times.append(t)
    return np.asarray(times, np.float64)


def video_landmarks(
    source: str | int | Path, max_hands: int = 2, every: int = 1, landmarker: HandLandmarker | None = None
) -> Iterator[FrameHands]:
    """Yield landmarks for each ``every``-th frame of a video file, stream URL or camera index; a file's frame
    ``time`` by its own clock (see ``frame_time``), a camera's or stream's at n / fps."""
    import cv2

    is_file = not isinstance(source, int) and not str(source).isdigit() and "://" not in str(source)
    cap = open_video(source)
    lm = landmarker or HandLandmarker(static=False, max_hands=max_hands)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    i = 0
    t: float | None = None
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            t = frame_time(cap.get(cv2.CAP_PROP_POS_MSEC) if is_file else None, i, fps, t)
            if i % every == 0:
                rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                yield FrameHands(i, t, lm(rgb))
            i += 1
    finally:
        cap.release()
        if landmarker is None:
            lm.close()
    if i == 0:
        raise AslkitError(f"{shown(str(source))}: no frames could be read")
