"""Writing annotated videos with OpenCV (live --save and detect's annotated videos)."""

from __future__ import annotations

from pathlib import Path

from aslkit.errors import AslkitError
from aslkit.names import shown, utf8_alias


def video_writer(path: Path, fps: float, width: int, height: int):
    """An OpenCV writer for ``path`` (codec by suffix), shared by live --save and detect's annotated videos."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    # .webm (VP8) is what browsers play of what OpenCV's own FFmpeg can write; .mp4 gets MPEG-4 part 2
    codec = {".mp4": "mp4v", ".webm": "VP80"}.get(path.suffix.lower(), "MJPG")
    fourcc = cv2.VideoWriter_fourcc(*codec)
    with utf8_alias(path) as name:  # a non-UTF-8 name would crash OpenCV
        writer = cv2.VideoWriter(name, fourcc, fps, (width, height))
    if not writer.isOpened():
        raise AslkitError(f"{shown(path)}: OpenCV cannot write this video")
    return writer
