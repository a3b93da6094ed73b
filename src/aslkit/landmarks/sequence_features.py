"""Per-frame features of a landmark sequence that do not depend on the camera or the signer's hand.

Why each step:

* **Handedness**: a left-handed signer mirrors every sign. A clip whose left hand is seen in more frames
  than its right is mirrored (x -> 1 - x, hands swapped, the pose's left/right points swapped), so the
  dominant hand is always the "right" block.
* **Body frame**: with a pose, positions are taken relative to the mid-point of the shoulders and divided
  by the shoulder width, so distance to the camera and framing drop out while where the hand is on the
  body (chin for thank-you, chest for please) stays. Without a pose (hands-only layout) the clip's mean
  wrist position and its median hand size stand in.
* **Hand shape**: each hand also relative to its own wrist, divided by its own size, so shape does not
  depend on where it is or how big it looks.
* **Missing parts** are zeros *with a presence flag*, and a frame with nothing found is masked out, so
  "not seen" never reads as "at the origin".
"""

from __future__ import annotations

import numpy as np

from aslkit.data.sequences import HAND_POINTS, POSE_POINTS, Layout

# MediaPipe Pose left/right pairs (eyes, ears, mouth corners, shoulders, elbows, wrists, hand points, legs)
_POSE_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20),
               (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))  # fmt: skip
POSE_MIRROR = np.arange(POSE_POINTS)
for _a, _b in _POSE_PAIRS:
    POSE_MIRROR[_a], POSE_MIRROR[_b] = _b, _a
UPPER_BODY = np.arange(23)  # face, shoulders, arms and hands: the legs are mostly out of frame when signing
_SHOULDERS = (11, 12)
_MIN_VISIBILITY = 0.3


def split_frames(frames: np.ndarray, layout: Layout):
    """(T, width) -> (pose (T, 33, 4) or None, left (T, 21, 3), right (T, 21, 3)), as float32 copies."""
    t = len(frames)
    pose = None
    if layout.pose is not None:
        pose = frames[:, layout.pose[0] : layout.pose[1]].reshape(t, POSE_POINTS, 4).astype(np.float32)
    left = frames[:, layout.left[0] : layout.left[1]].reshape(t, HAND_POINTS, 3).astype(np.float32)
    right = frames[:, layout.right[0] : layout.right[1]].reshape(t, HAND_POINTS, 3).astype(np.float32)
    return pose, left, right


def present(block: np.ndarray) -> np.ndarray:
    """(T,) bool: the block (a hand or the pose) was found in the frame (not all zeros)."""
    return np.abs(block).reshape(len(block), -1).sum(1) > 0


def canonical_handedness(pose, left, right):
    """Mirror the clip when the left hand is seen more often than the right; returns
    (pose, left, right, mirrored). Missing blocks stay zeros."""
    lp, rp = present(left), present(right)
    if lp.sum() <= rp.sum():
        return pose, left, right, False

    def flip(block: np.ndarray, present: np.ndarray) -> np.ndarray:
        out = block.copy()
        out[present, :, 0] = 1.0 - out[present, :, 0]
        return out

    new_left, new_right = flip(right, rp), flip(left, lp)
    if pose is not None:
        pp = present(pose)
        pose = flip(pose, pp)[:, POSE_MIRROR]
    return pose, new_left, new_right, True


def _hand_size(hand: np.ndarray) -> np.ndarray:
    """Wrist to middle-finger knuckle, in the image plane, per frame."""
    return np.linalg.norm(hand[:, 9, :2] - hand[:, 0, :2], axis=-1)


def shoulder_line(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame of a (T, 33, 4) pose: whether both shoulders were seen (visible, found, apart), their
    mid-point (T, 2) and the shoulder width (T,): the body's own ruler, whatever the camera."""
    sh = pose[:, list(_SHOULDERS)]
    ok = (sh[..., 3] >= _MIN_VISIBILITY).all(1) & (np.abs(sh[..., :2]).sum((1, 2)) > 0)
    width = np.linalg.norm(sh[:, 0, :2] - sh[:, 1, :2], axis=-1)
    return ok & (width > 1e-3), sh[..., :2].mean(1), width


def _body_frame(pose, left, right, lp, rp) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (centre (T, 2), scale (T,)) of the reference frame; see the module docstring."""
    t = len(left)
    if pose is not None:
        ok, centre, width = shoulder_line(pose)
        if ok.any():
            centre[~ok] = centre[ok].mean(0)
            width[~ok] = np.median(width[ok])
            return centre.astype(np.float32), width.astype(np.float32)
    wrists = np.concatenate([left[lp, 0, :2], right[rp, 0, :2]])
    sizes = np.concatenate([_hand_size(left[lp]), _hand_size(right[rp])])
    if len(wrists) == 0:
        return np.zeros((t, 2), np.float32), np.ones(t, np.float32)
    scale = 4.0 * max(float(np.median(sizes)), 1e-3)  # about a shoulder width, like the pose frame
    return np.tile(wrists.mean(0), (t, 1)).astype(np.float32), np.full(t, scale, np.float32)


def feature_width(layout: Layout) -> int:
    """Width of ``sequence_features`` rows for a layout."""
    hand = HAND_POINTS * 3 + 2  # shape, wrist position in the body frame
    return 2 * hand + 2 + (len(UPPER_BODY) * 2 + 1 if layout.pose is not None else 0)


def sequence_features(frames: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(T, layout.width) raw frames -> (features (T, feature_width), frame mask (T,)): a frame is real
    when a hand (or, with a pose layout, the pose) was found in it."""
    pose, left, right = split_frames(np.asarray(frames, np.float32), layout)
    pose, left, right, _ = canonical_handedness(pose, left, right)
    lp, rp = present(left), present(right)
    centre, scale = _body_frame(pose, left, right, lp, rp)
    parts = []
    for hand, found in ((left, lp), (right, rp)):
        size = np.maximum(_hand_size(hand), 1e-3)[:, None, None]
        shape = (hand - hand[:, :1]) / size
        where = (hand[:, 0, :2] - centre) / scale[:, None]
        block = np.concatenate([shape.reshape(len(hand), -1), where], axis=1)
        block[~found] = 0.0
        parts.append(block)
    parts.append(np.stack([lp, rp], 1).astype(np.float32))
    mask = lp | rp
    if pose is not None:
        pp = present(pose)
        body = (pose[:, UPPER_BODY, :2] - centre[:, None]) / scale[:, None, None]
        body[pose[:, UPPER_BODY, 3] < _MIN_VISIBILITY] = 0.0
        body[~pp] = 0.0
        parts += [body.reshape(len(pose), -1), pp[:, None].astype(np.float32)]
        mask |= pp
    feats = np.concatenate(parts, axis=1).astype(np.float32)
    return np.clip(feats, -10.0, 10.0), mask  # a wild detection cannot blow up a batch
