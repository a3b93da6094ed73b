"""Live hand finding: tracking mode retries a missed frame the way photos are retried, cheaply when the
room is empty; video files are timed by their own timestamps; the benchmark reports the hand rate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_dir

import aslkit.live.run as live
from aslkit.data.images import load_image
from aslkit.landmarks.extractor import RETRY_ATTEMPTS, Hand, HandLandmarker, HandsResult
from aslkit.landmarks.video import frame_time
from aslkit.live.run import LiveResult, run_live

# Massey photos (hand cut out on black, filling the 400x400 frame and touching its edges) that MediaPipe's
# tracker misses on every frame and the retry's first rung (a 25% border) finds: checked with mediapipe 0.10.
FRAME_FILLING = ("a/hand2_a_top_seg_5_cropped.jpeg", "i/hand5_i_bot_seg_2_cropped.jpeg",
                 "y/hand1_y_left_seg_3_cropped.jpeg")  # fmt: skip


def _hand() -> Hand:
    return Hand(np.full((21, 3), 0.5, np.float32), np.zeros((21, 3), np.float32), "Left", 0.9)


class _Scripted(HandLandmarker):
    """A tracking-mode landmarker whose MediaPipe runs are scripted: counts the runs, no MediaPipe."""

    def __init__(self, finds: set[str], **kw) -> None:
        super().__init__(static=False, **kw)
        self.finds = finds  # the attempt names that find a hand
        self.calls: list[str] = []

    def _run(self, work, attempt, static):
        self.calls.append(attempt[0])
        return ([_hand()] if attempt[0] in self.finds else []), attempt[0]


# -- the retry's schedule (no MediaPipe) -------------------------------------------------------------------
def test_an_empty_room_does_not_pay_the_ladder_every_frame() -> None:
    lm = _Scripted(finds=set(), retry_idle_frames=2, retry_idle_every=3)
    frame = np.zeros((48, 64, 3), np.uint8)
    for _ in range(90):
        assert not lm(frame).found
    s = lm.retry_stats
    assert (s.frames, s.missed, s.found) == (90, 90, 0)
    assert s.runs == 30, "one rung every 3rd frame while idle"
    assert s.runs < 90 * len(RETRY_ATTEMPTS) / 5
    retried = [c for c in lm.calls if c != "tracking"]
    assert set(retried) == {a[0] for a in RETRY_ATTEMPTS}, "the idle retry takes the rungs in turn"


def test_a_hand_only_the_retry_finds_stays_found_at_one_run_a_frame() -> None:
    second = RETRY_ATTEMPTS[1][0]
    lm = _Scripted(finds={second}, retry_idle_frames=2, retry_idle_every=3)
    frame = np.zeros((48, 64, 3), np.uint8)
    results = [lm(frame) for _ in range(40)]
    first = next(i for i, r in enumerate(results) if r.found)
    assert first <= 3 * len(RETRY_ATTEMPTS), "found within one round of the idle rungs"
    assert all(r.found and r.attempt == second for r in results[first:])
    runs_after = lm.retry_stats.runs
    lm(frame)
    assert lm.retry_stats.runs == runs_after + 1, "the rung that found the hand goes first"
    assert results[-1].tried == [list(lm.attempts[0]), list(RETRY_ATTEMPTS[1])]


def test_a_lost_hand_gets_the_whole_ladder_then_the_rate_limit() -> None:
    lm = _Scripted(finds={"tracking"}, retry_idle_frames=2, retry_idle_every=3)
    frame = np.zeros((48, 64, 3), np.uint8)
    assert lm(frame).attempt == "tracking" and lm.retry_stats.runs == 0, "the tracker found it: no retry"
    lm.finds = set()
    lm(frame)
    assert lm.retry_stats.runs == len(RETRY_ATTEMPTS), "just lost: every rung"
    lm(frame)
    assert lm.retry_stats.runs == 2 * len(RETRY_ATTEMPTS), "for retry_idle_frames frames"
    for _ in range(30):
        lm(frame)
    assert lm.retry_stats.runs == 2 * len(RETRY_ATTEMPTS) + 10, "then one rung every 3rd frame"


def test_retry_off_and_photos_never_retry() -> None:
    off = _Scripted(finds=set(), retry=False)
    for _ in range(10):
        off(np.zeros((48, 64, 3), np.uint8))
    assert off.retry == () and off.retry_stats.runs == 0 and set(off.calls) == {"tracking"}
    assert HandLandmarker(static=True).retry == ()
    assert HandLandmarker(static=False).signature != HandLandmarker(static=False, retry=False).signature


# -- real MediaPipe -------------------------------------------------------------------------------------------
def test_tracking_finds_frame_filling_hands_only_with_the_retry() -> None:
    root = shared_dir("massey-letters")
    border = (("retry-border", 0.25, "mean", 0, 0.3),)  # one bordered rung: its points are mapped back
    for name in FRAME_FILLING:
        img = np.ascontiguousarray(load_image(root / name))
        with HandLandmarker(static=False, retry=False) as off, HandLandmarker(static=False) as on:
            plain = [off(img) for _ in range(4)]
            retried = [on(img) for _ in range(8)]
        assert not any(r.found for r in plain), f"{name}: the tracker alone finds it; pick another photo"
        first = next(i for i, r in enumerate(retried) if r.found)
        assert first <= 2 * len(RETRY_ATTEMPTS), "found within one round of the idle rungs"
        rungs = {r.attempt for r in retried[first:]}  # a hand filling the frame is found again with a border (+refit)
        assert all(r.found for r in retried[first:]) and len(rungs) == 1, rungs
        assert {a.removesuffix("+refit") for a in rungs} <= {a[0] for a in RETRY_ATTEMPTS}, rungs
        runs = on.retry_stats.runs
        on(img)
        assert on.retry_stats.runs == runs + 1, "once found, one retry run a frame"
        with HandLandmarker(static=False, retry=border) as bordered:
            got = [bordered(img) for _ in range(4)][-1]
        assert got.attempt == "retry-border" and bordered.retry_stats.runs == 4, "one run a frame once found"
        with HandLandmarker(static=True, attempts=(("b", 0.25, "mean", 0, 0.3),)) as photo:
            ref = photo(img).main_hand()
        assert ref is not None and got.main_hand() is not None
        np.testing.assert_allclose(got.main_hand().landmarks[:, :2], ref.landmarks[:, :2], atol=0.02)


def test_empty_frames_with_real_mediapipe_cost_a_fraction_of_a_run() -> None:
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (480, 640, 3), np.uint8) for _ in range(30)]
    frames = [np.zeros((480, 640, 3), np.uint8)] * 30 + noise
    with HandLandmarker(static=False) as lm:
        found = [lm(f).found for f in frames]
    s = lm.retry_stats
    assert not any(found) and s.missed == 60
    assert s.runs <= 60 // lm.retry_idle_every + 1, s


# -- timestamps ------------------------------------------------------------------------------------------------
def test_frame_time_uses_the_decoders_timestamps_and_falls_back() -> None:
    assert frame_time(0.0, 0, 30.0, None) == 0.0
    assert frame_time(40.0, 1, 30.0, 0.0) == pytest.approx(0.04), "variable frame rate: its own time"
    assert frame_time(None, 3, 30.0, 0.05) == pytest.approx(0.1), "missing: n / fps"
    assert frame_time(math.nan, 3, 30.0, 0.05) == pytest.approx(0.1)
    assert frame_time(-5.0, 3, 30.0, 0.05) == pytest.approx(0.1)
    t, times = None, []
    for n in range(5):  # a backend that answers 0 for every frame
        t = frame_time(0.0, n, 25.0, t)
        times.append(t)
    assert times == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])
    assert frame_time(500.0, 20, 30.0, 0.6) == pytest.approx(20 / 30), "not after the last frame: n / fps"
    assert frame_time(100.0, 2, 30.0, 3.0) == pytest.approx(3.0 + 1 / 30), "never backwards"
    assert frame_time(None, 1, 0.0, None) == pytest.approx(1 / 30), "no frame rate either"


class _FakeCap:
    """A decoder with given timestamps (ms) after each read."""

    def __init__(self, stamps: list[float]) -> None:
        self.stamps, self.i = stamps, -1

    def read(self):
        self.i += 1
        if self.i >= len(self.stamps):
            return False, None
        return True, np.zeros((24, 32, 3), np.uint8)

    def get(self, prop: int) -> float:
        import cv2

        if prop == cv2.CAP_PROP_POS_MSEC:
            return self.stamps[self.i]
        return 10.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        pass


class _FakeRecognizer:
    """Records the times run_live gives; a hand on every other frame, found by the retry on every fourth."""

    def __init__(self, model=None, **kw) -> None:
        from aslkit.inference.stream import Transcript

        self.times: list[float] = []
        self.transcript = Transcript()
        self.landmarker = HandLandmarker(static=False)
        _FakeRecognizer.last = self

    def process(self, rgb, t):
        from aslkit.inference.stream import FrameResult

        n = len(self.times)
        self.times.append(t)
        hand = _hand() if n % 2 == 0 else None
        attempt = None if hand is None else "retry-border25" if n % 4 == 0 else "tracking"
        hands = HandsResult(rgb.shape[1], rgb.shape[0], [hand] if hand else [], attempt)
        return FrameResult(t, hands, hand, None, 0.0, [], {"landmarks": 1.0})

    def finish(self) -> list:
        return []

    def close(self) -> None:
        pass


def test_run_live_times_a_file_by_its_timestamps_and_counts_hands(tmp_path: Path, monkeypatch) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read: the decoder is faked")
    stamps = [0.0, 50.0, 150.0, 150.0, 0.0, 600.0, 700.0, 710.0]
    monkeypatch.setattr(live, "open_video", lambda source: _FakeCap(stamps))
    monkeypatch.setattr(live, "StreamingRecognizer", _FakeRecognizer)
    res = run_live(video, window=False, draw=False)
    times = _FakeRecognizer.last.times
    assert times == pytest.approx([0.0, 0.05, 0.15, 0.3, 0.4, 0.6, 0.7, 0.71])
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert (res.frames, res.hand_frames, res.retry_frames) == (8, 4, 2)
    s = res.summary()
    assert s["hand_rate"] == 0.5 and s["hand_frames"] == 4 and s["retry_frames"] == 2 and "retry_runs" in s


def test_summary_hand_rate_without_frames() -> None:
    assert LiveResult("", [], 0, 0.0).summary()["hand_rate"] == 0.0
    assert LiveResult("", [], 4, 1.0, hand_frames=3).summary()["hand_rate"] == 0.75


class _VanishingCamera(_FakeCap):
    """A camera unplugged after three frames: OpenCV's read raises instead of returning False."""

    def read(self):
        import cv2

        self.i += 1
        if self.i >= 3:
            raise cv2.error("camera gone")
        return True, np.zeros((24, 32, 3), np.uint8)


def test_a_camera_that_disappears_mid_stream_ends_the_stream_with_its_text(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(live, "open_video", lambda source: _VanishingCamera([0.0] * 5))
    monkeypatch.setattr(live, "StreamingRecognizer", _FakeRecognizer)
    out = tmp_path / "text.txt"
    res = run_live(0, window=False, draw=False, transcript=out)
    assert res.frames == 3 and out.read_text() == "\n"
