"""Pose + both hands for every frame of a video: the input of the sequence (word-sign) models.

MediaPipe Holistic in tracking mode, because it is what the common word-sign recordings were made
with (the shared sets' pose + hands layout is Holistic's, face dropped): its hands are found from the
pose's wrists, so "right hand" is the signer's right hand, as in those sets, and the clip features
then see the same thing at training and at prediction time. The models ship inside the mediapipe
wheel; nothing is downloaded.

A video's frames are cached by the file's content (like the photos' landmarks), so evaluating or
training again on the same clips skips MediaPipe.

A labelled folder of videos (``<sign>/<take>.mp4``) is read into clips here, and ``load_sequences`` reads
any sequence source: landmark arrays through data.sequences, videos through Holistic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from aslkit.data.sequences import (
    HAND_POINTS,
    POSE_HANDS,
    POSE_POINTS,
    SequenceSet,
    has_landmark_takes,
    nested_videos,
    read_sequence_folder,
    read_sequence_npz,
    video_files,
)
from aslkit.errors import AslkitError, DatasetError
from aslkit.labels import canonical_label
from aslkit.landmarks.cache import LandmarkCache, default_cache_dir
from aslkit.landmarks.extractor import import_mediapipe, mediapipe_api, quiet_stderr

MAX_SIDE = 640  # Holistic works at 256 px inside; larger frames only cost decoding and resizing time


class BodyLandmarker:
    """One RGB frame -> a (258,) pose + hands vector (zeros where a part was not found).

    ``api``: "tasks" (PoseLandmarker + HandLandmarker, see landmarks.tasks.TasksBody) or "legacy" (the
    ``mp.solutions.holistic`` graph); None: ``extractor.mediapipe_api()``."""

    def __init__(
        self, model_complexity: int = 1, min_detection: float = 0.5, min_tracking: float = 0.5, api: str | None = None
    ) -> None:
        mp = import_mediapipe()
        self.model_complexity = model_complexity
        self.api = mediapipe_api(api)
        if self.api == "tasks":
            from aslkit.landmarks.tasks import TasksBody

            with quiet_stderr():
                self._holistic = TasksBody(min_detection, min_tracking)
            return
        with quiet_stderr():
            self._holistic = mp.solutions.holistic.Holistic(
                static_image_mode=False,
                model_complexity=model_complexity,
                smooth_landmarks=True,
                min_detection_confidence=min_detection,
                min_tracking_confidence=min_tracking,
            )

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.api == "tasks":
            with quiet_stderr():
                return self._holistic(rgb)
        with quiet_stderr():
            res = self._holistic.process(rgb)
        row = np.zeros(POSE_HANDS.width, np.float32)
        if res.pose_landmarks is not None:
            pts = [(p.x, p.y, p.z, p.visibility) for p in res.pose_landmarks.landmark[:POSE_POINTS]]
            row[slice(*POSE_HANDS.pose)] = np.asarray(pts, np.float32).ravel()
        for hand, where in ((res.left_hand_landmarks, POSE_HANDS.left), (res.right_hand_landmarks, POSE_HANDS.right)):
            if hand is not None:
                row[slice(*where)] = np.asarray([(p.x, p.y, p.z) for p in hand.landmark[:HAND_POINTS]]).ravel()
        return row

    def close(self) -> None:
        self._holistic.close()

    def __enter__(self) -> BodyLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _signature(model_complexity: int) -> str:
    """Names the settings in cache keys: other settings (or the other MediaPipe API) never return stale frames."""
    api = mediapipe_api()
    return f"holistic-v1-c{model_complexity}-{MAX_SIDE}px" + ("" if api == "legacy" else f"-{api}")


def _file_key(path: Path, signature: str) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest() + ":" + signature


def video_frames(
    path: str | Path,
    cache_dir: str | Path | None = "default",
    model_complexity: int = 1,
) -> np.ndarray:
    """(T, 258) pose + hands landmarks of every frame of a video file, from the cache when it has them."""
    return video_clip(path, cache_dir, model_complexity)[0]


def video_clip(
    path: str | Path,
    cache_dir: str | Path | None = "default",
    model_complexity: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """((T, 258) pose + hands landmarks, (T,) times in seconds) of every frame of a video file, from the cache
    when it has them.

    Times are the file's own clock (CAP_PROP_POS_MSEC, see landmarks.video.frame_time), not frame / fps: a
    phone's variable-frame-rate clip then gives signs at the times they were made. Each video gets a fresh
    tracker: one clip's last pose must not seed the next clip's first frame. AslkitError (one line) when the
    file is missing or no frame of it can be decoded."""
    p = Path(path)
    if not p.is_file():
        raise AslkitError(f"{p}: no such video file")
    signature = _signature(model_complexity)
    cache = LandmarkCache(default_cache_dir() if cache_dir == "default" else cache_dir)
    try:
        key = _file_key(p, signature) if cache.enabled else ""
        hit = cache.get(key) if key else None
        if hit is not None:
            frames = np.asarray(hit["frames"], np.float32).reshape(-1, POSE_HANDS.width)
            times = hit.get("times")
            if times is None or len(times) != len(frames):  # cached before times were kept
                from aslkit.landmarks.video import decode_times

                times = decode_times(p, len(frames))
                cache.put(key, {**hit, "times": [round(float(t), 6) for t in times]})
            return frames, np.asarray(times, np.float64)
        frames, times = _landmark_frames(p, model_complexity)
        if key:
            cache.put(key, {"frames": np.round(frames.astype(np.float64), 5).ravel().tolist(),
                            "times": [round(float(t), 6) for t in times]})  # fmt: skip
        return frames, times
    finally:
        cache.close()


def _landmark_frames(p: Path, model_complexity: int) -> tuple[np.ndarray, np.ndarray]:
    """Holistic over every frame of a video, with each frame's time by the file's clock."""
    import cv2

    from aslkit.landmarks.video import frame_time, open_video, video_fps

    fps = video_fps(p)
    cap = open_video(p)
    rows, times = [], []
    t: float | None = None
    try:
        with BodyLandmarker(model_complexity) as lm:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                t = frame_time(cap.get(cv2.CAP_PROP_POS_MSEC), len(rows), fps, t)
                scale = MAX_SIDE / max(frame.shape[:2])
                if scale < 1:
                    frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                rows.append(lm(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))))
                times.append(t)
    finally:
        cap.release()
    if not rows:
        raise AslkitError(f"{p}: no frames could be decoded (not a video OpenCV can read?)")
    return np.stack(rows), np.asarray(times, np.float64)


def video_aspect(path: str | Path) -> float | None:
    """A video's camera shape (frame width / height) as its frames decode (a phone's rotation applied), or None
    when no frame decodes. Sign models use it to show the clip as their training camera would."""
    from aslkit.landmarks.video import open_video

    cap = open_video(path)
    try:
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None or frame.shape[0] == 0:
        return None
    return frame.shape[1] / frame.shape[0]


def video_times(
    path: str | Path, cache_dir: str | Path | None = "default", frames: int | None = None, model_complexity: int = 1
) -> np.ndarray:
    """The times of a video's frames as ``video_clip`` gives them: from the cache when its landmarks were read
    (no decoding), else decoded (never MediaPipe); ``frames``: how many the caller's clip has."""
    p = Path(path)
    cache = LandmarkCache(default_cache_dir() if cache_dir == "default" else cache_dir)
    try:
        hit = cache.get(_file_key(p, _signature(model_complexity))) if cache.enabled and p.is_file() else None
    finally:
        cache.close()
    times = None if hit is None else hit.get("times")
    if times is not None and (frames is None or len(times) == frames):
        return np.asarray(times, np.float64)
    from aslkit.landmarks.video import decode_times

    return decode_times(p, frames)


