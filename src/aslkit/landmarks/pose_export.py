"""`aslkit extract --format pose`: clips as ``.pose`` files (pose-format), for the sign-language tools that read them.

Input: a video, or any sequence source (``<sign>/<take>`` videos, .npy or .pose takes, a .npz of clips).
Output: a new folder ``OUT/<sign>/<take>.pose``, which ``train``, ``evaluate`` and ``predict`` read back as
clips. A video's landmarks are MediaPipe Holistic's (cached, as for training), written at the video's own
frame size and frame rate; landmark arrays carry neither, so they are written on a ``CANVAS`` square at
``fps`` (30 unless given: the rate of the webcam recordings the shared clip sets come from).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aslkit.data.pose_files import CANVAS, require_pose_format
from aslkit.data.sequences import SequenceSet, is_sequence_source, is_video_path, write_pose_clip
from aslkit.errors import AslkitError
from aslkit.labels import canonical_label
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder

ARRAY_FPS = 30.0


@dataclass
class PoseExtractResult:
    """Where the .pose files went, how many, and which inputs could not be read."""

    out: Path
    files: int
    seconds: float
    errors: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "format": "pose", "files": self.files, "seconds": round(self.seconds, 2),
                "errors": [{"path": p, "error": why} for p, why in self.errors]}  # fmt: skip


def pose_extract_text(r: dict[str, Any]) -> str:
    """What `aslkit extract --format pose` prints for ``PoseExtractResult.to_json()``."""
    bad = f"; {len(r['errors'])} input(s) could not be read (first: {r['errors'][0]['error']})" if r["errors"] else ""
    return f"{r['files']} .pose file(s) in {r['seconds']} s in {r['out']}{bad}"


def _video_geometry(path: str) -> tuple[int, int, float]:
    """(width, height, fps) of a video file as its container states them."""
    import cv2

    from aslkit.landmarks.video import open_video, video_fps

    cap = open_video(path)
    try:
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    return (w, h, video_fps(path)) if w > 0 and h > 0 else (CANVAS, CANVAS, video_fps(path))


def _safe(name: str) -> str:
    """One plain path component: a label or signer from a .npz may hold '/', or be '..'."""
    name = "".join("_" if c in "/\\\0" or ord(c) < 32 else c for c in name)
    return "_" + name if not name or name.startswith(".") else name


def _take_name(source: str, index: int, signer: str | None) -> str:
    """A take's file name (no suffix): its own name, or for a clip of a .npz its signer and index."""
    if "#" in source and source.rsplit("#", 1)[1].isdigit():
        return _safe(f"{signer}-{index:05d}" if signer else f"{index:05d}")
    return Path(source).stem if Path(source).suffix else Path(source).name


def _load(data: Path, cache_dir: str | Path | None, progress: bool) -> SequenceSet:
    from aslkit.data.sequences import POSE_HANDS
    from aslkit.landmarks.holistic import load_sequences, video_frames

    if data.is_file() and is_video_path(data):
        return SequenceSet([video_frames(data, cache_dir)], [canonical_label(data.stem)], POSE_HANDS, None, [str(data)])
    if not is_sequence_source(data):
        raise AslkitError(
            f"{shown(data)}: --format pose reads a video or landmark clips (<sign>/<take>.mp4, .npy, .pose, or a "
            ".npz of sequences); photos go to Parquet shards (--format parquet)"
        )
    return load_sequences(data, cache_dir, progress)


def extract_pose(
    data: str | Path,
    out: str | Path,
    cache_dir: str | Path | None = "default",
    fps: float | None = None,
    progress: bool = False,
) -> PoseExtractResult:
    """Every clip of ``data`` as ``out/<sign>/<take>.pose`` (a single video: ``out/<name>.pose``); ``out`` is a
    new folder that appears only when every file is written. ``fps`` is written for landmark arrays (default 30);
    a video keeps its own."""
    require_pose_format()  # before any MediaPipe work: a missing extra costs nothing
    src, dest = Path(data), Path(out)
    check_new_folder(dest, [data], beside_files=True)
    t0 = time.perf_counter()
    clips = _load(src, cache_dir, progress)
    single = src.is_file() and is_video_path(src)
    with new_folder(dest, [data], beside_files=True) as stage:
        used: set[Path] = set()
        for i, (frames, label, source) in enumerate(zip(clips.sequences, clips.labels, clips.paths, strict=True)):
            signer = clips.signers[i] if clips.signers is not None else None
            name = _take_name(source, i, signer)
            target = stage / f"{name}.pose" if single else stage / _safe(label) / f"{name}.pose"
            k = 2
            while target in used:  # take-1.npy beside a take-1/ frame folder: both kept
                target, k = target.with_name(f"{name}-{k}.pose"), k + 1
            used.add(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            w, h, rate = _video_geometry(source) if is_video_path(source) else (CANVAS, CANVAS, fps or ARRAY_FPS)
            write_pose_clip(target, frames, rate, w, h)
    return PoseExtractResult(dest, len(clips), time.perf_counter() - t0, list(clips.errors))
