"""Training sequence models (word signs, moving letters) with the shared epoch loop.

The recipe the word-sign seeds use: AdamW, OneCycle, class-weighted cross-entropy, gradient clipping,
early stopping on validation loss (all from the loop), plus two augmentations of the clips in
memory: Gaussian noise on the normalized features of real frames, and a random time warp (a signer
a little faster or slower, or starting a little earlier or later, than in the recording). With a pose
in the data, some clips are also shown without it (``seq_pose_dropout``), so the model still works
on clips recorded or stored without a pose (hands only). With ``seq_hand_dropout``, some clips are shown
with only the dominant hand, since whether the other hand joins in (a two-handed thank-you or I-love-you)
is the signer's habit, not the sign's.
"""

from __future__ import annotations

import numpy as np

from aslkit.config import TrainConfig
from aslkit.data.sequences import Layout, SequenceSet, point_blocks
from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.sequence_recognizer import sequence_arrays, sequence_preprocessing_spec, without_pose
from aslkit.landmarks.sequence_features import present
from aslkit.models.registry import create_model, model_kwargs
from aslkit.training.fit import FitPlan


def time_warp(x: np.ndarray, m: np.ndarray, rng: np.random.Generator, amount: float):
    """Each clip of (N, L, D) resampled along a random monotone curve: speed changing smoothly by up
    to +-``amount`` across the clip, and a shift of up to ``amount / 2`` of its length."""
    n, length = m.shape
    if amount <= 0:
        return x, m
    u = np.linspace(0.0, 1.0, length)
    gamma = np.exp(rng.uniform(-amount, amount, (n, 1)))  # <1 fast start, >1 slow start
    shift = rng.uniform(-amount / 2, amount / 2, (n, 1))
    pos = np.clip(u[None] ** gamma + shift, 0.0, 1.0) * (length - 1)
    idx = np.round(pos).astype(int)
    rows = np.arange(n)[:, None]
    return x[rows, idx], m[rows, idx]


# MediaPipe Pose points of each arm's wrist and hand (wrist, pinky, index, thumb): left side, right side
_ARM_HAND_POINTS = ((15, 17, 19, 21), (16, 18, 20, 22))


def _without_second_hand(clip: np.ndarray, layout: Layout) -> np.ndarray:
    """One raw clip with its non-dominant hand taken out (see ``one_handed``)."""
    z = clip.copy()
    lead_left = (
        present(z[:, layout.left[0] : layout.left[1]]).sum() > present(z[:, layout.right[0] : layout.right[1]]).sum()
    )
    side = 1 if lead_left else 0  # the other hand: right when the left leads (as canonical_handedness decides)
    a, b = layout.right if side else layout.left
    z[:, a:b] = 0.0
    if layout.pose is not None:
        pose = z[:, layout.pose[0] : layout.pose[1]].reshape(len(z), -1, 4)
        pose[:, list(_ARM_HAND_POINTS[side])] = 0.0
        z[:, layout.pose[0] : layout.pose[1]] = pose.reshape(len(z), -1)
    return z


def one_handed(data: SequenceSet) -> SequenceSet:
    """Each clip with its non-dominant hand taken out: that hand's block and the pose's wrist and hand
    points on its side zeroed, as a camera that never saw it would store them. The dominant hand is the
    one seen in more frames (as in ``sequence_features``), so the features keep their handedness."""
    seqs = [_without_second_hand(s, data.layout) for s in data.sequences]
    return SequenceSet(seqs, data.labels, data.layout, data.signers, data.sources, data.errors)


def camera_jitter(
    seqs: list[np.ndarray], layout: Layout, rng: np.random.Generator, aspect: float, rotate_deg: float
) -> list[np.ndarray]:
    """Each raw clip as another camera would have seen it: its height stretched against its width by a
    factor up to exp(+-aspect) (landmarks are fractions of the image's width and height, so a 16:9 or an
    upright phone video draws the same body with other proportions than a 4:3 webcam), then turned by up
    to +-rotate_deg, about the image centre. Points not found (zeros) stay zeros."""
    out = []
    for seq in seqs:
        k = float(np.exp(rng.uniform(-aspect, aspect)))
        th = np.deg2rad(rng.uniform(-rotate_deg, rotate_deg))
        c, s = np.cos(th), np.sin(th)
        z = seq.copy()
        for a, b, step in point_blocks(layout):
            pts = z[:, a:b].reshape(len(z), -1, step)
            seen = np.abs(pts).sum((1, 2)) > 0
            x, y = pts[seen, :, 0] - 0.5, (pts[seen, :, 1] - 0.5) * k
            pts[seen, :, 0], pts[seen, :, 1] = 0.5 + c * x - s * y, 0.5 + s * x + c * y
            z[:, a:b] = pts.reshape(len(z), -1)
        out.append(z)
    return out


def start_from(model, start: str, layout: str, labels: list[str]) -> None:
    """Copy a trained sign model's weights into ``model`` (whose classes are ``labels``): see
    training.finetune.start_from; the trained model must read clips of the same layout."""
    from aslkit.models.io import load_model
    from aslkit.training.finetune import start_from as copy_weights

    base = load_model(start)
    if base.preprocessing.get("layout") != layout:
        raise AslkitError(f"--finetune {start!r} reads {base.preprocessing.get('layout')} clips, the data is {layout}")
    copy_weights(model, base, labels, start)


