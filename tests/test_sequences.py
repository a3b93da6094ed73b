"""Sequence sources (npz, frame folders), layouts, length fitting and camera-independent features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import shared_dir, template_landmarks

from aslkit.data.sequences import HANDS, HOLISTIC, POSE_HANDS, fit_length, layout_for
from aslkit.errors import DatasetError
from aslkit.landmarks.holistic import load_sequences
from aslkit.landmarks.sequence_features import POSE_MIRROR, feature_width, sequence_features


def _hand(cx: float, cy: float, size: float = 0.1, t: int = 1) -> np.ndarray:
    """(t, 21, 3) of a real hand shape centred near (cx, cy), ``size`` wide."""
    lm = template_landmarks().astype(np.float32).copy()
    lm[:, :2] = (lm[:, :2] - lm[:, :2].mean(0)) / np.ptp(lm[:, :2], axis=0).max() * size + (cx, cy)
    return np.repeat(lm[None], t, 0)


def _pose(t: int, rng: np.random.Generator) -> np.ndarray:
    pose = np.zeros((t, 33, 4), np.float32)
    pose[..., :2] = rng.uniform(0.3, 0.7, (t, 33, 2))
    pose[:, 11, :2], pose[:, 12, :2] = (0.62, 0.6), (0.38, 0.6)  # the subject's left shoulder is image-right
    pose[..., 3] = 0.9
    return pose


def _clip(t: int = 12, seed: int = 0, left_hand: bool = False) -> np.ndarray:
    """(t, 258) pose + one moving hand (the right, or the left one for a left-handed signer)."""
    rng = np.random.default_rng(seed)
    pose = _pose(t, rng)
    hand = _hand(0.45, 0.4, t=t) + np.linspace(0, 0.1, t)[:, None, None] * np.array([1, 0.5, 0], np.float32)
    empty = np.zeros_like(hand)
    left, right = (hand, empty) if left_hand else (empty, hand)
    return np.concatenate([pose.reshape(t, -1), left.reshape(t, -1), right.reshape(t, -1)], 1)


def test_layouts_by_width() -> None:
    assert layout_for(126) is HANDS and layout_for(258) is POSE_HANDS and layout_for(1662) is HOLISTIC
    with pytest.raises(DatasetError) as e:
        layout_for(200)
    assert "200" in str(e.value) and "126" in str(e.value) and "258" in str(e.value) and "1662" in str(e.value)


def test_npz_holistic_drops_the_face_and_keeps_the_rest(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    seq = rng.uniform(0, 1, (4, 7, 1662)).astype(np.float16)
    path = tmp_path / "h.npz"
    np.savez(path, sequences=seq, label=np.array(["Hello", "a", "space", "thank-you"]), signer=np.array(list("xxyy")))
    s = load_sequences(path)
    assert s.layout is POSE_HANDS and s.sequences[0].shape == (7, 258) and s.sequences[0].dtype == np.float32
    x = seq[2].astype(np.float32)
    want = np.concatenate([x[:, :132], x[:, 1536:1599], x[:, 1599:]], 1)
    assert np.array_equal(s.sequences[2], want), "pose, left and right hand kept in order; face gone"
    assert s.labels == ["Hello", "A", "Space", "thank-you"] and s.signers == ["x", "x", "y", "y"]
    assert s.subset([3, 0]).labels == ["thank-you", "Hello"] and s.subset([3]).signers == ["y"]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"sequences": np.zeros((2, 5, 126))}, "missing array(s) ['label']"),
        ({"sequences": np.zeros((2, 126)), "label": np.array(["a", "b"])}, "must be (N, T, F)"),
        ({"sequences": np.zeros((2, 5, 126)), "label": np.array(["a"])}, "2 sequences but 1 labels"),
        ({"sequences": np.zeros((2, 5, 100)), "label": np.array(["a", "b"])}, "no known layout"),
        ({"sequences": np.zeros((2, 5, 126)), "label": np.array(["a", "b"], dtype=object)}, "not a readable"),
        # found by a fresh user's session (2026-12-02): each was trained on, or scored, without a word
        (
            {"sequences": np.ones((2, 5, 126)), "label": np.array(["", "b"])},
            "1 clip(s) have an empty label (first: clip 0)",
        ),
        ({"sequences": np.ones((2, 5, 126)), "label": np.array(["  ", "b"])}, "have an empty label"),
        (
            {"sequences": np.ones((2, 4, 126)), "label": np.array(["a", "b"])},
            "its clips have 4 frame(s); a sign needs at",
        ),
        ({"sequences": np.ones((2, 5, 126)), "label": np.array([["a"], ["b"]])}, "label must be (N,), one per clip"),
        ({"sequences": np.zeros((2, 5, 126)), "label": np.array(["a", "b"])}, "no clip has a landmark in any frame"),
        (
            {"sequences": np.ones((2, 5, 126)), "label": np.array(["a", "b"]), "signer": np.array(["x", " "])},
            "1 clip(s) have an empty signer (first: clip 1)",
        ),
        ({"sequences": np.full((2, 5, 126), np.nan), "label": np.array(["a", "b"])}, "no clip has a landmark"),
    ],
)
def test_npz_errors_are_one_line(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    before = path.read_bytes()
    with pytest.raises(DatasetError) as e:
        load_sequences(path)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == before


def test_frame_folder_orders_frames_numerically(tmp_path: Path) -> None:
    for f in (0, 1, 2, 10):  # "10" sorts before "2" as text
        d = tmp_path / "hello" / "take1"
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / f"{f}.npy", np.full(126, f, np.float32))
    (tmp_path / "no").mkdir()
    np.save(tmp_path / "no" / "t.npy", np.ones((3, 126), np.float32))
    s = load_sequences(tmp_path)
    assert s.labels == ["hello", "no"] and s.layout is HANDS and s.signers is None
    assert s.sequences[0][:, 0].tolist() == [0, 1, 2, 10] and s.sequences[1].shape == (3, 126)


def test_frame_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no sequences found"):
        load_sequences(tmp_path)
    (tmp_path / "a" / "t").mkdir(parents=True)
    np.save(tmp_path / "a" / "t" / "0.npy", np.zeros(126, np.float32))
    (tmp_path / "b").mkdir()
    np.save(tmp_path / "b" / "t.npy", np.zeros((4, 258), np.float32))
    with pytest.raises(DatasetError, match=r"different frame widths \[126, 258\]"):
        load_sequences(tmp_path)
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_sequences(tmp_path / "nope")


def test_fit_length_resamples_any_length_to_one_time_scale() -> None:
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    out, mask = fit_length(x, 5)
    assert mask.all() and out[0].tolist() == x[0].tolist() and out[-1].tolist() == x[-1].tolist()
    assert (np.diff(out[:, 0]) > 0).all(), "frames stay in time order"
    out, mask = fit_length(x[:3], 6, np.array([True, False, True]))
    assert out[:, 0].tolist() == [0, 0, 2, 2, 4, 4] and mask.tolist() == [True, True, False, False, True, True]
    out, mask = fit_length(np.zeros((0, 2), np.float32), 4)
    assert out.shape == (4, 2) and not mask.any()


def test_features_ignore_camera_distance_and_framing() -> None:
    clip = _clip()
    moved = clip.copy()
    xy = np.zeros(258, bool)
    for start, stop, step in ((0, 132, 4), (132, 258, 3)):
        xy[start:stop:step] = True  # x
        xy[start + 1 : stop : step] = True  # y
    z = np.zeros(258, bool)
    z[2:132:4] = z[134:258:3] = True
    seen = moved != 0  # a missing hand stays all zeros
    moved[:, xy] = np.where(seen[:, xy], moved[:, xy] * 0.6 + 0.15, 0.0)  # further away and off-centre
    moved[:, z] *= 0.6  # MediaPipe's depth is on the scale of x
    a, ma = sequence_features(clip, POSE_HANDS)
    b, mb = sequence_features(moved, POSE_HANDS)
    assert a.shape == (12, feature_width(POSE_HANDS)) and np.array_equal(ma, mb)
    assert np.abs(a - b).max() < 1e-4


def test_left_handed_signer_gives_the_right_handed_features() -> None:
    clip = _clip()
    mirror = clip.copy()
    pose = mirror[:, :132].reshape(12, 33, 4)
    pose[..., 0] = 1 - pose[..., 0]
    mirror[:, :132] = pose[:, POSE_MIRROR].reshape(12, -1)
    right = mirror[:, 195:].reshape(12, 21, 3).copy()
    right[..., 0] = 1 - right[..., 0]
    mirror[:, 132:195], mirror[:, 195:] = right.reshape(12, -1), 0.0  # now signed with the left hand
    a, _ = sequence_features(clip, POSE_HANDS)
    b, _ = sequence_features(mirror, POSE_HANDS)
    assert np.abs(a - b).max() < 1e-4


def test_missing_hand_is_flagged_and_empty_frames_masked() -> None:
    clip = _clip()[:, 132:]  # hands only
    clip[3:5] = 0.0  # the hand left the frame
    f, mask = sequence_features(clip, HANDS)
    assert mask.tolist() == [True] * 3 + [False] * 2 + [True] * 7
    flags = f[:, 2 * 65 : 2 * 65 + 2]
    assert (flags[:, 0] == 0).all() and flags[:, 1].tolist() == mask.astype(float).tolist()
    assert (f[3:5] == 0).all() and np.abs(f[0, 65:130]).sum() > 0
    f, mask = sequence_features(np.zeros((6, 126), np.float32), HANDS)
    assert not mask.any() and (f == 0).all() and np.isfinite(f).all()


@pytest.mark.parametrize(
    ("name", "layout", "n"), [("words-pose-hands", POSE_HANDS, 4693), ("letters-hands", HANDS, 3150)]
)
def test_shared_sequence_sets(name: str, layout, n: int) -> None:
    s = load_sequences(shared_dir("sign-sequences") / f"{name}.npz")
    assert len(s) == n and s.layout is layout and s.signers is not None and len(set(s.signers)) == 3
    assert {"thank-you", "hello"} <= set(s.labels) if layout is POSE_HANDS else {"J", "Z", "Space"} <= set(s.labels)
    f, mask = sequence_features(s.sequences[0], s.layout)
    assert f.shape == (20, feature_width(layout)) and np.isfinite(f).all() and mask.dtype == bool
    feats = np.stack([sequence_features(x, s.layout)[0] for x in s.sequences[:200]])
    assert np.abs(feats).max() <= 10.0 and np.abs(feats).mean() < 1.0, "normalized, not raw pixels"


def test_hands_only_sets_join_pose_and_hands_ones_with_an_empty_pose() -> None:
    """letters-hands (126 wide) trains beside the word sets (258): its clips get a pose block of zeros ("not
    found"), the hands land in the pose + hands layout's hand blocks, and other mixes are still refused."""
    from aslkit.data.sequences import SequenceSet, concat_sequences

    rng = np.random.default_rng(0)
    hands = SequenceSet([rng.random((7, 126), dtype=np.float32)], ["a"], HANDS, ["s1"])
    full = SequenceSet([rng.random((5, 258), dtype=np.float32)], ["hello"], POSE_HANDS, ["s2"])
    both = concat_sequences([full, hands])
    assert both.layout.name == "pose-hands" and both.labels == ["hello", "a"] and both.signers == ["s2", "s1"]
    joined = both.sequences[1]
    assert joined.shape == (7, 258) and not joined[:, :132].any()
    assert np.array_equal(joined[:, 132:195], hands.sequences[0][:, :63])  # left hand
    assert np.array_equal(joined[:, 195:], hands.sequences[0][:, 63:])  # right hand
    assert np.array_equal(both.sequences[0], full.sequences[0])
    holistic = SequenceSet([np.zeros((5, 1662), np.float32)], ["x"], HOLISTIC)
    with pytest.raises(DatasetError, match="different layouts"):
        concat_sequences([hands, holistic])


def test_videos_in_a_sub_folder_of_a_sign_are_said_not_skipped(tmp_path: Path) -> None:
    """hello/sub/*.mp4 were skipped without a word: the whole sign vanished from evaluate and train."""
    from aslkit.data.sequences import nested_videos

    for rel in ("hello/sub/a.mp4", "hello/sub/deeper/b.MP4", "water/c.mp4", "hello/.hidden/d.mp4", "hello/sub/x.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    rows = nested_videos(tmp_path)
    assert [Path(p).relative_to(tmp_path).as_posix() for p, _ in rows] == ["hello/sub/a.mp4", "hello/sub/deeper/b.MP4"]
    assert all("in a sub-folder of a sign's folder, not read" in why for _, why in rows)
