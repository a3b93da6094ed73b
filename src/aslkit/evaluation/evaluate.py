"""Evaluate a trained model on labelled data, end to end: photos (hand detection included) for letter
models, landmark clips or videos for sequence (sign) models; the same metrics JSON either way."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.dataset import load_dataset
from aslkit.data.sequences import is_sequence_source, load_sequences
from aslkit.data.split import groups_from_pattern
from aslkit.errors import AslkitError, DatasetError
from aslkit.evaluation.metrics import end_to_end_metrics
from aslkit.evaluation.report import plot_confusion, write_markdown
from aslkit.inference.recognizer import Recognizer
from aslkit.inference.sequence_recognizer import check_layout, hands_seen, sequence_decisions, sequence_probabilities
from aslkit.labels import match_labels
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder


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
    if report_dir is not None:  # before any work: a wrong --report costs nothing
        check_new_folder(report_dir, [data], flag="--report", what="the evaluated data")
    loaded = model if isinstance(model, TrainedModel) else load_model(model)
    if loaded.preprocessing.get("input") == "sequence":
        if views not in (None, 1, "1") or group_pattern:
            raise AslkitError("views and group patterns apply to photos; clips are grouped by their signer field")
        return evaluate_sequences(data, loaded, report_dir, cache_dir, progress)
    rec = Recognizer(loaded, cache_dir=cache_dir, views=views)
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
        _write_report(metrics, Path(report_dir), data, d.paths, d.labels, list(preds), has_hand)
    return metrics


def _write_report(metrics: dict, report_dir: Path, data, paths, labels, preds, has_hand) -> None:
    """metrics.json, report.md with the confusion-matrix PNG, and mistakes.json (one row per error), in a
    new folder that appears only when complete."""
    with new_folder(report_dir, [data], flag="--report", what="the evaluated data") as out:
        _write_report_files(metrics, out, data, paths, labels, preds, has_hand)


def _write_report_files(metrics: dict, out: Path, data, paths, labels, preds, has_hand) -> None:
    cm = metrics["confusion_matrix"]
    plot_confusion(cm["matrix"], cm["labels"], out / "confusion_matrix.png", shown(Path(data).name))
    write_markdown(
        metrics, out / "report.md", f"Evaluation on {shown(data)}", {"confusion matrix": "confusion_matrix.png"}
    )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    mistakes = [
        {"path": p, "label": t, "predicted": str(q), "hand": bool(h)}
        for p, t, q, h in zip(paths, labels, preds, has_hand, strict=True)
        if t != q
    ]
    (out / "mistakes.json").write_text(json.dumps(mistakes, indent=1), encoding="utf-8")


def evaluate_sequences(
    data: str | Path,
    model: str | Path | TrainedModel | None = "words",
    report_dir: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
) -> dict[str, Any]:
    """Metrics of a sequence (sign) model on a .npz of clips, a <sign>/<take> folder of .npy frames or
    of videos. Labels the model does not know are counted in ``unknown_labels`` and left out; videos
    that cannot be read are listed in ``errors``; with a ``signer`` field, ``per_group`` gives each
    signer's accuracy (how the model does on each person, not just on average)."""
    if report_dir is not None:
        check_new_folder(report_dir, [data], flag="--report", what="the evaluated data")
    m = model if isinstance(model, TrainedModel) else load_model(model)
    if Path(data).exists() and not is_sequence_source(data):
        raise DatasetError(
            f"{data}: not landmark clips (a .npz with `sequences`, or <sign>/<take> folders of .npy frames or videos)"
        )
    ds = check_layout(m, load_sequences(data, cache_dir, progress))
    ds = replace(ds, labels=match_labels(ds.labels, m.labels))  # `Thank_You` is the model's `thank-you`
    unknown = Counter(lab for lab in ds.labels if lab not in m.labels)
    keep = np.array([lab in m.labels for lab in ds.labels], dtype=bool)
    if not keep.any():
        raise DatasetError(f"{data}: none of its classes ({', '.join(sorted(unknown))}) are known to the model")
    ds = ds.subset(np.flatnonzero(keep))
    preds, _ = sequence_decisions(m, sequence_probabilities(m, ds))
    has_hand = np.array([hands_seen(s, ds.layout) > 0 for s in ds.sequences], dtype=bool)
    metrics = end_to_end_metrics(ds.labels, preds, has_hand, m.labels)
    if ds.signers is not None:
        groups = np.array(ds.signers, dtype=object)
        y, q = np.array(ds.labels, dtype=object), np.array(preds, dtype=object)
        metrics["per_group"] = {
            str(g): {"n": int((groups == g).sum()), "accuracy": float((q[groups == g] == y[groups == g]).mean())}
            for g in sorted(set(ds.signers))
        }
    metrics["data"] = str(data)
    metrics["model"] = m.source or m.architecture
    metrics["unknown_labels"] = dict(sorted(unknown.items()))
    metrics["input"] = "sequence"
    metrics["errors"] = [why for _, why in ds.errors]
    if report_dir is not None:
        _write_report(metrics, Path(report_dir), data, ds.paths, ds.labels, preds, has_hand)
    return metrics