def _shown_otherwise(
    train: SequenceSet, length: int, pose: bool, hand: bool
) -> dict[tuple[bool, bool], tuple[np.ndarray, np.ndarray]]:
    """The training clips' features as another recording would give them, computed once: without the pose
    (``pose``: a camera without one; the body frame differs), with the dominant hand only (``hand``), or both;
    keyed by (pose dropped, hand dropped)."""
    out = {}
    if pose:
        out[(True, False)] = sequence_arrays(without_pose(train), length)
    if hand:
        single = one_handed(train)
        out[(False, True)] = sequence_arrays(single, length)
        if pose:
            out[(True, True)] = sequence_arrays(without_pose(single), length)
    return out


def sequence_plan(
    train: SequenceSet, valid: SequenceSet, labels: list[str], cfg: TrainConfig, resuming: bool
) -> FitPlan:
    """The network and the clips as batches: time-warped, with noise, and some shown without their pose."""
    import torch

    if cfg.seq_length < 2:
        raise AslkitError(f"seq_length must be at least 2 frames, got {cfg.seq_length}")
    if 0 < cfg.seq_camera_aspect < 0.1:
        raise AslkitError(f"seq_camera_aspect is a frame width / height (0.1-10, or 0), got {cfg.seq_camera_aspect}")
    if len(train) == 0:
        raise DatasetError("no training clip; nothing to train on")
    xtr, mtr = sequence_arrays(train, cfg.seq_length)
    xva, mva = sequence_arrays(valid, cfg.seq_length)
    pose_drop = cfg.seq_pose_dropout if train.layout.pose is not None else 0.0
    hand_drop = cfg.seq_hand_dropout
    variants = _shown_otherwise(train, cfg.seq_length, pose_drop > 0, hand_drop > 0)
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    ytr = torch.tensor([lab_idx[lab] for lab in train.labels])
    yva = torch.tensor([lab_idx[lab] for lab in valid.labels])
    kw = model_kwargs(cfg.model, **cfg.model_kwargs)
    model = create_model(cfg.model, xtr.shape[2], len(labels), **kw)
    if cfg.finetune and not resuming:  # a resumed run's checkpoint holds its weights
        start_from(model, cfg.finetune, train.layout.name, labels)
    bs = max(1, cfg.batch_size)
    steps = max(1, int(np.ceil(len(xtr) / bs)))

    camera = cfg.seq_aspect > 0 or cfg.seq_rotate_deg > 0

    def seen_by_another_camera(idx: np.ndarray, drop: np.ndarray, drop_hand: np.ndarray, rng: np.random.Generator):
        """The batch's features from its raw clips after camera_jitter (the pose dropped where ``drop``, the
        non-dominant hand where ``drop_hand``)."""
        raw = camera_jitter([train.sequences[i] for i in idx], train.layout, rng, cfg.seq_aspect, cfg.seq_rotate_deg)
        jittered = SequenceSet(raw, [train.labels[i] for i in idx], train.layout)
        if drop_hand.any():
            raw = [_without_second_hand(r, train.layout) if drop_hand[k] else r for k, r in enumerate(raw)]
            jittered = SequenceSet(raw, jittered.labels, jittered.layout)
        x, m = sequence_arrays(jittered, cfg.seq_length)
        if drop.any():
            xn, mn = sequence_arrays(without_pose(jittered), cfg.seq_length)
            x, m = np.where(drop[:, None, None], xn, x), np.where(drop[:, None], mn, m)
        return x, m

    def pick(idx: np.ndarray, drop: np.ndarray, drop_hand: np.ndarray):
        """The batch's precomputed features: as recorded, without the pose, one-handed, or both."""
        x, m = xtr[idx], mtr[idx]
        for (no_pose, one_hand), (xs, ms) in variants.items():
            sel = (drop == no_pose) & (drop_hand == one_hand)
            if sel.any():
                x, m = np.where(sel[:, None, None], xs[idx], x), np.where(sel[:, None], ms[idx], m)
        return x, m

    def batches(epoch: int, rng: np.random.Generator):
        perm = rng.permutation(len(xtr))
        for b in range(steps):
            idx = perm[b * bs : (b + 1) * bs]
            drop = rng.random(len(idx)) < pose_drop if pose_drop > 0 else np.zeros(len(idx), bool)
            drop_hand = rng.random(len(idx)) < hand_drop if hand_drop > 0 else np.zeros(len(idx), bool)
            if camera:
                x, m = seen_by_another_camera(idx, drop, drop_hand, rng)
            else:
                x, m = pick(idx, drop, drop_hand)
            x, m = time_warp(x, m, rng, cfg.seq_time_warp)
            if cfg.seq_noise > 0:
                x = x + rng.normal(0.0, cfg.seq_noise, x.shape).astype(np.float32) * m[..., None]
            yield (torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(m)), ytr[idx]

    def valid_batches():
        yield (torch.from_numpy(xva), torch.from_numpy(mva)), yva

    spec = sequence_preprocessing_spec(
        train.layout.name, cfg.seq_length, labels, cfg.seq_min_confidence, pose_drop > 0, cfg.seq_camera_aspect
    )
    return FitPlan(model, ytr, batches, valid_batches if len(valid) else None, steps, kw, int(xtr.shape[2]), spec)
