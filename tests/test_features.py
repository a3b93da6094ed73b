"""Hand features: invariant to position, size and handedness, but NOT to in-plane rotation."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from conftest import SHAPES, make_hand, mirror_hand

from aslkit.config import AugmentConfig
from aslkit.landmarks.augment import augment
from aslkit.landmarks.extractor import Hand
from aslkit.landmarks.features import CANONICAL_HANDEDNESS, canonical_points, feature_dim, featurize

W, H = 640, 480


def feats(h: Hand, width: int = W, height: int = H) -> np.ndarray:
    return featurize(canonical_points(h, width, height))


def _replace(h: Hand, landmarks: np.ndarray | None = None, world: np.ndarray | None = None) -> Hand:
    return Hand(
        h.landmarks if landmarks is None else landmarks.astype(np.float32),
        h.world if world is None else world.astype(np.float32),
        h.handedness,
        h.score,
    )


@pytest.fixture(params=sorted(SHAPES))
def hand(request: pytest.FixtureRequest, rng: np.random.Generator) -> Hand:
    return make_hand(rng, SHAPES[request.param])


def test_feature_dim_matches(hand: Hand) -> None:
    f = feats(hand)
    assert f.shape == (feature_dim(),) and f.dtype == np.float32
    assert np.isfinite(f).all()
    a = canonical_points(hand, W, H)
    batch = featurize(np.stack([a, a]))
    assert batch.shape == (2, feature_dim())
    np.testing.assert_allclose(batch[0], f, atol=1e-6)


def test_different_shapes_give_different_features(rng: np.random.Generator) -> None:
    fs = {k: feats(make_hand(rng, ext, noise=0)) for k, ext in SHAPES.items()}
    for a in fs:
        for b in fs:
            if a < b:
                assert np.abs(fs[a] - fs[b]).max() > 0.1, (a, b)


@pytest.mark.parametrize("shift", [(0.1, -0.05), (-0.2, 0.15), (0.25, 0.25)])
def test_translation_invariant(hand: Hand, shift: tuple[float, float]) -> None:
    moved = hand.landmarks.copy()
    moved[:, :2] += np.array(shift, np.float32)
    np.testing.assert_allclose(feats(_replace(hand, moved)), feats(hand), atol=2e-4)


@pytest.mark.parametrize("scale", [0.5, 0.8, 1.7])
def test_uniform_scale_invariant(hand: Hand, scale: float) -> None:
    c = np.array([0.5, 0.5, 0.0], np.float32)
    lm = (hand.landmarks - c) * scale + c
    world = hand.world * scale
    np.testing.assert_allclose(feats(_replace(hand, lm, world)), feats(hand), atol=2e-4)
    # the same hand in a photo of twice the resolution
    np.testing.assert_allclose(feats(hand, 2 * W, 2 * H), feats(hand), atol=2e-4)


def test_mirrored_hand_gives_the_same_features(hand: Hand) -> None:
    m = mirror_hand(hand)
    assert m.handedness != hand.handedness
    assert not np.allclose(m.landmarks, hand.landmarks)
    np.testing.assert_allclose(feats(m), feats(hand), atol=2e-4)
    np.testing.assert_allclose(feats(mirror_hand(m)), feats(hand), atol=2e-4)


def test_canonical_points_mirror_only_the_other_hand(hand: Hand) -> None:
    assert hand.handedness == CANONICAL_HANDEDNESS
    pts = canonical_points(hand, W, H)
    np.testing.assert_allclose(pts, hand.landmarks * np.array([W, H, W]), rtol=1e-6)
    other = Hand(hand.landmarks, hand.world, "Right", hand.score)
    p2 = canonical_points(other, W, H)
    np.testing.assert_allclose(p2[:, 0], -pts[:, 0], rtol=1e-6)
    np.testing.assert_allclose(p2[:, 1:], pts[:, 1:])


def test_handedness_label_alone_changes_features(hand: Hand) -> None:
    """Flipping only the label (not the points) is a different hand shape: mirroring must be real."""
    flipped = Hand(hand.landmarks, hand.world, "Right", hand.score)
    assert np.abs(feats(flipped) - feats(hand)).max() > 0.05


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_in_plane_rotation_changes_features(hand: Hand, degrees: float) -> None:
    t = np.deg2rad(degrees)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
    c = np.array([0.5, 0.5], np.float32)
    lm = hand.landmarks.copy()
    lm[:, :2] = (lm[:, :2] - c) @ rot.T + c
    world = hand.world.copy()
    world[:, :2] = world[:, :2] @ rot.T
    f0, f1 = feats(hand, 500, 500), feats(_replace(hand, lm, world), 500, 500)
    assert np.abs(f1 - f0).max() > 0.3, "orientation is deliberately part of the features"


def test_small_rotation_changes_features_a_little(hand: Hand) -> None:
    def rotated(deg: float) -> np.ndarray:
        t = np.deg2rad(deg)
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
        lm = hand.landmarks.copy()
        lm[:, :2] = (lm[:, :2] - 0.5) @ rot.T + 0.5
        return feats(_replace(hand, lm), 500, 500)

    f0 = feats(hand, 500, 500)
    assert np.abs(rotated(5) - f0).max() < np.abs(rotated(90) - f0).max()


def test_augment_shapes_and_ranges(hand: Hand, rng: np.random.Generator) -> None:
    pts = canonical_points(hand, W, H)
    p = np.repeat(pts[None], 64, 0)
    ap = augment(p, AugmentConfig(), rng)
    assert ap.shape == p.shape and ap.dtype == np.float32
    f = featurize(ap)
    assert f.shape == (64, feature_dim()) and np.isfinite(f).all()
    assert f.std(0).max() > 0.01, "copies differ"
    none = AugmentConfig(**{f.name: 0.0 for f in fields(AugmentConfig)})  # every range zero: no change
    bp = augment(p, none, rng)
    np.testing.assert_allclose(featurize(bp), np.repeat(feats(hand)[None], 64, 0), atol=2e-4)
    assert np.array_equal(p[:, :, :], np.repeat(pts[None], 64, 0)), "inputs are not modified in place"
