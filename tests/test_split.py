"""Deterministic stratified and group splits."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from aslkit.data.split import group_split, groups_from_pattern, stratified_split
from aslkit.errors import AslkitError, DatasetError


def _labels(counts: dict[str, int], seed: int = 0) -> list[str]:
    labs = [lab for lab, n in counts.items() for _ in range(n)]
    np.random.default_rng(seed).shuffle(labs)
    return labs


LABELS = _labels({"A": 100, "B": 60, "C": 40, "Del": 25})


def test_same_seed_same_split_other_seed_other_split() -> None:
    a = stratified_split(LABELS, (0.7, 0.2, 0.1), seed=3)
    b = stratified_split(LABELS, (0.7, 0.2, 0.1), seed=3)
    c = stratified_split(LABELS, (0.7, 0.2, 0.1), seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("ratios", [(0.7, 0.2, 0.1), (0.8, 0.2), (0.5, 0.25, 0.25), (3, 1), (6, 3, 1)])
def test_parts_are_disjoint_cover_everything_and_follow_the_ratios(ratios: tuple[float, ...]) -> None:
    parts = stratified_split(LABELS, ratios, seed=0)
    assert len(parts) == len(ratios)
    allidx = np.concatenate(parts)
    assert len(allidx) == len(LABELS) == len(set(allidx.tolist())), "disjoint"
    assert set(allidx.tolist()) == set(range(len(LABELS))), "covers every index"
    r = np.asarray(ratios, float) / sum(ratios)
    total = Counter(LABELS)
    for k, part in enumerate(parts):
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)
        per_class = Counter(LABELS[i] for i in part)
        for lab, n in total.items():
            assert abs(per_class[lab] - r[k] * n) <= 1.5, (lab, k, per_class[lab], r[k] * n)


def test_small_classes_get_one_item_per_part() -> None:
    labels = ["A"] * 3 + ["B"] * 4 + ["C"] * 50
    tr, va, te = stratified_split(labels, (0.8, 0.1, 0.1), seed=0)
    for part in (tr, va, te):
        got = Counter(labels[i] for i in part)
        assert got["A"] >= 1 and got["B"] >= 1


def test_zero_ratio_part_stays_empty() -> None:
    tr, va, te = stratified_split(LABELS, (0.8, 0.2, 0.0), seed=0)
    assert len(te) == 0 and len(tr) + len(va) == len(LABELS)


@pytest.mark.parametrize("ratios", [(1.0,), (0.5, 0.2, 0.2, 0.1), (0.8, -0.1, 0.3), (0, 0), ()])
def test_bad_ratios_raise(ratios: tuple[float, ...]) -> None:
    with pytest.raises(DatasetError, match="ratios"):
        stratified_split(LABELS, ratios)


def test_groups_from_pattern_on_massey_names() -> None:
    names = ["hand1_a_bot_seg_1_cropped.jpeg", "hand5_z_dif_seg_3_cropped.jpeg", "hand3_q_left_seg_2_cropped.jpeg"]
    assert groups_from_pattern(names, r"hand(\d+)") == ["1", "5", "3"]
    assert groups_from_pattern(names, r"hand\d+") == ["hand1", "hand5", "hand3"], "no group: the whole match"


def test_groups_from_pattern_errors() -> None:
    with pytest.raises(DatasetError, match="does not match"):
        groups_from_pattern(["hand1_a.jpg", "photo.jpg"], r"hand(\d+)")
    with pytest.raises(DatasetError, match="bad group pattern"):
        groups_from_pattern(["x"], r"hand(\d+")


def _massey_groups(n_groups: int, per_group: int = 12) -> list[str]:
    names = [
        f"hand{g}_{ch}_bot_seg_{i}_cropped.jpeg"
        for g in range(1, n_groups + 1)
        for i, ch in zip(range(per_group), "abcdefghijklmnop", strict=False)
    ]
    return groups_from_pattern(names, r"hand(\d+)")


@pytest.mark.parametrize("n_groups", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_group_split_never_splits_a_group(n_groups: int, seed: int) -> None:
    groups = _massey_groups(n_groups)
    tr, va, te = group_split(groups, seed=seed)
    g = np.asarray(groups)
    assert set(g[te].tolist()) == {str(n_groups)}, "default holdout: the last group"
    assert len(np.intersect1d(tr, va)) == len(np.intersect1d(tr, te)) == len(np.intersect1d(va, te)) == 0
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(groups)))
    assert not set(g[tr]) & set(g[te]) and not set(g[va]) & set(g[te])
    if n_groups - 1 >= 3:  # enough groups left: valid takes whole groups too
        assert not set(g[tr]) & set(g[va])
    assert len(tr) > 0 and len(va) > 0


def test_group_split_holdout_and_determinism() -> None:
    groups = _massey_groups(5)
    tr, va, te = group_split(groups, holdout=["2", "4"], seed=0)
    g = np.asarray(groups)
    assert set(g[te].tolist()) == {"2", "4"}
    again = group_split(groups, holdout=["2", "4"], seed=0)
    assert all(np.array_equal(x, y) for x, y in zip((tr, va, te), again, strict=True))


@pytest.mark.parametrize(
    ("groups", "holdout", "match"),
    [(["1"] * 5, None, "at least 2 groups"), (["1", "2"], ["9"], "not found"), (["1", "2"], ["1", "2"], "held out")],
)
def test_group_split_errors(groups: list[str], holdout: list[str] | None, match: str) -> None:
    with pytest.raises(DatasetError, match=match) as info:
        group_split(groups, holdout)
    assert isinstance(info.value, AslkitError)
