"""Landmark .npz sources: layout checks, canonical mirroring, aspect, stride; never unpickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_hand

from aslkit.errors import DatasetError
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.landmarks.landmark_npz import infer_side, load_landmark_npz


def _write(path: Path, n: int = 6, **extra) -> Path:
    rng = np.random.default_rng(0)
    lm = np.stack([make_hand(rng).landmarks for _ in range(n)])
    np.savez(path, landmarks=lm, label=np.array(["a", "b", "del"] * (n // 3)), **extra)
    return path


def test_reads_labels_and_points_like_photos(tmp_path: Path) -> None:
    f = _write(tmp_path / "l.npz", handedness=np.array(["Left", "Right"] * 3), aspect=np.array(1.5))
    s = load_landmark_npz(f)
    assert s.labels == ["A", "B", "Del", "A", "B", "Del"], "labels mapped to canonical spellings"
    assert s.has_hand.all() and s.readable.all()
    raw = np.load(f)["landmarks"]
    from aslkit.landmarks.extractor import Hand

    for i, side in enumerate(["Left", "Right"]):
        expect = canonical_points(Hand(raw[i], np.zeros((21, 3), np.float32), side, 1.0), 1.5, 1.0)
        np.testing.assert_allclose(s.pts[i], expect, rtol=1e-6)
    assert s.paths[1].endswith("l.npz#1")


def test_stride_and_aspect_override(tmp_path: Path) -> None:
    f = _write(tmp_path / "l.npz", handedness=np.array(["Left"] * 6))
    s = load_landmark_npz(f, stride=2, aspect=2.0)
    assert len(s) == 3 and s.paths[1].endswith("#2")
    raw = np.load(f)["landmarks"]
    np.testing.assert_allclose(s.pts[0][:, 0], raw[0][:, 0] * 2.0, rtol=1e-6)
    np.testing.assert_allclose(s.pts[0][:, 1], raw[0][:, 1], rtol=1e-6)


def test_hand_side_inferred_when_the_file_does_not_say(tmp_path: Path) -> None:
    """A file of one signer's other hand (or a mirrored camera) and no handedness array reads like the
    same hands labelled: the palm faces the viewer once canonical, as in MediaPipe's photos."""
    rng = np.random.default_rng(1)
    # rows whose canonical form ("Left") shows the palm to the camera (-z), like real photos
    rows = np.stack([make_hand(rng, handedness="Right").landmarks for _ in range(6)])
    labels = np.array(["A", "B", "C"] * 2)
    np.savez(tmp_path / "said.npz", landmarks=rows, label=labels, handedness=np.array(["Left"] * 6))
    np.savez(tmp_path / "unsaid.npz", landmarks=rows, label=labels)
    other = rows.copy()
    other[..., 0] = 1.0 - other[..., 0]  # the other hand: the mirror image
    np.savez(tmp_path / "other.npz", landmarks=other, label=labels)
    np.savez(tmp_path / "other_as_left.npz", landmarks=other, label=labels, handedness=np.array(["Left"] * 6))
    said = featurize(load_landmark_npz(tmp_path / "said.npz").pts)
    assert infer_side(rows) == "Left" and infer_side(other) == "Right"
    np.testing.assert_allclose(featurize(load_landmark_npz(tmp_path / "unsaid.npz").pts), said, atol=1e-5)
    np.testing.assert_allclose(featurize(load_landmark_npz(tmp_path / "other.npz").pts), said, atol=1e-5)
    wrong = featurize(load_landmark_npz(tmp_path / "other_as_left.npz").pts)
    assert np.abs(wrong - said).max() > 0.5, "taken as the canonical hand, the mirror image is another shape"


def test_all_zero_rows_mean_no_hand(tmp_path: Path) -> None:
    lm = np.zeros((2, 21, 3), np.float32)
    lm[1] = 0.5
    np.savez(tmp_path / "z.npz", landmarks=lm, label=np.array(["A", "B"]))
    assert load_landmark_npz(tmp_path / "z.npz").has_hand.tolist() == [False, True]


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"landmarks": np.zeros((2, 21, 3))}, "missing array"),
        ({"landmarks": np.zeros((2, 20, 3)), "label": np.array(["A", "B"])}, r"\(N, 21, 3\)"),
        ({"landmarks": np.zeros((2, 21, 3)), "label": np.array(["A"])}, "2 landmark rows but 1 labels"),
        ({"landmarks": np.zeros((1, 21, 3)), "label": np.array([{"x": 1}], dtype=object)}, "not a readable"),
    ],
)
def test_bad_files(tmp_path: Path, arrays: dict, match: str) -> None:
    f = tmp_path / "bad.npz"
    np.savez(f, **arrays)
    with pytest.raises(DatasetError, match=match):
        load_landmark_npz(f)


def test_not_an_npz(tmp_path: Path) -> None:
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(DatasetError, match="not a readable"):
        load_landmark_npz(tmp_path / "x.npz")
    with pytest.raises(DatasetError, match="no such file"):
        load_landmark_npz(tmp_path / "missing.npz")
