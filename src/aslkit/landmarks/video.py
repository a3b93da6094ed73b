"""Hand landmarks for every frame of a video file or camera, in MediaPipe's tracking mode.

Tracking mode runs the palm detector only when it has lost the hand, then follows it from frame
to frame: faster and steadier than treating frames as unrelated photos.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aslkit.errors import AslkitError
from aslkit.landmarks.extractor import HandLandmarker, HandsResult, _quiet_stderr
from aslkit.names import regular_file_problem, shown, utf8_alias


@dataclass
class FrameHands:
    """Landmarks of one video frame; ``time`` in seconds from the start."""

    index: int
    time: float
    result: HandsResult


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
    with _quiet_stderr(), contextlib.ExitStack() as stack:  # FFmpeg's own complaint: ours is the one line below
        name = src if isinstance(src, int) or "://" in src else stack.enter_context(utf8_alias(src))
        cap = cv2.VideoCapture(name)
    if not cap.isOpened():
        what = f"camera {src}" if isinstance(src, int) else shown(src)
        raise AslkitError(f"cannot open {what} (no such camera, or not a video OpenCV can read)")
    return cap


def video_landmarks(
    source: str | int | Path, max_hands: int = 2, every: int = 1, landmarker: HandLandmarker | None = None
) -> Iterator[FrameHands]:
    """Yield landmarks for each ``every``-th frame of a video file, stream URL or camera index."""
    import cv2

    cap = open_video(source)
    lm = landmarker or HandLandmarker(static=False, max_hands=max_hands)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    i = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % every == 0:
                rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                yield FrameHands(i, i / fps, lm(rgb))
            i += 1
    finally:
        cap.release()
        if landmarker is None:
            lm.close()
    if i == 0:
        raise AslkitError(f"{shown(str(source))}: no frames could be read")
