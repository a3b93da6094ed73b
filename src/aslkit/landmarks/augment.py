"""Landmark augmentation for training: small rotations, viewpoint tilt, stretch, noise, mirroring.

Applied to canonical points in memory (never to files). Ranges are small on purpose: letters such
as H/U or G/Q differ by the hand's orientation, so large rotations would teach the model to
confuse them.
"""

from __future__ import annotations

import numpy as np

from aslkit.config import AugmentConfig
from aslkit.landmarks.features import CHAINS, normalize_hand


def _reshape_hand(p: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Scale each bone's length by its own random factor along the finger chains: other people's
    hands have other proportions (long palm, short thumb), and the model should not rely on one."""
    n = len(p)
    s = rng.uniform(1 - amount, 1 + amount, (n, 21, 1)).astype(np.float32)
    p2 = p.copy()
    for chain in CHAINS:
        for parent, j in zip(chain[:-1], chain[1:], strict=True):
            p2[:, j] = p2[:, parent] + s[:, j] * (p[:, j] - p[:, parent])
    return p2


def _rot(ax: str, a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if ax == "z":
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    elif ax == "x":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    else:
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    return np.moveaxis(np.array(m, dtype=np.float32), -1, 0)  # (N, 3, 3)


def augment(
    pts: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator, rotate_deg: np.ndarray | None = None
) -> np.ndarray:
    """Randomly transformed copies of canonical points (N, 21, 3).

    rotate_deg: optional per-sample in-plane rotation range (default cfg.rotate_deg for all).
    """
    n = len(pts)
    rng_deg = np.full(n, cfg.rotate_deg, np.float32) if rotate_deg is None else np.asarray(rotate_deg, np.float32)
    p = normalize_hand(pts)
    if cfg.bone_scale > 0:
        p = _reshape_hand(p, cfg.bone_scale, rng)
    deg = np.pi / 180
    r = (
        _rot("z", rng.uniform(-1.0, 1.0, n) * rng_deg * deg)
        @ _rot("x", rng.uniform(-cfg.tilt_deg, cfg.tilt_deg, n) * deg)
        @ _rot("y", rng.uniform(-cfg.tilt_deg, cfg.tilt_deg, n) * deg)
    )
    s = np.ones((n, 1, 3), np.float32)
    s[:, 0, :2] = rng.uniform(1 - cfg.scale_xy, 1 + cfg.scale_xy, (n, 2))
    p = np.einsum("nij,nkj->nki", r, p) * s
    p = p + rng.normal(0, cfg.jitter, p.shape).astype(np.float32)
    flip = rng.random(n) < cfg.mirror_p
    p[flip, :, 0] *= -1
    return p.astype(np.float32)