def clip_clock(data: SequenceSet, i: int, cache_dir: str | Path | None = "default") -> np.ndarray:
    """Video clip ``i`` of ``data``: its frame times as they were read with its landmarks, else as
    ``video_times`` gives them (the cache, or decoding the file)."""
    times = data.clip_times(i)
    if times is None or len(times) != len(data.sequences[i]):
        times = video_times(data.sources[i], cache_dir, len(data.sequences[i]))
    return times


def read_video_folder(
    root: str | Path, cache_dir: str | Path | None = "default", progress: bool = False
) -> SequenceSet:
    """``<sign>/<take>.mp4`` videos -> pose + hands clips (MediaPipe Holistic per frame, cached).

    A video that cannot be decoded is left out and listed in ``errors``, never a stop half way."""
    from tqdm import tqdm

    root = Path(root)
    files = video_files(root)
    if not files:
        raise DatasetError(f"{root}: no videos found (expected <sign>/<take>.mp4)")
    seqs, labels, sources, errors, times, aspects = [], [], [], [], [], []
    errors += nested_videos(root)  # said, not skipped without a word
    for f in tqdm(files, desc=f"videos {root.name}", unit="video", disable=not progress):
        try:
            frames, clock = video_clip(f, cache_dir)
            aspect = video_aspect(f)
        except AslkitError as exc:
            errors.append((str(f), str(exc)))
            continue
        seqs.append(frames)
        times.append(clock)
        aspects.append(aspect)
        labels.append(canonical_label(f.parent.name))
        sources.append(str(f))
    if not seqs:
        raise DatasetError(f"{root}: none of its {len(files)} video(s) could be read ({errors[0][1]})")
    return SequenceSet(seqs, labels, POSE_HANDS, None, sources, errors, times, aspects)


def load_sequences(path: str | Path, cache_dir: str | Path | None = "default", progress: bool = False) -> SequenceSet:
    """Any sequence source: a ``.npz`` file, or a folder of ``<sign>/<take>`` landmark arrays, .pose files or
    videos (``cache_dir`` and ``progress`` apply to videos)."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".npz":
        return read_sequence_npz(p)
    if p.is_dir():
        if not has_landmark_takes(p) and video_files(p):
            return read_video_folder(p, cache_dir, progress)
        return read_sequence_folder(p)
    if not p.exists():
        raise DatasetError(f"{p}: no such file or folder")
    raise DatasetError(f"{p}: expected a .npz of sequences or a folder of <sign>/<take> landmark arrays or .pose files")
