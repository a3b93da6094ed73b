"""Drawing on video frames: hand landmarks and box, the current letter, FPS and the running text."""

from __future__ import annotations

import numpy as np

from aslkit.inference.stream import FrameResult

_BONES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
          (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20))  # fmt: skip
_GREEN, _WHITE, _BLACK, _YELLOW = (80, 220, 80), (255, 255, 255), (0, 0, 0), (0, 220, 255)


def draw_skeleton(bgr: np.ndarray, hand, thickness: int = 2) -> np.ndarray:
    """One hand's 21 landmarks and the bones between them, drawn on ``bgr`` in place."""
    import cv2

    h, w = bgr.shape[:2]
    pts = np.round(hand.landmarks[:, :2] * [w, h]).astype(int)
    for a, b in _BONES:
        cv2.line(bgr, tuple(pts[a]), tuple(pts[b]), _GREEN, thickness, cv2.LINE_AA)
    for p in pts:
        cv2.circle(bgr, tuple(p), thickness + 1, _WHITE, -1, cv2.LINE_AA)
    return bgr


def draw_frame(bgr: np.ndarray, res: FrameResult, text: str, fps: float | None = None) -> np.ndarray:
    """Draw on ``bgr`` in place (and return it): every hand's skeleton, the main hand's box with its
    current letter and confidence, FPS at the top left, and the running text along the bottom."""
    import cv2

    h, w = bgr.shape[:2]
    for hand in res.hands.hands:
        draw_skeleton(bgr, hand)
    if res.hand is not None:
        x0, y0, x1, y1 = res.hand.box
        m = 0.1 * max(x1 - x0, y1 - y0)
        p0 = (int(max(0.0, x0 - m) * w), int(max(0.0, y0 - m) * h))
        p1 = (int(min(1.0, x1 + m) * w), int(min(1.0, y1 + m) * h))
        cv2.rectangle(bgr, p0, p1, _YELLOW, 2)
        if res.letter is not None:
            label = f"{res.letter} {res.confidence:.2f}"
            cv2.putText(bgr, label, (p0[0], max(20, p0[1] - 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.8, _YELLOW, 2, cv2.LINE_AA)
    if fps is not None:
        cv2.putText(bgr, f"{fps:.1f} FPS", (10, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.7, _WHITE, 2, cv2.LINE_AA)
    bar = max(28, h // 12)
    cv2.rectangle(bgr, (0, h - bar), (w, h), _BLACK, -1)
    shown = text[-max(10, w // 16) :]
    cv2.putText(bgr, shown, (10, h - bar // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.8, _WHITE, 2, cv2.LINE_AA)
    return bgr
