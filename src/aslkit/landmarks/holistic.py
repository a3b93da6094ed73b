"""Pose + both hands for every frame of a video: the input of the sequence (word-sign) models.

MediaPipe Holistic in tracking mode, because it is what the common word-sign recordings were made
with (the shared sets' pose + hands layout is Holistic's, face dropped): its hands are found from the
pose's wrists, so "right hand" is the signer's right hand, as in those sets, and the clip features
then see the same thing at training and at prediction time. The models ship inside the mediapipe
wheel; nothing is downloaded.

A video's frames are cached by the file's content (like the photos' landmarks), so evaluating or
training again on the same clips skips MediaPipe.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from aslkit.data.sequences import HAND_POINTS, POSE_HANDS, POSE_POINTS
from aslkit.errors import AslkitError
from aslkit.landmarks.cache import LandmarkCache, default_cache_dir
from aslkit.landmarks.extractor import import_mediapipe, quiet_stderr

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
MAX_SIDE = 640  # Holistic works at 256 px inside; larger frames only cost decoding and resizing time


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


class BodyLandmarker:
    """One RGB frame -> a (258,) pose + hands vector (zeros where a part was not found)."""

    def __init__(self, model_complexity: int = 1, min_detection: float = 0.5, min_tracking: float = 0.5) -> None:
        mp = import_mediapipe()
        self.model_complexity = model_complexity
        with quiet_stderr():
            self._holistic = mp.solutions.holistic.Holistic(
                static_image_mode=False,
                model_complexity=model_complexity,
                smooth_landmarks=True,
                min_detection_confidence=min_detection,
                min_tracking_confidence=min_tracking,
            )

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
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
    """Names the settings in cache keys: other settings never return stale frames."""
    return f"holistic-v1-c{model_complexity}-{MAX_SIDE}px"


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
    """(T, 258) pose + hands landmarks of every frame of a video file, from the cache when it has them.

    Each video gets a fresh tracker: one clip's last pose must not seed the next clip's first frame.
    AslkitError (one line) when the file is missing or no frame of it can be decoded."""
    import cv2

    from aslkit.landmarks.video import open_video

    p = Path(path)
    if not p.is_file():
        raise AslkitError(f"{p}: no such video file")
    lm: BodyLandmarker | None = None
    signature = _signature(model_complexity)
    cache = LandmarkCache(default_cache_dir() if cache_dir == "default" else cache_dir)
    try:
        key = _file_key(p, signature) if cache.enabled else ""
        hit = cache.get(key) if key else None
        if hit is not None:
            return np.asarray(hit["frames"], np.float32).reshape(-1, POSE_HANDS.width)
        cap = open_video(p)
        lm = BodyLandmarker(model_complexity)
        rows = []
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                scale = MAX_SIDE / max(frame.shape[:2])
                if scale < 1:
                    frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                rows.append(lm(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))))
        finally:
            cap.release()
        if not rows:
            raise AslkitError(f"{p}: no frames could be decoded (not a video OpenCV can read?)")
        frames = np.stack(rows)
        if key:
            cache.put(key, {"frames": np.round(frames.astype(np.float64), 5).ravel().tolist()})
        return frames
    finally:
        cache.close()
        if lm is not None:
            lm.close()
