"""Video landmarks in tracking mode, on a clip built at test time from real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import shared_dir

from aslkit.errors import AslkitError
from aslkit.landmarks.video import video_landmarks


def _clip(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    return path


def test_tracking_mode_follows_the_hand_and_loses_it_on_blank_frames(tmp_path: Path) -> None:
    photo = sorted((shared_dir("asl-alphabet-photos") / "B").glob("*.jpg"))[0]
    img = cv2.resize(cv2.imread(str(photo)), (320, 320))
    blank = np.full_like(img, 127)
    clip = _clip(tmp_path / "clip.mp4", [img] * 6 + [blank] * 4)
    frames = list(video_landmarks(clip))
    assert [f.index for f in frames] == list(range(10))
    assert all(f.result.found for f in frames[:6]), "the hand is found and tracked"
    assert not any(f.result.found for f in frames[7:]), "and lost when it leaves the picture"
    assert frames[1].time == pytest.approx(0.1, abs=1e-3)
    assert (frames[0].result.width, frames[0].result.height) == (320, 320)


def test_every_nth_frame(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "grey.mp4", [np.full((64, 64, 3), 90, np.uint8)] * 6)
    assert [f.index for f in video_landmarks(clip, every=2)] == [0, 2, 4]


def test_missing_video_and_camera(tmp_path: Path) -> None:
    with pytest.raises(AslkitError, match="no such video file"):
        list(video_landmarks(tmp_path / "nope.mp4"))
    with pytest.raises(AslkitError, match="cannot open camera 7"):
        list(video_landmarks(7))
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(AslkitError, match=r"bad.mp4: not a video OpenCV can read$"):  # a file is no camera
        list(video_landmarks(bad))
    (tmp_path / "zero.mp4").write_bytes(b"")
    with pytest.raises(AslkitError, match=r"zero.mp4: empty file \(0 bytes\)$"):
        list(video_landmarks(tmp_path / "zero.mp4"))
