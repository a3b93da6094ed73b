"""Deterministic splits: stratified by class, or by group (signer, session) for honest generalization.

Several public ASL sets are consecutive video frames of one person; a random split puts
near-duplicates on both sides and reports ~99%. Splitting by group keeps a person's images
on one side only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from aslkit.errors import DatasetError


def _check_ratios(ratios: Sequence[float]) -> np.ndarray:
    r = np.asarray(ratios, dtype=np.float64)
    if r.ndim != 1 or len(r) not in (2, 3) or (r < 0).any() or r.sum() <= 0:
        raise DatasetError(f"split ratios must be 2 or 3 non-negative numbers, got {list(ratios)}")
    return r / r.sum()


def stratified_split(labels: Sequence[str], ratios: Sequence[float] = (0.7, 0.2, 0.1), seed: int = 0):
    """Index arrays (train, valid[, test]) with each class divided by the ratios.

    Every class with at least as many items as parts gets at least one item per non-zero part.
    The same labels, ratios and seed always give the same split.
    """
    r = _check_ratios(ratios)
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in r]
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        by_class[lab].append(i)
    for lab in sorted(by_class):
        idx = np.array(by_class[lab])
        rng.shuffle(idx)
        n = len(idx)
        counts = np.floor(r * n).astype(int)
        nz = np.flatnonzero(r > 0)
        if n >= len(nz):
            for k in nz:
                counts[k] = max(counts[k], 1)
        while counts.sum() > n:
            counts[np.argmax(counts)] -= 1
        counts[nz[0]] += n - counts.sum()
        start = 0
        for k, c in enumerate(counts):
            parts[k].extend(idx[start : start + c].tolist())
            start += c
    return tuple(np.array(sorted(p), dtype=np.int64) for p in parts)


def groups_from_pattern(names: Sequence[str], pattern: str) -> list[str]:
    """Group id per file name from a regex (its first group, else the whole match), e.g. ``hand(\\d+)``."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise DatasetError(f"bad group pattern {pattern!r}: {exc}") from None
    out = []
    for n in names:
        m = rx.search(n)
        if not m:
            raise DatasetError(f"group pattern {pattern!r} does not match file name {n!r}")
        out.append(m.group(1) if m.groups() else m.group(0))
    return out


def group_split(
    groups: Sequence[str], holdout: Sequence[str] | None = None, valid_fraction: float = 0.2, seed: int = 0
):
    """(train, valid, test) index arrays where test holds whole groups and no group is split.

    holdout: groups for the test side (default: the last group in sorted order). Valid takes whole
    groups from the rest when there are at least two, else a random fraction of train.
    """
    uniq = sorted(set(groups))
    if len(uniq) < 2:
        raise DatasetError(f"a group split needs at least 2 groups, found {len(uniq)}: {uniq}")
    test_groups = set(holdout) if holdout else {uniq[-1]}
    unknown = test_groups - set(uniq)
    if unknown:
        raise DatasetError(f"held-out groups {sorted(unknown)} not found; groups are {uniq}")
    rest = [g for g in uniq if g not in test_groups]
    if not rest:
        raise DatasetError("every group is held out; nothing left to train on")
    g = np.asarray(groups)
    test = np.flatnonzero(np.isin(g, list(test_groups)))
    rng = np.random.default_rng(seed)
    if len(rest) >= 3:
        n_val = max(1, round(valid_fraction * len(rest)))
        val_groups = set(rng.permutation(rest)[:n_val].tolist())
        valid = np.flatnonzero(np.isin(g, list(val_groups)))
        train = np.flatnonzero(np.isin(g, [x for x in rest if x not in val_groups]))
    else:
        pool = np.flatnonzero(np.isin(g, rest))
        pool = rng.permutation(pool)
        n_val = int(round(valid_fraction * len(pool)))
        valid, train = np.sort(pool[:n_val]), np.sort(pool[n_val:])
    return train, valid, np.sort(test)


def group_folds(groups: Sequence[str], k: int) -> list[list[str]]:
    """``k`` folds of whole groups (signers), each about as many items as the others: the largest groups
    first, each to the fold with the fewest items so far (ties: the lower fold). Deterministic, so a
    cross-validation is the same on every machine."""
    sizes: dict[str, int] = defaultdict(int)
    for g in groups:
        sizes[str(g)] += 1
    if k < 2:
        raise DatasetError(f"cross-validation needs at least 2 folds, got {k}")
    if len(sizes) < k:
        raise DatasetError(f"{k} folds need at least {k} groups; the data has {len(sizes)}: {sorted(sizes)}")
    folds: list[list[str]] = [[] for _ in range(k)]
    load = [0] * k
    for g in sorted(sizes, key=lambda s: (-sizes[s], s)):
        i = min(range(k), key=lambda j: (load[j], j))
        folds[i].append(g)
        load[i] += sizes[g]
    return [sorted(f) for f in folds]
