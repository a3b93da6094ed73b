"""Writing annotated videos (live --out, detect's annotated videos, capture's takes).

``.mp4`` is H.264 (libx264) through PyAV when it is installed (``pip install 'aslkit[video]'``; the ``pose``
extra brings it too): the codec browsers play. OpenCV's own FFmpeg has no H.264 encoder, so without PyAV an
``.mp4`` is MPEG-4 Part 2 (``mp4v``), which browsers do not play, and a note says so. Why PyAV is not a core
dependency: its wheel is 36 MB (104 MB installed) and bundles FFmpeg with libx264/libx265, which are GPL.

The H.264 writer stamps each frame with the time it is given (the input's own clock), so an annotated copy
of a variable-frame-rate phone video keeps its timing; OpenCV's writers can only space frames evenly at one
frame rate. ``.webm`` (VP8) and ``.avi`` (MJPG) stay with OpenCV.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from aslkit.errors import AslkitError
from aslkit.names import shown, utf8_alias

H264_HINT = "pip install 'aslkit[video]'"
TIME_BASE = Fraction(1, 90000)  # the MPEG clock: a frame's time is kept to 11 microseconds


class FrameWriter(Protocol):
    """What every writer offers: a BGR frame at an optional time in seconds, then ``release``."""

    def write(self, frame: np.ndarray, t: float | None = None) -> None: ...

    def release(self) -> None: ...


def h264_available() -> bool:
    """Whether ``.mp4`` is written as H.264 (PyAV installed)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


class OpenCvWriter:
    """cv2.VideoWriter with ``write(frame, t)``: ``t`` is ignored (frames are evenly spaced at ``fps``)."""

    def __init__(self, path: Path, fps: float, width: int, height: int, codec: str) -> None:
        import cv2

        with utf8_alias(path) as name:  # a non-UTF-8 name would crash OpenCV
            self._w = cv2.VideoWriter(name, cv2.VideoWriter_fourcc(*codec), fps, (width, height))
        if not self._w.isOpened():
            raise AslkitError(f"{shown(path)}: OpenCV cannot write this video")

    def write(self, frame: np.ndarray, t: float | None = None) -> None:
        self._w.write(frame)

    def release(self) -> None:
        self._w.release()


class H264Writer:
    """H.264 in .mp4 through PyAV (libx264, yuv420p, fast start for the web). Frames are stamped with ``t``
    (seconds, the input's clock; n / fps when not given), always later than the one before."""

    def __init__(self, path: Path, fps: float, width: int, height: int) -> None:
        import av

        self.path, self.fps, self.n, self._last = path, fps, 0, -1
        self.size = (width + width % 2, height + height % 2)  # yuv420p needs even sides
        try:
            self._file = open(path, "wb")  # noqa: SIM115 - held until release(); any name works, UTF-8 or not
            self._box = av.open(self._file, "w", format="mp4", options={"movflags": "+faststart"})
            self._stream: Any = self._box.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        except (OSError, av.FFmpegError) as exc:
            self._close_quietly()
            raise AslkitError(f"{shown(path)}: cannot write this video ({exc})") from None
        self._stream.width, self._stream.height = self.size
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = TIME_BASE
        self._stream.codec_context.time_base = TIME_BASE
        self._stream.options = {"preset": "veryfast", "crf": "23"}

    def write(self, frame: np.ndarray, t: float | None = None) -> None:
        import av

        h, w = frame.shape[:2]
        if (w, h) != self.size:  # an odd side: repeat the last row or column
            frame = np.pad(frame, ((0, self.size[1] - h), (0, self.size[0] - w), (0, 0)), mode="edge")
        seconds = self.n / self.fps if t is None else t
        pts = max(int(round(seconds / TIME_BASE)), self._last + 1)
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        vf.pts, vf.time_base = pts, TIME_BASE
        self._mux(self._stream.encode(vf))
        self._last, self.n = pts, self.n + 1

    def _mux(self, packets: list) -> None:
        import av

        try:
            self._box.mux(packets)
        except av.FFmpegError as exc:
            raise AslkitError(f"{shown(self.path)}: cannot write this video ({exc})") from None

    def release(self) -> None:
        if self._box is None:
            return
        try:
            self._mux(self._stream.encode())  # the frames the encoder still holds
        finally:
            self._close_quietly()

    def _close_quietly(self) -> None:
        box, self._box = getattr(self, "_box", None), None
        if box is not None:
            box.close()
        if getattr(self, "_file", None) is not None:
            self._file.close()


def video_writer(path: Path, fps: float, width: int, height: int) -> FrameWriter:
    """A writer for ``path`` (codec by suffix, see the module docstring), shared by live, detect and capture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".mp4" and h264_available():
        return H264Writer(path, fps, width, height)
    if suffix == ".mp4":
        print(f"aslkit: note: {shown(path)} is written as MPEG-4 Part 2 (mp4v), which browsers do not play; "
              f"{H264_HINT} for H.264, or write .webm", file=sys.stderr)  # fmt: skip
    # .webm (VP8) is what browsers play of what OpenCV's own FFmpeg can write
    return OpenCvWriter(path, fps, width, height, {".mp4": "mp4v", ".webm": "VP80"}.get(suffix, "MJPG"))
