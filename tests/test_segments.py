"""Signs found in time: spans of raised hands in a video, each read on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aslkit.data.sequences import HANDS, POSE_HANDS
from aslkit.inference.sequence_recognizer import ClipPrediction, SegmentPrediction, SequenceRecognizer
from aslkit.landmarks.segments import SegmentSettings, active_frames, signing_segments

FPS = 30.0


def _frames(hand_y: list[float | None], width: int = 258) -> np.ndarray:
    """One frame per entry: shoulders at y 0.4 (0.2 apart, so the rest line is at 0.66), and the right
    hand's wrist at the given height (None: no hand found)."""
    out = np.zeros((len(hand_y), width), np.float32)
    for t, y in enumerate(hand_y):
        if width == 258:
            pose = np.zeros((33, 4), np.float32)
            pose[11] = (0.6, 0.4, 0, 1)
            pose[12] = (0.4, 0.4, 0, 1)
            out[t, :132] = pose.ravel()
        if y is not None:
            hand = np.zeros((21, 3), np.float32)
            hand[:, 0] = np.linspace(0.45, 0.55, 21)
            hand[:, 1] = y - np.linspace(0, 0.1, 21)  # fingers up from the wrist (point 0)
            a = 195 if width == 258 else 63
            out[t, a : a + 63] = hand.ravel()
    return out


def test_a_hand_counts_only_when_raised_above_the_rest_line() -> None:
    f = _frames([None, 0.9, 0.7, 0.6, 0.3])
    assert active_frames(f, POSE_HANDS).tolist() == [False, False, False, True, True]
    hands_only = _frames([None, 0.9, 0.3], width=126)  # no pose: a hand in view is signing
    assert active_frames(hands_only, HANDS).tolist() == [False, True, True]


def test_segments_merge_short_gaps_drop_brushes_and_pad() -> None:
    rest, up = [0.9] * 30, [0.5] * 30  # 1 s each
    blink = [None] * 6  # 0.2 s lost in motion blur: the same sign
    brush = [0.5] * 5  # 0.17 s: a hand passing, not a sign
    f = _frames(rest + up + blink + up + rest + brush + rest + up + rest)
    segs = signing_segments(f, POSE_HANDS, FPS, SegmentSettings(min_s=0.3, gap_s=0.5, pad_s=0.2))
    pad = 6
    assert [(s.start, s.end) for s in segs] == [(30 - pad, 96 + pad), (161 - pad, 191 + pad)]
    assert segs[0].seconds(FPS) == pytest.approx(((30 - pad) / FPS, (96 + pad) / FPS))
    assert signing_segments(_frames(rest), POSE_HANDS, FPS) == [], "no hand ever raised: no signing"
    edge = signing_segments(_frames(up + rest), POSE_HANDS, FPS)
    assert edge[0].start == 0, "padding stops at the clip's start"


def test_a_video_gets_a_row_per_sign_and_the_clip_its_surest(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = SequenceRecognizer("words")
    answers = iter([("-", 0.6), ("hello", 0.7), ("please", 0.9)])  # whole clip first, then each span

    def fake(frames, path=None, aspect=None):
        label, conf = next(answers)
        return ClipPrediction(path, label, conf, [(label, conf)], True, None, None, len(frames), len(frames))

    monkeypatch.setattr(rec, "predict_frames", fake)
    rest, up = [0.9] * 30, [0.5] * 30
    p = rec.predict_signing(_frames(rest + up + rest + up + rest), FPS, "two-signs.mp4")
    assert [(g.label, g.confidence) for g in p.segments] == [("hello", 0.7), ("please", 0.9)]
    assert (p.label, p.confidence) == ("please", 0.9), "the clip's answer is its surest sign"
    row = p.to_json()
    assert [set(g) for g in row["segments"]] == [{"start", "end", "label", "confidence", "top"}] * 2
    assert row["segments"][0]["start"] == pytest.approx(24 / FPS, abs=1e-3)
    assert "signs: hello 0.8-2.2 s, please 2.8-4.2 s" in p.text_line()


def test_idle_spans_do_not_become_the_clips_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = SequenceRecognizer("words")
    idle = "-"  # the model's no-sign class: named by its label, whatever its confidence threshold
    answers = iter([("no", 0.5), (idle, 0.95)])

    def fake(frames, path=None, aspect=None):
        label, conf = next(answers)
        return ClipPrediction(path, label, conf, [(label, conf)], True, None, None, len(frames), len(frames))

    monkeypatch.setattr(rec, "predict_frames", fake)
    p = rec.predict_signing(_frames([0.9] * 30 + [0.5] * 30 + [0.9] * 30), FPS)
    assert p.segments[0].label == idle and p.label == "no", "the whole clip's answer stands"


def test_clips_that_are_not_videos_have_no_segments_key(tmp_path: Path) -> None:
    np.save(tmp_path / "clip.npy", _frames([0.5] * 20))
    row = SequenceRecognizer("words").predict(tmp_path / "clip.npy").to_json()
    assert "segments" not in row and row["frames"] == 20
    assert SegmentPrediction(0.0, 1.0, "hello", 0.9).to_json()["top"] == []


def test_a_span_needs_five_frames_at_any_frame_rate() -> None:
    up = _frames([0.9] * 10 + [0.5] * 4 + [0.9] * 10)  # 0.4 s at 10 FPS, but only 4 frames
    assert signing_segments(up, POSE_HANDS, 10.0, SegmentSettings(pad_s=0.0)) == []
    assert len(signing_segments(_frames([0.9] * 10 + [0.5] * 5 + [0.9] * 10), POSE_HANDS, 10.0)) == 1
