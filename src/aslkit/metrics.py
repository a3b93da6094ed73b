"""Classification metrics without scikit-learn: accuracy, F1 (weighted, macro, per class), confusion.

End-to-end figures count every readable image: one where no hand was found is predicted as
"Nothing", so it is right only if its label is Nothing. ``accuracy_detected`` is the accuracy
over images where a hand was found, which separates the classifier from the hand detector.

Training scores its validation split with these and evaluation its test sets, so they sit below both.
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


WORST_CLASSES = 3  # letters listed per group on a report card
READ_AS = 3  # wrong answers listed per worst letter


def worst_classes(metrics: dict, k: int = WORST_CLASSES, read_as: int = READ_AS) -> list[dict]:
    """The ``k`` classes with the lowest recall in a classification_metrics dict, each with what it was
    most often read as (from the confusion matrix; a missed hand reads as Nothing).

    Recall, not F1: a report card asks which of this person's letters the model misses; F1 would also
    blame a letter for other letters read as it. Classes read perfectly are not listed; ties go to the
    class with more misses, then to label order."""
    labels = metrics["confusion_matrix"]["labels"]
    cm = np.asarray(metrics["confusion_matrix"]["matrix"], dtype=np.int64).reshape(len(labels), len(labels))
    row = {lab: i for i, lab in enumerate(labels)}
    missed = [(lab, v) for lab, v in metrics["per_class"].items() if v["recall"] < 1.0]
    missed.sort(key=lambda lv: (lv[1]["recall"], -lv[1]["support"], labels.index(lv[0])))
    out = []
    for lab, v in missed[:k]:
        counts = cm[row[lab]]
        wrong = [(labels[j], int(c)) for j, c in enumerate(counts) if c > 0 and j != row[lab]]
        wrong.sort(key=lambda lc: (-lc[1], labels.index(lc[0])))
        out.append({"label": lab, "recall": v["recall"], "support": v["support"], "read_as": dict(wrong[:read_as])})
    return out


def group_cards(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    has_hand: Sequence[bool],
    groups: Sequence[str],
    labels: Sequence[str],
    worst: int = WORST_CLASSES,
) -> dict[str, dict]:
    """A report card per group (a person, a camera, a file-name pattern), in group-name order: n,
    end-to-end accuracy, detection_rate, accuracy_detected, n_detected, macro_f1 and its ``worst``
    classes (see worst_classes), so that a good average cannot hide the one person the model fails."""
    g = np.array([str(x) for x in groups], dtype=object)
    yt, yp = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    hand = np.asarray(has_hand, dtype=bool)
    if not (len(g) == len(yt) == len(yp) == len(hand)):
        raise ValueError("groups, labels, predictions and has_hand differ in length")
    cards = {}
    for name in sorted(set(g)):
        sel = g == name
        m = end_to_end_metrics(list(yt[sel]), list(yp[sel]), hand[sel], labels)
        cards[name] = {
            "n": m["n"],
            "accuracy": m["accuracy"],
            "detection_rate": m["detection_rate"],
            "accuracy_detected": m["accuracy_detected"],
            "n_detected": m["n_detected"],
            "macro_f1": m["macro_f1"],
            "worst": worst_classes(m, worst),
        }
    return cards
