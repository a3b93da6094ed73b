"""Detection metrics as the field reports them: precision, recall, AP per class, mAP@0.5 and
mAP@0.5:0.95 (COCO's 101-point interpolated AP, greedy matching by confidence, each ground-truth box
matched at most once), plus a per-class table of what was found at the confidence threshold."""

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
