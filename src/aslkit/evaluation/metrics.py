"""Classification metrics without scikit-learn: accuracy, F1 (weighted, macro, per class), confusion.

End-to-end figures count every readable image: one where no hand was found is predicted as
"Nothing", so it is right only if its label is Nothing. ``accuracy_detected`` is the accuracy
over images where a hand was found, which separates the classifier from the hand detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Counts (len(labels), len(labels)); rows are true labels, columns predictions."""
    idx = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in idx and p in idx:
            m[idx[t], idx[p]] += 1
    return m


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict:
    """accuracy, weighted/macro F1 and per-class F1/precision/recall over the classes in y_true.

    Classes that never occur in y_true (a 26-letter test set scored by a 29-class model) are
    left out of the F1 averages, but predictions of them still count as errors.
    """
    labels = list(labels)
    for lab in list(y_true) + list(y_pred):
        if lab not in labels:
            labels.append(lab)
    cm = confusion_matrix(y_true, y_pred, labels)
    n = int(cm.sum())
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(1).astype(np.float64)
    predicted = cm.sum(0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = support > 0
    per_class = {
        lab: {
            "f1": float(f1[i]),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "support": int(support[i]),
        }
        for i, lab in enumerate(labels)
        if present[i]
    }
    return {
        "n": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "weighted_f1": float((f1 * support).sum() / support.sum()) if n else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_f1": {lab: v["f1"] for lab, v in per_class.items()},
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "matrix": cm.tolist()},
    }


def end_to_end_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], has_hand: Sequence[bool], labels: Sequence[str]
) -> dict:
    """classification_metrics plus accuracy_detected, detection_rate and per-class detection rate."""
    out = classification_metrics(y_true, y_pred, labels)
    hand = np.asarray(has_hand, dtype=bool)
    yt, yp = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    out["n_detected"] = int(hand.sum())
    out["detection_rate"] = float(hand.mean()) if len(hand) else 0.0
    out["accuracy_detected"] = float((yt[hand] == yp[hand]).mean()) if hand.any() else 0.0
    out["per_class_detection_rate"] = {
        lab: float(hand[yt == lab].mean()) for lab in out["per_class_f1"] if (yt == lab).any()
    }
    return out
