"""Video time from the file: on a real variable-frame-rate clip (built with PyAV at uneven timestamps), every time
aslkit reports follows the file's own clock, not frame / fps; and annotated .mp4 copies are H.264 with the input's
timestamps (mp4v and a note without PyAV)."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import shared_dir
from test_segments import _frames

from aslkit.cli import main
from aslkit.data.sequences import POSE_HANDS
from aslkit.landmarks import holistic
from aslkit.landmarks.segments import frame_edges, signing_segments
from aslkit.landmarks.video import decode_times, video_landmarks

av = pytest.importorskip("av", reason="PyAV is not installed (pip install 'aslkit[video]')")

MS = 1e-3  # "within a millisecond"


def vfr_clip(path: Path, frames: list[np.ndarray], times: list[float], codec: str = "libx264") -> Path:
    """An .mp4 whose frames are stamped at ``times`` (seconds, uneven): what a phone writes."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as box:
        s = box.add_stream(codec, rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.time_base = s.codec_context.time_base = Fraction(1, 1000)
        for f, t in zip(frames, times, strict=True):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="bgr24")
            vf.pts, vf.time_base = round(t * 1000), Fraction(1, 1000)
            box.mux(s.encode(vf))
        box.mux(s.encode())
    return path


def file_times(path: Path) -> list[float]:
    """Each frame's time as PyAV (not OpenCV) reads it: the reference clock."""
    with av.open(str(path)) as box:
        return [float(f.time) for f in box.decode(video=0)]


def nominal_fps(path: Path) -> float:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return fps


# uneven: 10 fps, then a burst at 50 fps, then 10 fps again (a phone slowing down in a dim room)
SLOW_FAST_SLOW = [i * 0.1 for i in range(10)] + [1.0 + i * 0.02 for i in range(20)] + [1.4 + i * 0.1 for i in range(10)]


