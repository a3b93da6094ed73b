"""Zoom: a small hand is looked at again in a square around it. Live, once a hand is found, the tracker looks
at a square ``landmark_zoom`` times its size, so a small hand in a wide frame gets MediaPipe's full attention;
a lost hand sends it back to the whole frame, and word signs (both hands) keep the whole frame. Photos: a
small main hand is found again in a square PHOTO_ZOOM times its size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import shared_dir

from aslkit.config import LiveConfig
from aslkit.data.images import load_image
from aslkit.errors import AslkitError
from aslkit.landmarks.extractor import PHOTO_ZOOM, Hand, HandLandmarker, zoom_square


def _box_hand(x0: float, y0: float, x1: float, y1: float) -> Hand:
    """A hand whose landmarks span the box (x0, y0)-(x1, y1), in image fractions."""
    pts = np.zeros((21, 3), np.float32)
    pts[:, 0] = np.linspace(x0, x1, 21)
    pts[:, 1] = np.linspace(y1, y0, 21)
    return Hand(pts, np.zeros((21, 3), np.float32), "Left", 0.9)


# -- where the window goes (no MediaPipe) ------------------------------------------------------------------
def test_the_window_follows_a_small_hand_and_stays_put_while_it_dwells() -> None:
    lm = HandLandmarker(static=False, zoom=3.0)
    work = np.zeros((480, 640, 3), np.uint8)
    hand = _box_hand(0.45, 0.45, 0.5, 0.5)  # 32 x 24 px: the window is 96 px, centred on it
    win = lm._next_window([hand], work)
    assert win is not None
    x, y, side = win
    assert side == 96
    assert abs(x + side / 2 - 0.475 * 640) <= 1 and abs(y + side / 2 - 0.475 * 480) <= 1
    lm._window = win
    assert lm._next_window([_box_hand(0.455, 0.455, 0.505, 0.505)], work) == win, "a small shake keeps the window"
    moved = lm._next_window([_box_hand(0.6, 0.45, 0.65, 0.5)], work)
    assert moved is not None and moved != win and moved[0] > x, "a hand near the edge moves the window with it"
    assert lm._next_window([], work) is None, "no hand: the whole frame"
    assert lm._next_window([_box_hand(0.2, 0.2, 0.6, 0.7)], work) is None, "a big hand: the whole frame already"
    corner = lm._next_window([_box_hand(0.0, 0.0, 0.05, 0.05)], work)
    assert corner is not None and corner[:2] == (0, 0), "the window stays inside the frame"
    assert HandLandmarker(static=False, zoom=0.0)._next_window([hand], work) is None
    assert HandLandmarker(static=True, zoom=3.0).zoom == 0.0, "photos are not tracked, so never zoomed"


def test_live_zoom_setting_is_checked_and_left_off_for_word_signs() -> None:
    assert LiveConfig.from_defaults().landmark_zoom == 3.0
    with pytest.raises(AslkitError, match="landmark-zoom"):
        LiveConfig.from_defaults(landmark_zoom=50)
    from aslkit.inference.stream import StreamingRecognizer

    rec = StreamingRecognizer(word_model="words", motion_model="")
    try:
        assert rec.landmarker.zoom == 0.0, "word signs need both hands in view"
    finally:
        rec.close()
    rec = StreamingRecognizer(motion_model="")
    try:
        assert rec.landmarker.zoom == 3.0
    finally:
        rec.close()


# -- on a real hand (MediaPipe) ----------------------------------------------------------------------------
def _placed(photo: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    """A 640x480 black frame with the photo shrunk to ``size`` px at (x, y): a small hand far from the camera."""
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[y : y + size, x : x + size] = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
    return frame


def test_zoomed_tracking_finds_the_hand_where_it_is_and_lets_go_when_it_leaves() -> None:
    photo = load_image(shared_dir("massey-letters") / "b" / "hand1_b_bot_seg_1_cropped.jpeg")
    frame = _placed(photo, 300, 200, 120)
    lm = HandLandmarker(static=False, zoom=3.0)
    try:
        results = [lm(frame) for _ in range(6)]
        assert all(r.found for r in results)
        assert not results[0].attempt.endswith("+zoom"), "the first frame searches the whole frame"
        assert all(r.attempt.endswith("+zoom") for r in results[2:]), results[-1].attempt
        x0, y0, x1, y1 = results[-1].main_hand().box
        cx, cy = (x0 + x1) / 2 * 640, (y0 + y1) / 2 * 480
        assert 300 <= cx <= 420 and 200 <= cy <= 320, "landmarks mapped back into the frame, on the photo"
        plain = HandLandmarker(static=True)
        try:
            ref = plain(frame).main_hand()
        finally:
            plain.close()
        size = max(x1 - x0, y1 - y0) * 640
        wrist = np.linalg.norm((results[-1].main_hand().landmarks[0, :2] - ref.landmarks[0, :2]) * [640, 480])
        assert wrist < 0.25 * size, "the zoomed wrist is where the whole-frame search puts it"
        assert not lm(np.zeros_like(frame)).found
        assert lm._window is None, "a lost hand: back to the whole frame"
        elsewhere = lm(_placed(photo, 40, 40, 120))
        assert elsewhere.found and not elsewhere.attempt.endswith("+zoom")
        bx0, by0, bx1, by1 = elsewhere.main_hand().box
        assert (bx0 + bx1) / 2 * 640 < 200, "found in its new place"
        assert lm._window is not None
        smaller = lm(cv2.resize(frame, (200, 150)))  # the stream's frame size changes under the window
        assert smaller.width == 200 and not (smaller.attempt or "").endswith("+zoom")
    finally:
        lm.close()


# -- photos --------------------------------------------------------------------------------------------------
def test_zoom_square_is_centred_kept_inside_and_refused_when_too_big() -> None:
    assert zoom_square((0.45, 0.45, 0.5, 0.5), 3.0, 640, 480, most=1.0) == (256, 180, 96)
    assert zoom_square((0.0, 0.9, 0.05, 1.0), 3.0, 640, 480, most=1.0) == (0, 336, 144), "inside the image"
    assert zoom_square((0.2, 0.2, 0.6, 0.6), 3.0, 640, 480, most=1.0) is None, "no room for a square that big"
    assert zoom_square((0.5, 0.5, 0.501, 0.501), 3.0, 640, 480, most=1.0) is None, "too small to be a hand"


def test_a_small_hand_in_a_photo_is_looked_at_again_up_close() -> None:
    photo = load_image(shared_dir("massey-letters") / "b" / "hand1_b_bot_seg_1_cropped.jpeg")
    lm = HandLandmarker(static=True)
    try:
        small = lm(_placed(photo, 300, 200, 120))
        assert small.found and small.attempt.endswith("+zoom"), small.attempt
        x0, y0, x1, y1 = small.main_hand().box
        assert 300 <= (x0 + x1) / 2 * 640 <= 420 and 200 <= (y0 + y1) / 2 * 480 <= 320, "mapped back into the photo"
        big = lm(photo)
        assert big.found and not big.attempt.endswith("+zoom"), "a hand that fills the photo is read as found"
        assert PHOTO_ZOOM * 120 < 480
    finally:
        lm.close()
