"""Detection metrics as the field reports them: precision, recall, AP per class, mAP@0.5 and
mAP@0.5:0.95 (COCO's 101-point interpolated AP, greedy matching by confidence, each ground-truth box
matched at most once), plus a per-class table of what was found at the confidence threshold, and the
precision-recall and F1-confidence curves (``detection_curves``) from that same matching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aslkit.data.boxes import box_iou

IOU_THRESHOLDS = np.round(np.arange(0.5, 0.96, 0.05), 2)


def _ap(tp: np.ndarray, n_gt: int) -> float:
    """101-point interpolated average precision from true-positive flags sorted by confidence."""
    if n_gt == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    ctp = np.cumsum(tp)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, len(tp) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the precision envelope
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    return float(np.mean([precision[i] if i < len(precision) else 0.0 for i in idx]))


def _match(preds: list[tuple[float, np.ndarray]], gts: np.ndarray, thr: float) -> np.ndarray:
    """True-positive flags for one image's predictions of one class (sorted by confidence, high first)."""
    tp = np.zeros(len(preds), bool)
    if len(gts) == 0 or not preds:
        return tp
    iou = box_iou(np.stack([p[1] for p in preds]), gts)
    used = np.zeros(len(gts), bool)
    for i in range(len(preds)):
        cand = np.where(~used & (iou[i] >= thr))[0]
        if len(cand):
            j = cand[np.argmax(iou[i, cand])]
            used[j] = True
            tp[i] = True
    return tp


def detection_metrics(
    ground_truth: Sequence[list[tuple[str, Sequence[float]]]],
    predictions: Sequence[list[tuple[str, Sequence[float], float]]],
    classes: Sequence[str],
    conf: float = 0.5,
    iou: float = 0.5,
) -> dict[str, Any]:
    """Metrics over images: ``ground_truth[i]`` = [(label, xyxy)], ``predictions[i]`` = [(label, xyxy,
    confidence)]. AP uses every prediction (rank them all); precision, recall and the per-class table
    use those at or above ``conf``, matched at IoU >= ``iou``."""
    per_class_ap: dict[str, float] = {}
    per_class_ap50_95: dict[str, float] = {}
    table: dict[str, dict[str, int]] = {}
    tp_total = fp_total = n_gt_total = 0
    for c in classes:
        n_gt = sum(1 for g in ground_truth for lab, _ in g if lab == c)
        scored: dict[float, list[tuple[float, bool]]] = {float(t): [] for t in IOU_THRESHOLDS}
        found = extra = 0
        for g, p in zip(ground_truth, predictions, strict=True):
            gts = np.array([box for lab, box in g if lab == c], np.float64).reshape(-1, 4)
            preds = sorted(((s, np.asarray(box, np.float64)) for lab, box, s in p if lab == c), key=lambda x: -x[0])
            for t in IOU_THRESHOLDS:
                flags = _match(preds, gts, float(t))
                scored[float(t)] += [(s, bool(f)) for (s, _), f in zip(preds, flags, strict=True)]
            sure = [x for x in preds if x[0] >= conf]
            flags = _match(sure, gts, iou)
            found += int(flags.sum())
            extra += int((~flags).sum())
        aps = []
        for rows in scored.values():
            rows.sort(key=lambda r: -r[0])
            aps.append(_ap(np.array([f for _, f in rows], float), n_gt))
        if n_gt:
            per_class_ap[c] = float(aps[0])
            per_class_ap50_95[c] = float(np.mean(aps))
            table[c] = {"ground_truth": n_gt, "detected": found, "missed": n_gt - found, "false_positives": extra}
        tp_total += found
        fp_total += extra
        n_gt_total += n_gt
    return {
        "map50": float(np.mean(list(per_class_ap.values()))) if per_class_ap else 0.0,
        "map50_95": float(np.mean(list(per_class_ap50_95.values()))) if per_class_ap50_95 else 0.0,
        "precision": tp_total / (tp_total + fp_total) if tp_total + fp_total else 0.0,
        "recall": tp_total / n_gt_total if n_gt_total else 0.0,
        "per_class_ap": per_class_ap,
        "per_class_ap50_95": per_class_ap50_95,
        "per_class_table": table,
        "conf": conf,
        "iou": iou,
        "images": len(ground_truth),
        "ground_truth_boxes": n_gt_total,
    }


