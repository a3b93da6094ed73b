"""MediaPipe hand landmarks on real photos: found, in image fractions, stable under borders and resizing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import make_hand, shared_dir

from aslkit.data.images import load_image
from aslkit.landmarks.extractor import (
    DEFAULT_ATTEMPTS,
    TRACKING_ATTEMPT,
    WORK_MAX_SIDE,
    Hand,
    HandLandmarker,
    HandsResult,
)


@pytest.fixture(scope="module")
def landmarker():
    lm = HandLandmarker(static=True)
    yield lm
    lm.close()


@pytest.fixture(scope="module")
def hand_photo() -> np.ndarray:
    files = sorted((shared_dir("asl-alphabet-photos") / "B").glob("*.jpg"))
    return load_image(files[0])


def test_finds_a_hand_in_a_real_photo(landmarker: HandLandmarker, hand_photo: np.ndarray) -> None:
    r = landmarker(hand_photo)
    assert r.found and r.attempt == DEFAULT_ATTEMPTS[0][0]
    assert (r.width, r.height) == (hand_photo.shape[1], hand_photo.shape[0])
    h = r.main_hand()
    assert h.landmarks.shape == (21, 3) and h.world.shape == (21, 3)
    assert h.handedness in ("Left", "Right") and 0.5 <= h.score <= 1.0
    x0, y0, x1, y1 = h.box
    assert -0.1 <= x0 < x1 <= 1.1 and -0.1 <= y0 < y1 <= 1.1
    assert 0.04 < np.linalg.norm(h.world[0] - h.world[9]) < 0.2, "world landmarks in metres: wrist-knuckle ~ 9 cm"


def test_no_hand_in_a_flat_image(landmarker: HandLandmarker) -> None:
    r = landmarker(np.full((256, 256, 3), 128, np.uint8))
    assert not r.found and r.attempt is None and r.main_hand() is None
    assert (r.width, r.height) == (256, 256)


def test_border_attempt_maps_landmarks_back(hand_photo: np.ndarray, landmarker: HandLandmarker) -> None:
    plain = landmarker(hand_photo).main_hand()
    border_only = HandLandmarker(static=True, attempts=(("border50", 0.5, "mean", 1, 0.5),))
    try:
        r = border_only(hand_photo)
    finally:
        border_only.close()
    assert r.found and r.attempt == "border50"
    # same points in the original image's fractions, whatever border was added to find them
    assert np.abs(r.main_hand().landmarks[:, :2] - plain.landmarks[:, :2]).max() < 0.04


def test_large_image_is_shrunk_but_landmarks_stay_in_fractions(
    hand_photo: np.ndarray, landmarker: HandLandmarker
) -> None:
    big = cv2.resize(hand_photo, (WORK_MAX_SIDE * 2, WORK_MAX_SIDE * 2), interpolation=cv2.INTER_CUBIC)
    r_small, r_big = landmarker(hand_photo), landmarker(big)
    assert (r_big.width, r_big.height) == (WORK_MAX_SIDE * 2, WORK_MAX_SIDE * 2)
    assert r_big.found
    assert np.abs(r_big.main_hand().landmarks[:, :2] - r_small.main_hand().landmarks[:, :2]).max() < 0.03


def test_retry_ladder_finds_a_hand_that_fills_the_frame() -> None:
    """Massey hands touch the image edges; the plain attempt misses some, the ladder finds them."""
    files = sorted((shared_dir("massey-letters") / "y").glob("*"))[:10]
    with HandLandmarker(static=True) as lm:
        attempts = [lm(load_image(f)).attempt for f in files]
    names = [a[0] for a in DEFAULT_ATTEMPTS]
    assert all(a.split("+")[0] in names for a in attempts if a), attempts
    assert sum(a is not None for a in attempts) >= 9


def test_a_hand_that_fills_the_frame_is_refitted_with_a_border() -> None:
    """Found without a border but spanning >70% of the frame: landmarks are redone on a bordered copy."""
    files = sorted((shared_dir("massey-letters") / "b").glob("*"))[:6]
    with HandLandmarker(static=True, attempts=(("plain", 0.0, "", 1, 0.5),)) as lm:
        results = [lm(load_image(f)) for f in files]
    refitted = [r for r in results if r.attempt == "plain+refit"]
    assert refitted, [r.attempt for r in results]
    for r in refitted:
        x0, y0, x1, y1 = r.main_hand().box
        assert max(x1 - x0, y1 - y0) > 0.6, "still in the original image's fractions"


def test_tracking_mode_uses_a_single_attempt() -> None:
    lm = HandLandmarker(static=False)
    assert lm.attempts == (TRACKING_ATTEMPT,)
    assert lm.signature != HandLandmarker(static=True).signature


def test_json_round_trip() -> None:
    r = HandsResult(640, 480, [make_hand(), make_hand(handedness="Right")], "border25black")
    back = HandsResult.from_json(r.to_json())
    assert (back.width, back.height, back.attempt) == (640, 480, "border25black")
    assert [h.handedness for h in back.hands] == ["Left", "Right"]
    for a, b in zip(r.hands, back.hands, strict=True):
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-6)
        np.testing.assert_allclose(a.world, b.world, atol=1e-6)
    assert HandsResult.from_json(HandsResult(5, 5).to_json()).hands == []


def test_main_hand_is_the_largest_on_screen() -> None:
    small = make_hand()
    big = make_hand()
    c = big.landmarks[:, :2].mean(0)
    big.landmarks[:, :2] = (big.landmarks[:, :2] - c) * 1.5 + c
    r = HandsResult(100, 100, [small, big])
    assert r.main_hand() is big
    # pixel area counts, not fractions: a hand that is wide in a wide image wins
    wide = Hand(small.landmarks * np.array([1.2, 0.9, 1], np.float32), small.world, "Left", 0.9)
    assert HandsResult(1000, 100, [small, wide]).main_hand() is wide


def test_close_and_reuse(hand_photo: np.ndarray) -> None:
    lm = HandLandmarker(static=True)
    lm.warmup()
    assert len(lm._solutions) == 1
    lm.close()
    assert lm._solutions == {}
    assert lm(hand_photo).found, "a closed landmarker starts again on demand"
    lm.close()
