"""`aslkit audit DATA`: what is wrong with a labelled set before anyone trains on it.

Reads a folder-per-class set or a box set (any import format), a YOLO set whose data.yaml names its splits,
or a folder whose ``train``/``valid``/``test`` sub-folders are such sets (with splits, copies across them are
reported as leakage; ``split`` audits one of them). Finds:
class balance, images with more than one box and duplicate boxes, byte-identical files and
near-duplicates (see data/duplicates.py), unreadable files, images where MediaPipe finds no hand,
and suspected mislabels, from two independent signals over the hands' landmark features: the
image's nearest hands (its own copies left out) mostly belong to another class, or a model trained
on the other folds of a cross-validation (copies kept in one fold) confidently says another class.

The set is only read. ``write_audit`` puts the report (Markdown, HTML, thumbnails, chart, JSON) and,
if asked, a manifest CSV (one row per image, with what to keep and suggested labels) in a new place.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from aslkit.data.boxes import Box, box_iou, detect_format, load_boxes, split_folders
from aslkit.data.dataset import load_dataset
from aslkit.data.duplicates import DuplicateSettings, near_duplicate_groups, sha1_groups, thumbnail
from aslkit.data.images import decode_image, read_bytes
from aslkit.data.yolo import YoloLayout, data_yaml, distinct_splits, read_layout, spellings
from aslkit.errors import AslkitError, DatasetError, ImageError
from aslkit.labels import sort_labels
from aslkit.landmarks.batch import extract_sources
from aslkit.landmarks.extractor import HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.landmarks.landmark_set import LandmarkSet
from aslkit.names import shown
from aslkit.outputs import new_run_folder, safe_component

DUPLICATE_BOX_IOU = 0.9  # two boxes in one image overlapping this much are the same box drawn twice
HAND_IN_BOX_IOU = 0.3  # a box and a hand's landmark box overlapping this much are the same hand


@dataclass
class AuditItem:
    """One image: its split ("" for a single set), one label per box (or its folder's class), the boxes."""

    path: Path
    split: str
    labels: list[str]
    boxes: list[Box] | None = None


@dataclass
class AuditSettings:
    """neighbours: nearest hands consulted; neighbour_share: share of them in one other class (and at
    most a tenth in its own) that makes an image suspect; folds: cross-validation folds (0: skip the
    model); model_confidence: how sure the cross-validated model must be to call a label wrong."""

    neighbours: int = 10
    neighbour_share: float = 0.7
    folds: int = 5
    model_confidence: float = 0.9
    epochs: int = 60
    seed: int = 0
    duplicates: DuplicateSettings = field(default_factory=DuplicateSettings)


def _load_one(
    path: Path, split: str, fmt: str | None, yolo_split: str | None = None
) -> tuple[list[AuditItem], str, list[dict[str, str]]]:
    """Items of one set (``yolo_split``: that split of a YOLO set), its kind ("boxes (yolo)" or "class
    folders") and its annotation problems.

    Without ``fmt``, a folder whose box annotations cannot be read (none, or a stray .json that is not
    COCO) is read as class folders, and the box error is kept as an annotation problem; when it is no
    class-folder set either, the box error is the one raised if there were box files, else the class
    folders' error."""
    try:
        bs = load_boxes(path, fmt, yolo_split)
    except DatasetError as box_error:
        if fmt is not None or yolo_split is not None:
            raise
        try:
            ds = load_dataset(path)
        except DatasetError as folder_error:
            try:
                detect_format(path)
            except DatasetError:
                raise folder_error from None  # no box annotations either: this says what was expected
            raise box_error from None
        try:
            detect_format(path)
            noted = [{"split": split, "where": shown(path), "problem": f"read as class folders: {box_error}"}]
        except DatasetError:
            noted = []  # no box annotations at all: an ordinary class-folder set
        return [AuditItem(s.path, split, [s.label]) for s in ds.samples], "class folders", noted
    items = [AuditItem(im.path, split, [b.label for b in im.boxes], list(im.boxes)) for im in bs.images]
    # annotated regular files inside the set that cannot be decoded: listed as unreadable (never a FIFO
    # or a file outside the set: those are annotation problems only, and are never opened)
    items += [AuditItem(p, split, [], []) for p in bs.unreadable]
    problems = [{"split": split, "where": w, "problem": why} for w, why in bs.problems]
    return items, f"boxes ({bs.source_format})", problems


def _yolo_layout(root: Path, fmt: str | None) -> YoloLayout | None:
    """The layout of DATA when it is a YOLO set (its folder or data.yaml) whose data.yaml can be read; else None
    (a data.yaml that cannot be read is reported when the set is loaded)."""
    if fmt not in (None, "yolo") or data_yaml(root) is None:
        return None
    try:
        return read_layout(root)
    except DatasetError:
        return None


def _one_split(root: Path, fmt: str | None, split: str) -> tuple[list[AuditItem], str, list[dict[str, str]]]:
    """Only the split named ``split``: of a YOLO set whose data.yaml names splits, else a split sub-folder."""
    lay = _yolo_layout(root, fmt)
    if lay is not None and (lay.splits or not split_folders(root)):
        return _load_one(root, lay.split_key(split), fmt, split)
    for d in split_folders(root):
        if d.name.lower() in spellings(split):
            return _load_one(d, d.name, fmt)
    there = ", ".join(d.name for d in split_folders(root))
    why = f"its splits: {there}" if there else "it is one set, not a folder of train/valid/test sets; leave out --split"
    raise DatasetError(f"{shown(root)}: no split {shown(split)!r}; {why}")


def load_audit_items(
    data: str | Path, fmt: str | None = None, split: str | None = None
) -> tuple[list[AuditItem], str, list[dict[str, str]]]:
    """Every image of DATA (one set; each split its YOLO data.yaml names; or its train/valid/test sub-folders),
    the set kind and problems. ``split``: only that split, by name."""
    root = Path(data)
    if not root.exists():
        raise AslkitError(f"{root}: no such file or folder")
    if split is not None:
        return _one_split(root, fmt, split)
    lay = _yolo_layout(root, fmt)
    if lay is not None:  # a YOLO set: its own splits (one that repeats an earlier split's images is that split)
        keys = distinct_splits(lay) if lay.splits else []
        parts = [_load_one(root, key, fmt, key) for key in keys] if len(keys) > 1 else [_load_one(root, "", fmt)]
    else:
        splits = split_folders(root)
        parts = [_load_one(d, d.name, fmt) for d in splits] if splits else [_load_one(root, "", fmt)]
    items = [it for p in parts for it in p[0]]
    problems = [pr for p in parts for pr in p[2]]
    return items, " + ".join(sorted({p[1] for p in parts})), problems


# ---------------------------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------------------------
def class_balance(items: list[AuditItem]) -> dict[str, Any]:
    """Counts per split and class (boxes, or images for class folders) and imbalance figures."""
    per_split: dict[str, Counter] = {}
    for it in items:
        per_split.setdefault(it.split or "all", Counter()).update(it.labels)
    total: Counter = sum(per_split.values(), Counter())
    classes = sort_labels(total)
    counts = np.array([total[c] for c in classes], float)
    median = float(np.median(counts)) if len(counts) else 0.0
    return {
        "unit": "images" if all(it.boxes is None for it in items) else "boxes",
        "classes": classes,
        "counts": {s: {c: int(n[c]) for c in classes} for s, n in per_split.items()},
        "total": {c: int(total[c]) for c in classes},
        "max_min_ratio": round(float(counts.max() / max(counts.min(), 1)), 2) if len(counts) else 0.0,
        "under_half_median": [c for c in classes if total[c] < 0.5 * median],
        "missing_in_split": {
            s: [c for c in classes if n[c] == 0] for s, n in per_split.items() if any(n[c] == 0 for c in classes)
        },
    }


def box_findings(items: list[AuditItem]) -> tuple[list[dict], list[dict]]:
    """Images with more than one box, and pairs of boxes in one image that are the same box twice."""
    multi, dups = [], []
    for it in items:
        if not it.boxes or len(it.boxes) < 2:
            continue
        multi.append({"path": str(it.path), "split": it.split, "boxes": len(it.boxes), "labels": it.labels})
        iou = box_iou(np.array([b.xyxy for b in it.boxes]), np.array([b.xyxy for b in it.boxes]))
        for a, b in zip(*np.nonzero(np.triu(iou, 1) >= DUPLICATE_BOX_IOU), strict=True):
            same = it.boxes[a].label == it.boxes[b].label
            dups.append({
                "path": str(it.path), "split": it.split, "labels": [it.boxes[a].label, it.boxes[b].label],
                "iou": round(float(iou[a, b]), 3), "kind": "duplicate" if same else "conflicting labels",
            })  # fmt: skip
    return multi, dups


def _copy_groups(exact: list, exact_rows: list[dict], near: list, near_rows: list[dict]) -> list[dict]:
    """The groups of copies that leakage and label conflicts are read from: every near-duplicate group, and each
    set of byte-identical copies that no near-duplicate group holds already (counted twice, one copied photo made
    two leakage groups)."""
    near_sets = [set(g) for g in near]
    own = [r for g, r in zip(exact, exact_rows, strict=True) if not any(set(g) <= n for n in near_sets)]
    return own + near_rows


def _group_rows(groups: list[list[int]], items: list[AuditItem], scores: dict | None = None) -> list[dict]:
    rows = []
    for g in groups:
        labels = [sorted(set(items[i].labels)) for i in g]
        row = {
            "paths": [str(items[i].path) for i in g],
            "splits": [items[i].split for i in g],
            "labels": [",".join(lab) or "(none)" for lab in labels],
            "label_conflict": len({tuple(lab) for lab in labels}) > 1,
            "cross_split": len({items[i].split for i in g}) > 1,
        }
        if scores is not None:
            row["min_correlation"] = min(scores.get(i, 1.0) for i in g)
        rows.append(row)
    return rows


@dataclass
class _Samples:
    """One hand per annotated box (or per class-folder image): where it is, its label, its features."""

    item: list[int]
    label: list[str]
    points: np.ndarray  # canonical hand points (N, 21, 3)
    feats: np.ndarray
    group: np.ndarray  # near-duplicate group id: copies never judge one another


def hand_samples(items: list[AuditItem], hands: list, group_of: dict[int, int]) -> _Samples:
    """Pair each box with the hand whose landmark box overlaps it most (class folders: the main hand)."""
    idx, labels, pts = [], [], []
    for i, (it, res) in enumerate(zip(items, hands, strict=True)):
        if not isinstance(res, HandsResult) or not res.hands:
            continue
        if it.boxes is None:
            h = res.main_hand()
            idx.append(i)
            labels.append(it.labels[0])
            pts.append(canonical_points(h, res.width, res.height))
            continue
        lm = np.array([[x0 * res.width, y0 * res.height, x1 * res.width, y1 * res.height]
                       for x0, y0, x1, y1 in (h.box for h in res.hands)])  # fmt: skip
        for b in it.boxes:
            iou = box_iou(np.array([b.xyxy]), lm)[0]
            if iou.max() >= HAND_IN_BOX_IOU:
                idx.append(i)
                labels.append(b.label)
                pts.append(canonical_points(res.hands[int(iou.argmax())], res.width, res.height))
    points = np.stack(pts) if pts else np.zeros((0, 21, 3), np.float32)
    group = np.array([group_of.get(i, -1 - i) for i in idx], int)
    return _Samples(idx, labels, points, featurize(points) if pts else np.zeros((0, 1), np.float32), group)


def neighbour_votes(s: _Samples, k: int) -> list[tuple[str, float, float]]:
    """For each sample: (the most common other class among its k nearest hands, that class's share,
    its own class's share); neighbours in its own near-duplicate group are not counted."""
    if len(s.label) < 2:
        return [("", 0.0, 0.0)] * len(s.label)
    x = (s.feats - s.feats.mean(0)) / (s.feats.std(0) + 1e-6)
    sq = (x**2).sum(1)
    lab = np.array(s.label)
    out = []
    for a in range(0, len(x), 512):
        d = sq[a : a + 512, None] + sq[None] - 2 * x[a : a + 512] @ x.T
        d[s.group[a : a + 512, None] == s.group[None]] = np.inf  # itself and its copies
        kk = min(k, len(x) - 1)
        near = np.argsort(d, axis=1)[:, :kk]
        for r, row in enumerate(near):
            row = row[np.isfinite(d[r, row])]
            votes = Counter(lab[row])
            own = votes.pop(lab[a + r], 0)
            other, n = votes.most_common(1)[0] if votes else ("", 0)
            out.append((str(other), n / max(len(row), 1), own / max(len(row), 1)))
    return out


def cross_validated(s: _Samples, settings: AuditSettings, progress: bool) -> np.ndarray:
    """Out-of-fold class probabilities (N, C over sorted labels) from the landmark model trained on the
    other folds; folds split by near-duplicate group, so no copy of an image helps judge it."""
    from aslkit.config import TrainConfig
    from aslkit.training.landmark_fit import fit_landmark_model

    labels = sort_labels(set(s.label))
    n = len(s.label)
    rng = np.random.default_rng(settings.seed)
    groups = np.unique(s.group)
    fold_of_group = dict(zip(rng.permutation(groups), np.arange(len(groups)) % settings.folds, strict=True))
    fold = np.array([fold_of_group[g] for g in s.group])
    probs = np.zeros((n, len(labels)), np.float64)
    cfg = TrainConfig.from_defaults(epochs=settings.epochs, seed=settings.seed)
    for f in tqdm(range(settings.folds), desc="cross-validation", disable=not progress, leave=False):
        test = np.flatnonzero(fold == f)
        rest = np.flatnonzero(fold != f)
        if len(test) == 0 or len(rest) == 0:
            continue
        val = rest[fold[rest] == (f + 1) % settings.folds]  # one other fold decides when to stop
        tr = rest[fold[rest] != (f + 1) % settings.folds]
        if len(val) == 0 or len(tr) == 0:
            tr, val = rest, rest[:1]
        model, _ = fit_landmark_model(
            _points_set(s, tr), _points_set(s, val), labels, cfg,
            progress=False,
        )  # fmt: skip
        probs[test] = model.predict_proba(s.feats[test])
    return probs


def _points_set(s: _Samples, idx: np.ndarray) -> LandmarkSet:
    """A LandmarkSet of the samples' canonical points (the trainer featurizes and augments them)."""
    n = len(idx)
    return LandmarkSet(s.points[idx], np.ones(n, bool), [s.label[i] for i in idx], [""] * n, [None] * n)


def model_check(hands: int, folds: int) -> str:
    """Whether the cross-validated model judges the hands too ("ran"), or why the neighbours judge alone: a fold
    needs something to learn from, so below 4 hands per fold there is no model."""
    if folds < 2:
        return "off (--folds 0): the neighbours judge alone"
    if hands < 4 * folds:
        return f"skipped: {hands} hands are too few for {folds} folds (4 a fold); the neighbours judge alone"
    return "ran"


def suspected_mislabels(
    items: list[AuditItem], s: _Samples, settings: AuditSettings, progress: bool
) -> list[dict[str, Any]]:
    """Hands whose neighbours or whose cross-validated model say another class (see the module docstring),
    surest first."""
    if len(set(s.label)) < 2:
        return []
    votes = neighbour_votes(s, settings.neighbours)
    labels = sort_labels(set(s.label))
    cv = model_check(len(s.label), settings.folds) == "ran"
    probs = cross_validated(s, settings, progress) if cv else None
    per_class = Counter(s.label)
    out = []
    for k, (i, lab) in enumerate(zip(s.item, s.label, strict=True)):
        other, share, own = votes[k]
        # a class with fewer hands than the neighbours asked for cannot win their vote: not evidence
        enough = per_class[lab] > settings.neighbours
        by_neighbours = enough and share >= settings.neighbour_share and own <= 0.1
        row: dict[str, Any] = {
            "path": str(items[i].path), "split": items[i].split, "label": lab,
            "neighbours": {"class": other, "share": round(share, 2), "own_share": round(own, 2)},
        }  # fmt: skip
        by_model = False
        if probs is not None:
            j = int(probs[k].argmax())
            row["model"] = {"class": labels[j], "confidence": round(float(probs[k, j]), 4),
                            "label_probability": round(float(probs[k, labels.index(lab)]), 4)}  # fmt: skip
            by_model = labels[j] != lab and probs[k, j] >= settings.model_confidence
        if not (by_neighbours or by_model):
            continue
        why = []
        if by_neighbours:
            why.append(f"{share:.0%} of its {settings.neighbours} nearest hands are {other}, {own:.0%} {lab}")
        if by_model:
            why.append(f"the cross-validated model says {row['model']['class']} ({row['model']['confidence']:.2f})")
        row["suggested"] = row["model"]["class"] if by_model else other
        row["signals"] = int(by_neighbours) + int(by_model)
        row["why"] = "; ".join(why)
        row["score"] = round(max(share if by_neighbours else 0.0, row["model"]["confidence"] if by_model else 0.0), 4)
        out.append(row)
    return sorted(out, key=lambda r: (-r["signals"], -r["score"]))


def default_report_folder(data: str | Path) -> Path:
    """Where `aslkit audit` reports without --out: runs/audit/<set name>, or -2, -3, ... beside an earlier one."""
    p = Path(data).resolve()
    name = p.parent.name if p.suffix.lower() in (".yaml", ".yml") else p.name
    return new_run_folder(Path("runs") / "audit" / safe_component(name))  # a name any tool can read back


def read_images(
    items: list[AuditItem], progress: bool = False
) -> tuple[list[bytes | None], list[np.ndarray | None], list[dict[str, str]]]:
    """Each item's bytes and thumbnail (None for both where it cannot be read), and the unreadable ones."""
    blobs: list[bytes | None] = []
    thumbs: list[np.ndarray | None] = []
    unreadable = []
    for it in tqdm(items, desc="reading", disable=not progress, leave=False):
        try:
            b = read_bytes(it.path)
            thumbs.append(thumbnail(decode_image(b, str(it.path))))
            blobs.append(b)
        except ImageError as exc:
            unreadable.append({"path": str(it.path), "split": it.split, "error": str(exc)})
            blobs.append(None)
            thumbs.append(None)
    return blobs, thumbs, unreadable


def hand_findings(
    items: list[AuditItem],
    blobs: list[bytes | None],
    group_of: dict[int, int],
    st: AuditSettings,
    cache_dir,
    workers: int | None,
    progress: bool,
) -> dict[str, Any]:
    """The MediaPipe checks on the readable images: those with no hand, and the suspected mislabels
    (``no_hand``, ``hand_samples``, ``suspected_mislabels``, ``mislabel_settings``, in that order)."""
    readable = [i for i, b in enumerate(blobs) if b is not None]
    found = extract_sources([items[i].path for i in readable], cache_dir, workers, progress)
    hands: list = [None] * len(items)
    for i, r in zip(readable, found, strict=True):
        hands[i] = r
    out: dict[str, Any] = {}
    out["no_hand"] = [
        {"path": str(items[i].path), "split": items[i].split, "labels": items[i].labels}
        for i in readable
        if isinstance(hands[i], HandsResult) and not hands[i].hands
    ]
    samples = hand_samples(items, hands, group_of)
    out["hand_samples"] = len(samples.label)
    out["suspected_mislabels"] = suspected_mislabels(items, samples, st, progress)
    out["mislabel_settings"] = {k: v for k, v in vars(st).items() if k != "duplicates"}
    out["mislabel_settings"]["model_check"] = model_check(len(samples.label), st.folds)
    return out


def audit(
    data: str | Path,
    fmt: str | None = None,
    settings: AuditSettings | None = None,
    landmarks: bool = True,
    cache_dir="default",
    workers: int | None = None,
    progress: bool = False,
    out: str | Path | None = None,
    manifest: bool = False,
    split: str | None = None,
) -> dict[str, Any]:
    """Every check on DATA (see the module docstring); returns the findings as one JSON-ready dict.

    landmarks: False skips MediaPipe (no-hand and mislabel checks), for sets of something else than hands.
    out: a new folder for the report (see audit_report); manifest: also write manifest.csv there.
    split: only this split of DATA, by name (``valid``), instead of every split.
    """
    if out is not None:  # refuse a bad report folder before the long part
        from aslkit.evaluation.audit_report import check_report_folder

        check_report_folder(out, data)
    st = settings or AuditSettings()
    items, kind, problems = load_audit_items(data, fmt, split)
    if not items:
        raise DatasetError(f"{data}: no images found")
    blobs, thumbs, unreadable = read_images(items, progress)
    exact = sha1_groups(blobs)
    near = near_duplicate_groups(thumbs, st.duplicates, progress)
    best_corr: dict[int, float] = {}
    for i, j, c in near.pairs:
        best_corr[i] = max(best_corr.get(i, -1.0), c)
        best_corr[j] = max(best_corr.get(j, -1.0), c)
    group_of = {i: g for g, members in enumerate(near.groups) for i in members}
    for g, members in enumerate(exact):  # byte-identical files are copies even when they cannot be aligned
        for i in members:
            group_of.setdefault(i, len(near.groups) + g)
    multi, dup_boxes = box_findings(items)
    exact_rows = _group_rows(exact, items)
    near_rows = _group_rows(near.groups, items, best_corr)
    result: dict[str, Any] = {
        "data": str(data),
        "kind": kind,
        "images": len(items),
        "splits": dict(Counter(it.split or "all" for it in items)),
        "balance": class_balance(items),
        "annotation_problems": problems,
        "unreadable": unreadable,
        "multi_box": multi,
        "duplicate_boxes": dup_boxes,
        "exact_duplicates": exact_rows,
        "near_duplicates": near_rows,
        "duplicate_settings": vars(st.duplicates),
    }
    groups = _copy_groups(exact, exact_rows, near.groups, near_rows)
    result["leakage"] = [r for r in groups if r["cross_split"]]
    result["label_conflicts"] = [r for r in groups if r["label_conflict"]]
    if landmarks:
        result.update(hand_findings(items, blobs, group_of, st, cache_dir, workers, progress))
    result["summary"] = {
        "images": len(items),
        "unreadable": len(unreadable),
        "annotation_problems": len(problems),
        "multi_box_images": len(multi),
        "duplicate_boxes": len(dup_boxes),
        "exact_duplicate_groups": len(exact_rows),
        "near_duplicate_groups": len(near_rows),
        "images_in_near_duplicate_groups": sum(len(g) for g in near.groups),
        "leakage_groups": len(result["leakage"]),
        "label_conflict_groups": len(result["label_conflicts"]),
        "no_hand": len(result["no_hand"]) if landmarks else "not checked",
        "suspected_mislabels": len(result["suspected_mislabels"]) if landmarks else "not checked",
    }
    if out is not None:
        from aslkit.evaluation.audit_report import write_audit

        write_audit(result, items, out, manifest)
    return result


def audit_text(r: dict[str, Any], out: str | Path, manifest: bool = False) -> str:
    """What `aslkit audit` prints: the summary of ``audit``'s findings and where the report is."""
    lines = [f"{r['data']}: {r['images']} images, {r['kind']}"]
    lines += [f"  {k.replace('_', ' '):<32} {v}" for k, v in r["summary"].items() if k != "images"]
    lines.append(f"  class balance: largest / smallest {r['balance']['max_min_ratio']}")
    lines.append(
        f"report: {shown(Path(out) / 'report.html')} (and report.md, audit.json{', manifest.csv' if manifest else ''})"
    )
    return "\n".join(lines)
