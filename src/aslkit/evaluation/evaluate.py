"""Evaluate a trained model on a labelled image set, end to end (hand detection included)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.dataset import load_dataset
from aslkit.data.split import groups_from_pattern
from aslkit.errors import DatasetError
from aslkit.evaluation.metrics import end_to_end_metrics
from aslkit.evaluation.report import plot_confusion, write_markdown
from aslkit.inference.recognizer import Recognizer
from aslkit.models.io import TrainedModel


def evaluate(
    data: str | Path,
    model: str | Path | TrainedModel | None = None,
    report_dir: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    workers: int | None = None,
    progress: bool = True,
    views: int | str | None = None,
    group_pattern: str | None = None,
) -> dict[str, Any]:
    r"""Metrics of ``model`` (default: the shipped ``letters``) on a folder-per-class or box-CSV set.

    Classes the model does not know are counted in ``unknown_labels`` and left out. Unreadable
    files are listed in ``errors`` and left out. Returns the metrics dict (also written to
    ``report_dir/metrics.json`` with a confusion-matrix PNG and report.md when report_dir is given).
    views: 1, 2 (photo and its mirror image averaged) or "auto" (mirror only where the photo alone
    is uncertain); default: what the model's JSON says.
    group_pattern: regex on file names (e.g. ``hand(\d+)`` for Massey's signers) to add per-group
    figures under ``per_group``: how the model does for each signer, not just on average.
    """
    rec = Recognizer(model, cache_dir=cache_dir, views=views)
    ds = load_dataset(data)
    known = set(rec.labels) | {rec.no_hand_label}
    unknown = Counter(s.label for s in ds.samples if s.label not in known)
    ds.samples = [s for s in ds.samples if s.label in known]
    if not ds.samples:
        raise DatasetError(f"{data}: none of its classes ({', '.join(sorted(unknown))}) are known to the model")
    d, probs, has_hand, extra = rec.dataset_probabilities(ds, workers=workers, progress=progress)
    preds = np.where(has_hand, np.array(rec.labels, dtype=object)[probs.argmax(1)], rec.no_hand_label)
    metrics = end_to_end_metrics(d.labels, list(preds), has_hand, rec.labels)
    metrics.update(extra)
    if group_pattern:
        groups = np.array(groups_from_pattern([Path(p).name for p in d.paths], group_pattern), dtype=object)
        y = np.array(d.labels, dtype=object)
        metrics["per_group"] = {
            str(g): {"n": int((groups == g).sum()), "accuracy": float((preds[groups == g] == y[groups == g]).mean())}
            for g in sorted(set(groups))
        }
    metrics["data"] = str(data)
    metrics["model"] = rec.model.source or rec.model.architecture
    metrics["unknown_labels"] = dict(sorted(unknown.items()))
    if report_dir is not None:
        out = Path(report_dir)
        out.mkdir(parents=True, exist_ok=True)
        cm = metrics["confusion_matrix"]
        plot_confusion(cm["matrix"], cm["labels"], out / "confusion_matrix.png", f"{Path(data).name}")
        write_markdown(
            metrics, out / "report.md", f"Evaluation on {data}", {"confusion matrix": "confusion_matrix.png"}
        )
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        mistakes = [
            {"path": p, "label": t, "predicted": str(q), "hand": bool(h)}
            for p, t, q, h in zip(d.paths, d.labels, preds, has_hand, strict=True)
            if t != q
        ]
        (out / "mistakes.json").write_text(json.dumps(mistakes, indent=1), encoding="utf-8")
    return metrics
