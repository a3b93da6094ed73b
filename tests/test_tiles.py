"""Tiles: where MediaPipe's tracker and the retry ladder find no hand in a frame, one tile of the frame is searched
per frame, in turn. A small hand in an upper-body shot is a few dozen pixels to the whole frame's palm detector;
in a tile it is about twice that, and once found the zoom window follows it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_dir

from aslkit.config import LiveConfig
from aslkit.data.images import load_image
from aslkit.data.spelling_video import _frame_of
from aslkit.landmarks.extractor import HandLandmarker, tile_squares


# -- where the tiles are (no MediaPipe) ---------------------------------------------------------------------
@pytest.mark.parametrize("w,h", [(640, 480), (1280, 720), (480, 640), (300, 300)])
def test_tiles_cover_the_frame_middle_first(w: int, h: int) -> None:
    squares = tile_squares(w, h)
    side = round(0.6 * min(w, h))
    assert squares and all(s == side for _, _, s in squares)
    assert all(0 <= x <= w - side and 0 <= y <= h - side for x, y, _ in squares), "inside the frame"
    covered = np.zeros((h, w), bool)
    for x, y, s in squares:
        covered[y : y + s, x : x + s] = True
    assert covered.all(), "every pixel is in some tile"
    # a hand a quarter of a tile wide fits wholly inside some tile wherever it is
    hand = side // 4
    for hx in range(0, w - hand, 7):
        for hy in range(0, h - hand, 7):
            assert any(x <= hx and hx + hand <= x + s and y <= hy and hy + hand <= y + s for x, y, s in squares)
    dist = [np.hypot(x + side / 2 - w / 2, y + side / 2 - h / 2) for x, y, _ in squares]
    assert dist == sorted(dist), "the middle first"
    assert len(set(squares)) == len(squares)


def test_no_tiles_in_a_tiny_frame() -> None:
    assert tile_squares(40, 40) == []


# -- on a real hand (MediaPipe) ------------------------------------------------------------------------------
def _frame() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A webcam letter photo (upper body, a small hand) placed in a 640x480 frame as make-spelling-video
    does, and where the photo is in it (x0, y0, x1, y1). The whole frame's search misses this hand."""
    photo = load_image(shared_dir("letters-more-people") / "prasukj7" / "N" / "85.jpg")
    bgr, _ = _frame_of(photo, 640, 480, 0.6)
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    rows, cols = np.nonzero((rgb != rgb[0, 0]).any(axis=2))
    return rgb, (int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max()))


def test_a_small_hand_the_whole_frame_misses_is_found_in_a_tile_and_then_followed() -> None:
    frame, (px0, py0, px1, py1) = _frame()
    n = len(tile_squares(640, 480))
    off = HandLandmarker(static=False, zoom=3.0, tiles=False)
    try:
        assert not any(off(frame).found for _ in range(2 * n + 2)), "without tiles this hand is never found"
    finally:
        off.close()
    lm = HandLandmarker(static=False, zoom=3.0, tiles=True)
    try:
        results = [lm(frame) for _ in range(2 * n + 6)]
        first = next(i for i, r in enumerate(results) if r.found)
        assert first <= 2 * n, "every tile is searched within two frames a tile"
        assert results[first].attempt == "retry-tile"
        assert all(r.found for r in results[first:]), "once found it stays found"
        assert all(r.attempt.endswith("+zoom") for r in results[first + 2 :]), "the zoom window follows it"
        assert lm.retry_stats.tile_found >= 1
        x0, y0, x1, y1 = results[-1].main_hand().box
        cx, cy = (x0 + x1) / 2 * 640, (y0 + y1) / 2 * 480
        assert px0 <= cx <= px1 and py0 <= cy <= py1, "landmarks mapped back onto the photo in the frame"
        lost = [lm(np.zeros_like(frame)) for _ in range(4)]
        assert not any(r.found for r in lost)
        again = [lm(frame) for _ in range(2 * n + 2)]
        assert any(r.found for r in again), "a hand that comes back is found again"
    finally:
        lm.close()


def test_an_empty_room_pays_one_static_run_a_frame_and_every_tile_is_searched() -> None:
    lm = HandLandmarker(static=False, zoom=3.0, tiles=True)
    try:
        blank = np.full((480, 640, 3), 90, np.uint8)
        results = [lm(blank) for _ in range(40)]
        assert not any(r.found for r in results)
        assert lm.retry_stats.runs <= 40, "while idle, a frame runs a ladder rung or a tile, not both"
        tiles = {tuple(t[1:]) for r in results for t in r.tried if t[0] == "tile"}
        assert tiles == set(tile_squares(640, 480)), "the tiles are searched in turn"
        rungs = [t for r in results for t in r.tried[1:] if t[0] != "tile"]
        assert len(rungs) >= 15, "the retry ladder still runs while idle"
    finally:
        lm.close()


def test_tiles_setting_reaches_the_live_recognizer() -> None:
    from aslkit.inference.stream import StreamingRecognizer

    assert LiveConfig.from_defaults().landmark_tiles is True
    for value, want in ((None, True), (False, False)):
        kw = {} if value is None else {"landmark_tiles": value}
        rec = StreamingRecognizer(motion_model="", **kw)
        try:
            assert rec.landmarker.tiles is want
        finally:
            rec.close()
    assert not HandLandmarker(static=True, tiles=True).tiles, "photos have their own ladder"
    assert not HandLandmarker(static=False, tiles=True, retry=False).tiles, "tiles are part of the retry"


def test_without_the_zoom_a_hand_found_in_a_tile_is_looked_for_there_first() -> None:
    """Word signs keep the whole frame (no zoom window): the tile that found the hand is tried before the
    retry ladder, so a small hand costs one static run a frame, not the whole ladder and a tile."""
    frame, _ = _frame()
    lm = HandLandmarker(static=False, zoom=0.0, tiles=True)
    try:
        results = [lm(frame) for _ in range(2 * len(tile_squares(640, 480)) + 2)]
        first = next(i for i, r in enumerate(results) if r.found)
        runs = lm.retry_stats.runs
        more = [lm(frame) for _ in range(5)]
        assert all(r.found and r.attempt == "retry-tile" for r in more), [r.attempt for r in more]
        assert lm.retry_stats.runs - runs == 5, "one static run a frame: the held tile only"
        assert all(r.tried[1][0] == "tile" for r in more), "the tile before the ladder"
        assert first <= 2 * len(tile_squares(640, 480))
    finally:
        lm.close()