def class_matches(
    ground_truth: Sequence[list[tuple[str, Sequence[float]]]],
    predictions: Sequence[list[tuple[str, Sequence[float], float]]],
    label: str,
    iou: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Confidence and true-positive flag of every prediction of ``label`` over all images, highest first, and
    the number of its ground-truth boxes. Matched as ``detection_metrics`` matches (greedily by confidence
    within each image, at IoU >= ``iou``), so keeping those at or above a confidence gives exactly the
    precision and recall ``detection_metrics`` reports at that confidence."""
    scores: list[float] = []
    flags: list[bool] = []
    n_gt = 0
    for g, p in zip(ground_truth, predictions, strict=True):
        gts = np.array([box for lab, box in g if lab == label], np.float64).reshape(-1, 4)
        n_gt += len(gts)
        preds = sorted(((s, np.asarray(box, np.float64)) for lab, box, s in p if lab == label), key=lambda x: -x[0])
        scores += [float(s) for s, _ in preds]
        flags += [bool(f) for f in _match(preds, gts, iou)]
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    return np.asarray(scores, np.float64)[order], np.asarray(flags, bool)[order], n_gt


def _at_thresholds(scores: np.ndarray, flags: np.ndarray, n_gt: int, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of the predictions at or above each threshold (``scores`` highest first);
    precision is 0 where none is kept, as in ``detection_metrics``."""
    kept = np.searchsorted(-scores, -thresholds, side="right")  # how many scores are >= each threshold
    tp = np.concatenate([[0], np.cumsum(flags)])[kept]
    precision = np.divide(tp, kept, out=np.zeros(len(thresholds)), where=kept > 0)
    recall = tp / n_gt if n_gt else np.zeros(len(thresholds))
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(thresholds)), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1}


def _pr_points(scores: np.ndarray, flags: np.ndarray, n_gt: int) -> dict[str, list[float]]:
    """The precision-recall curve: one point per prediction, highest confidence first."""
    ctp = np.cumsum(flags)
    ranks = np.arange(1, len(flags) + 1)
    return {
        "confidence": scores.tolist(),
        "recall": (ctp / n_gt if n_gt else np.zeros(len(flags))).tolist(),
        "precision": (ctp / np.maximum(ranks, 1)).tolist(),
    }


def _best(f1: np.ndarray, thresholds: np.ndarray) -> tuple[float, float | None]:
    """The highest F1 and the confidence in the middle of the first run of thresholds that reach it (any of
    them gives that F1 here; the middle stands furthest from the boxes either side); None when F1 is 0."""
    best = float(f1.max()) if len(f1) else 0.0
    if best <= 0:
        return 0.0, None
    first = int(np.argmax(f1 >= best - 1e-12))
    last = first
    while last + 1 < len(f1) and f1[last + 1] >= best - 1e-12:
        last += 1
    return best, float(thresholds[(first + last) // 2])


def detection_curves(
    ground_truth: Sequence[list[tuple[str, Sequence[float]]]],
    predictions: Sequence[list[tuple[str, Sequence[float], float]]],
    classes: Sequence[str],
    iou: float = 0.5,
    steps: int = 101,
) -> dict[str, Any]:
    """Precision-recall and F1-confidence curves at IoU ``iou``, for all classes together (counted as
    ``detection_metrics`` counts its precision and recall: every box of every class) and per class.

    ``pr``: per class and ``all``, one point per prediction by falling confidence (``confidence``, ``recall``,
    ``precision``). ``thresholds`` (``steps`` confidences from 0 to 1) with ``precision``, ``recall`` and ``f1``
    of all classes there (at the threshold ``conf`` these equal ``detection_metrics``' precision and recall),
    ``per_class_f1``, and ``best_f1`` with ``best_f1_conf``."""
    thresholds = np.round(np.linspace(0.0, 1.0, steps), 6)  # 0.29 is 0.29, so a box scored 0.29 counts there
    pr: dict[str, dict[str, list[float]]] = {}
    per_class_f1: dict[str, list[float]] = {}
    parts = []
    for c in classes:
        scores, flags, n_gt = class_matches(ground_truth, predictions, c, iou)
        parts.append((scores, flags, n_gt))
        if n_gt:
            pr[c] = _pr_points(scores, flags, n_gt)
            per_class_f1[c] = _at_thresholds(scores, flags, n_gt, thresholds)["f1"].tolist()
    scores = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    flags = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, bool)
    n_all = sum(p[2] for p in parts)
    order = np.argsort(-scores, kind="stable")
    scores, flags = scores[order], flags[order]
    pr["all"] = _pr_points(scores, flags, n_all)
    at = _at_thresholds(scores, flags, n_all, thresholds)
    best_f1, best_conf = _best(at["f1"], thresholds)
    return {
        "iou": iou,
        "thresholds": thresholds.tolist(),
        "precision": at["precision"].tolist(),
        "recall": at["recall"].tolist(),
        "f1": at["f1"].tolist(),
        "per_class_f1": per_class_f1,
        "best_f1": best_f1,
        "best_f1_conf": best_conf,
        "pr": pr,
    }