def _grey(n: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    return [np.full((size[1], size[0], 3), 40 + 5 * i, np.uint8) for i in range(n)]


def test_the_clip_is_variable_frame_rate_and_aslkit_reads_its_clock(tmp_path: Path) -> None:
    clip = vfr_clip(tmp_path / "vfr.mp4", _grey(40), SLOW_FAST_SLOW)
    ref = file_times(clip)
    assert ref == pytest.approx(SLOW_FAST_SLOW, abs=MS)
    by_fps = np.arange(40) / nominal_fps(clip)
    assert np.abs(by_fps - ref).max() > 0.3, "frame / fps would be wrong by more than 0.3 s here: the test bites"
    assert decode_times(clip) == pytest.approx(ref, abs=MS)
    assert [f.time for f in video_landmarks(clip)] == pytest.approx(ref, abs=MS)
    assert [f.time for f in video_landmarks(clip, every=3)] == pytest.approx(ref[::3], abs=MS)


class _Scripted:
    """Stands in for MediaPipe Holistic: returns scripted (258,) rows, one per frame, in order."""

    rows: np.ndarray = np.zeros((0, 258), np.float32)

    def __init__(self, *_a, **_k) -> None:
        self.i = 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        self.i += 1
        return self.rows[self.i - 1]

    def __enter__(self) -> _Scripted:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass


def test_holistic_clips_keep_each_frames_time_also_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    clip = vfr_clip(tmp_path / "vfr.mp4", _grey(40), SLOW_FAST_SLOW)
    _Scripted.rows = np.zeros((40, 258), np.float32)
    monkeypatch.setattr(holistic, "BodyLandmarker", _Scripted)
    ref, cache = file_times(clip), tmp_path / "cache"
    frames, times = holistic.video_clip(clip, cache)
    assert frames.shape == (40, 258) and times == pytest.approx(ref, abs=MS)
    monkeypatch.setattr(holistic, "BodyLandmarker", None)  # from here on, MediaPipe must not run
    assert holistic.video_clip(clip, cache)[1] == pytest.approx(ref, abs=MS), "from the cache"
    assert holistic.video_times(clip, cache, 40) == pytest.approx(ref, abs=MS)
    assert holistic.video_times(clip, None, 40) == pytest.approx(ref, abs=MS), "no cache: decoded, no MediaPipe"


def test_sign_segments_follow_the_files_clock(tmp_path: Path, monkeypatch) -> None:
    """Rest, a sign while the phone films at 50 fps, rest: the span of signing is 0.8-1.6 s by the file (a 0.2 s
    pad either side of the signing's 1.0-1.4 s), wherever frame / fps would put it."""
    from aslkit.inference.sequence_recognizer import SequenceRecognizer

    clip = vfr_clip(tmp_path / "vfr.mp4", _grey(40), SLOW_FAST_SLOW)
    _Scripted.rows = _frames([0.9] * 10 + [0.5] * 20 + [0.9] * 10)  # hand down, raised, down
    monkeypatch.setattr(holistic, "BodyLandmarker", _Scripted)
    p = SequenceRecognizer("words", cache_dir=tmp_path / "cache").predict_video(clip)
    assert [(g.start, g.end) for g in p.segments] == [pytest.approx((0.8, 1.6), abs=MS)]
    row = p.to_json()["segments"][0]
    assert (row["start"], row["end"]) == (0.8, 1.6)
    fps = nominal_fps(clip)
    by_fps = signing_segments(_Scripted.rows, POSE_HANDS, fps)[0].seconds(fps)
    assert abs(by_fps[0] - 0.8) > 0.1 or abs(by_fps[1] - 1.6) > 0.1, "frame / fps gives other times: the test bites"


def test_segments_on_an_even_clock_are_what_the_frame_rate_rule_gave() -> None:
    """The time-based rule reproduces the frame-count rule exactly on evenly spaced frames, at several rates."""
    rng = np.random.default_rng(0)
    for fps in (10.0, 25.0, 29.97, 30.0, 60.0):
        for _ in range(20):
            ys = [float(rng.choice([0.9, 0.5])) if rng.random() < 0.85 else None for _ in range(120)]
            f = _frames([y for y in ys for _ in range(int(rng.integers(1, 6)))][:200])
            times = np.arange(len(f)) / fps
            a = signing_segments(f, POSE_HANDS, fps)
            b = signing_segments(f, POSE_HANDS, fps, times=times)
            assert a == b, (fps, a, b)
            by_rate = [v for g in a for v in g.seconds(fps)]
            assert by_rate == pytest.approx([v for g in b for v in g.seconds(fps, times)])
    assert frame_edges(3, 10.0, np.array([0.0, 0.5, 0.6])).tolist() == pytest.approx([0.0, 0.5, 0.6, 0.9])


def _letter_clip(tmp_path: Path) -> tuple[Path, list[float]]:
    """Nothing for 0.4 s filmed at 50 fps, then a Massey photo of L held 2.4 s at 5 fps, then nothing at 5 fps:
    frame n is nowhere near n / fps (the container's average rate, about 10 fps)."""
    photo = sorted((shared_dir("massey-letters") / "l").glob("*.jpeg"))[0]
    img = cv2.resize(cv2.imread(str(photo)), (320, 320))
    times = [i * 0.02 for i in range(20)] + [0.4 + i * 0.2 for i in range(18)]
    frames = [np.zeros_like(img)] * 20 + [img] * 12 + [np.zeros_like(img)] * 6
    (tmp_path / "in").mkdir(exist_ok=True)
    return vfr_clip(tmp_path / "in" / "l-vfr.mp4", frames, times), times


def _a_frames_time(t: float, times: list[float]) -> None:
    """``t`` is one of the file's frame times (within a millisecond)."""
    assert min(abs(t - x) for x in times) <= MS, f"{t} is not a frame's time in the file"


def test_live_transcript_and_annotated_copy_follow_the_files_clock(tmp_path: Path, capsys) -> None:
    clip, times = _letter_clip(tmp_path)
    out = tmp_path / "annotated.mp4"
    assert main(["live", "--source", str(clip), "--no-window", "--json", "--out", str(out)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["text"].strip() == "L" and r["events"], r
    for e in r["events"]:
        for key in ("time", "start"):
            if key in e:
                _a_frames_time(e[key], times)
    letter = next(e for e in r["events"] if e["kind"] == "letter")
    assert letter["start"] == pytest.approx(0.4, abs=MS), "the L began with the first frame that shows it (frame 20)"
    assert abs(20 / nominal_fps(clip) - 0.4) > 0.3, "which frame / fps would put over a second later"
    with av.open(str(out)) as box:
        assert box.streams.video[0].codec_context.name == "h264"
    assert file_times(out) == pytest.approx(times, abs=MS), "the annotated copy keeps the input's timing"


def test_detect_json_times_and_annotated_copy_follow_the_files_clock(tmp_path: Path, capsys) -> None:
    clip, times = _letter_clip(tmp_path)
    out = tmp_path / "runs" / "out"
    assert main(["detect", str(clip), "--json", "--no-cache", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["frame"] for r in rows] == list(range(38))
    assert [r["time"] for r in rows] == pytest.approx(times, abs=MS)
    assert all(r["hands"] == 0 for r in rows[:20]) and sum(r["hands"] >= 1 for r in rows[20:32]) >= 10
    copy = out / clip.name
    with av.open(str(copy)) as box:
        assert box.streams.video[0].codec_context.name == "h264"
    assert file_times(copy) == pytest.approx(times, abs=MS)


def test_h264_writer_stamps_times_and_pads_odd_sides(tmp_path: Path) -> None:
    from aslkit.live.video import H264Writer, video_writer

    times = [0.0, 0.013, 0.5, 0.51, 2.0]
    w = video_writer(tmp_path / "x.mp4", 30.0, 65, 49)
    assert isinstance(w, H264Writer)
    for i, t in enumerate(times):
        w.write(np.full((49, 65, 3), 50 * i, np.uint8), t)
    w.write(np.zeros((49, 65, 3), np.uint8), 1.0)  # a time going backwards still comes after the last frame
    w.release()
    with av.open(str(tmp_path / "x.mp4")) as box:
        s = box.streams.video[0]
        assert (s.codec_context.name, s.width, s.height) == ("h264", 66, 50)
    got = file_times(tmp_path / "x.mp4")
    assert got[:5] == pytest.approx(times, abs=MS) and got[5] > got[4]
    cap = cv2.VideoCapture(str(tmp_path / "x.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6 and cap.read()[0], "OpenCV reads it back"
    cap.release()


def test_without_pyav_mp4_is_mp4v_with_a_note(tmp_path: Path, monkeypatch, capsys) -> None:
    from aslkit.live.video import OpenCvWriter, video_writer

    monkeypatch.setitem(sys.modules, "av", None)
    w = video_writer(tmp_path / "y.mp4", 10.0, 64, 48)
    assert isinstance(w, OpenCvWriter)
    for _ in range(3):
        w.write(np.zeros((48, 64, 3), np.uint8), 0.0)
    w.release()
    err = capsys.readouterr().err.strip()
    assert err.startswith("aslkit: note:") and "browsers do not play" in err and "pip install 'aslkit[video]'" in err
    video_writer(tmp_path / "z.webm", 10.0, 64, 48).release()
    assert capsys.readouterr().err == "", "no note for .webm, which browsers play"
    monkeypatch.undo()
    with av.open(str(tmp_path / "y.mp4")) as box:
        assert box.streams.video[0].codec_context.name == "mpeg4", "MPEG-4 Part 2"
