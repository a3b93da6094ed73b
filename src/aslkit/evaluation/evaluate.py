"""Evaluate a trained model on labelled data, end to end: photos (hand detection included) for letter
models, landmark clips or videos for sequence (sign) models; the same metrics JSON either way."""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.dataset import ImageDataset, load_dataset
from aslkit.data.images import is_image_path
from aslkit.data.sequences import SequenceSet, is_sequence_source, is_video_path
from aslkit.data.split import groups_from_pattern
from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.recognizers import photo_recognizer
from aslkit.inference.sequence_recognizer import check_layout, hands_seen, sequence_decisions, sequence_probabilities
from aslkit.kinds import CLIPS_SCORED, InputKind, scored_clips
from aslkit.labels import match_labels
from aslkit.landmarks.holistic import load_sequences
from aslkit.metrics import end_to_end_metrics, group_cards
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder
from aslkit.report import group_word, plot_confusion, plot_group_accuracy, write_markdown

GROUP_BY = ("folder",)  # evaluate(group_by=...): what a group can be besides a file-name pattern


def evaluate(
    data: str | Path,
    model: str | Path | TrainedModel | None = None,
    report_dir: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    workers: int | None = None,
    progress: bool = True,
    views: int | str | None = None,
    group_pattern: str | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    r"""Metrics of ``model`` (default: the shipped ``letters``) on a folder-per-class or box-CSV set.

    Classes the model does not know are counted in ``unknown_labels`` and left out. Unreadable
    files are listed in ``errors`` and left out. Returns the metrics dict (also written to
    ``report_dir/metrics.json`` with a confusion-matrix PNG and report.md when report_dir is given).
    views: 1, 2 (photo and its mirror image averaged) or "auto" (mirror only where the photo alone
    is uncertain); default: what the model's JSON says.
    group_pattern: regex on file names (e.g. ``hand(\d+)`` for Massey's signers; its first group, else
    the whole match, names the group).
    group_by: ``"folder"`` reads DATA as one sub-folder per group, each a labelled set of its own
    (``people/<person>/<A..Z>/*.jpg``, or a box CSV per sub-folder), and groups by that sub-folder: one
    folder per person or camera is how such sets are usually kept, so no file renaming is needed.
    With either, ``per_group`` holds a report card per group (see metrics.group_cards): how the model
    does for each person, not just on average. A pattern that misses a file, ``folder`` on a flat
    set, or a group left with no photo is a DatasetError (found before any landmark work, except a
    group whose every photo turns out unreadable).
    """
    _check_request(data, report_dir, group_pattern, group_by)
    loaded = model if isinstance(model, TrainedModel) else load_model(model)
    if loaded.kind is InputKind.SEQUENCE:
        if views not in (None, 1, "1") or group_pattern or group_by:
            raise AslkitError("views and groups apply to photos; clips are grouped by their signer field")
        return evaluate_sequences(data, loaded, report_dir, cache_dir, progress)
    rec = photo_recognizer(loaded, cache_dir=cache_dir, views=views)
    ds, group_of = _load_grouped(data) if group_by == "folder" else (load_dataset(data), None)
    if report_dir is not None:  # the set's own folder too (a data.yaml's `path:` may lead beside the one given)
        check_new_folder(report_dir, [data, ds.root], flag="--report", what="the evaluated data")
    known = set(rec.labels) | {rec.no_hand_label}
    unknown = Counter(s.label for s in ds.samples if s.label not in known)
    all_groups = sorted(set(group_of.values())) if group_of else []
    ds.samples = [s for s in ds.samples if s.label in known]
    if not ds.samples:
        raise DatasetError(
            f"{data}: none of its classes ({', '.join(sorted(unknown))}) are known to the model{_nested_hint(data)}"
        )
    if group_pattern:
        group_of = _pattern_groups(ds, group_pattern)
    if group_of is not None:
        _check_groups_left(all_groups, [group_of[str(s.path)] for s in ds.samples], "of a class the model knows")
    d, probs, has_hand, extra = rec.dataset_probabilities(ds, workers=workers, progress=progress)
    if not len(d.paths):  # an accuracy over no image would read as a (failed) result, not as unreadable data
        errors = extra.get("errors") or ["no reason given"]
        raise DatasetError(
            f"{shown(data)}: none of the {len(ds.samples)} images could be read (first: {shown(errors[0])})"
        )
    preds = np.where(has_hand, np.array(rec.labels, dtype=object)[probs.argmax(1)], rec.no_hand_label)
    metrics = end_to_end_metrics(d.labels, list(preds), has_hand, rec.labels)
    metrics.update(extra)
    if extra.get("crop") == "none":  # a whole-image model looks for no hand: no detection rate to claim
        for key in ("detection_rate", "n_detected", "accuracy_detected", "per_class_detection_rate"):
            metrics.pop(key, None)
    if group_of is not None:
        groups = [group_of[p] for p in d.paths]
        _check_groups_left(sorted({group_of[str(s.path)] for s in ds.samples}), groups, "that could be read")
        metrics["per_group"] = group_cards(d.labels, list(preds), has_hand, groups, rec.labels)
        metrics["group_by"] = group_by or "pattern"
        if group_pattern:
            metrics["group_pattern"] = group_pattern
    metrics["data"] = str(data)
    metrics["model"] = rec.model.source or rec.model.architecture
    metrics["unknown_labels"] = dict(sorted(unknown.items()))
    if ds.skipped:
        metrics["box_rows_left_out"] = ds.skipped
    if report_dir is not None:
        _write_report(metrics, Path(report_dir), data, d.paths, d.labels, list(preds), has_hand)
    return metrics


def _check_request(data: Any, report_dir: str | Path | None, group_pattern: str | None, group_by: str | None) -> None:
    """What ``evaluate`` is asked, checked before any work: a wrong --report or grouping costs nothing."""
    if not isinstance(data, (str, Path)):
        raise AslkitError(f"evaluate takes a data folder or file, got {type(data).__name__}")
    if report_dir is not None:
        check_new_folder(report_dir, [data], flag="--report", what="the evaluated data")
    if group_by not in (None, *GROUP_BY):
        raise AslkitError(f"unknown group_by {group_by!r}; choose from {', '.join(GROUP_BY)}")
    if group_by and group_pattern:
        raise AslkitError("give either --group-by or --group-pattern, not both")


def _holds_classes(folder: Path) -> bool:
    """A labelled set of its own: a box CSV, or class sub-folders and no loose photos (a class folder
    holds photos)."""
    if (folder / "annotations.csv").exists():
        return True
    entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
    return any(e.is_dir() for e in entries) and not any(e.is_file() and is_image_path(e) for e in entries)


def _group_folders(root: Path) -> list[Path]:
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def _nested_hint(data: str | Path) -> str:
    """Where DATA is one folder per person, say how to read it (its "classes" are people)."""
    root = Path(data)
    with contextlib.suppress(OSError):
        subs = _group_folders(root) if root.is_dir() else []
        if subs and all(_holds_classes(d) for d in subs):
            return f"; it holds one labelled set per sub-folder ({subs[0].name}/, ...): add --group-by folder"
    return ""


def _load_grouped(data: str | Path) -> tuple[ImageDataset, dict[str, str]]:
    """DATA/<group>/<label>/*.jpg (or DATA/<group>/annotations.csv) as one dataset, and the group of
    each sample path: the sub-folder it came from."""
    root = Path(data)
    if not root.is_dir():
        load_dataset(root)  # its own one-line error: no such folder, a file, ...
        raise DatasetError(f"{root}: --group-by folder needs a folder of groups, DATA/<group>/<label>/*.jpg")
    subs = _group_folders(root)
    flat = next((d for d in subs if not _holds_classes(d)), None)
    if not subs or flat is not None:
        why = "it has no sub-folders"
        if flat is not None:
            empty = not any(not e.name.startswith(".") for e in flat.iterdir())
            why = f"{flat.name}/ is empty" if empty else f"{flat.name}/ holds photos, not class folders"
        raise DatasetError(
            f"{root}: --group-by folder needs one sub-folder per group, each holding class folders "
            f"(DATA/<group>/<label>/*.jpg); {why} (for a flat set use --group-pattern)"
        )
    samples, group_of, skipped = [], {}, []
    for d in subs:
        part = load_dataset(d)  # a group without photos: "DATA/<group>: no images found"
        samples += part.samples
        skipped += [f"{d.name}/{why}" for why in part.skipped]
        group_of.update({str(s.path): d.name for s in part.samples})
    return ImageDataset(root, samples, skipped), group_of


def _pattern_groups(ds: ImageDataset, pattern: str) -> dict[str, str]:
    """The group of each sample path from a regex on its file name; checked before any landmark work."""
    paths = sorted({str(s.path) for s in ds.samples})
    names = [Path(p).name for p in paths]
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise DatasetError(f"bad group pattern {pattern!r}: {exc}") from None
    if not any(rx.search(n) for n in names):
        raise DatasetError(
            f"group pattern '{pattern}' does not match any of the {len(names)} file names (e.g. {names[0]!r})"
        )
    return dict(zip(paths, groups_from_pattern(names, pattern), strict=True))


def _check_groups_left(expected: list[str], groups: list[str], what: str) -> None:
    """A group with no photo left has no card to show: say which, rather than drop it silently."""
    seen = set(groups)
    empty = [g for g in expected if g not in seen]
    if empty:
        raise DatasetError(f"group(s) {', '.join(map(repr, empty))}: no photo {what}")


def _write_report(metrics: dict, report_dir: Path, data, paths, labels, preds, has_hand) -> None:
    """metrics.json, report.md with the confusion-matrix PNG, and mistakes.json (one row per error), in a
    new folder that appears only when complete."""
    with new_folder(report_dir, [data], flag="--report", what="the evaluated data") as out:
        _write_report_files(metrics, out, data, paths, labels, preds, has_hand)


def _write_report_files(metrics: dict, out: Path, data, paths, labels, preds, has_hand) -> None:
    cm = metrics["confusion_matrix"]
    plot_confusion(cm["matrix"], cm["labels"], out / "confusion_matrix.png", shown(Path(data).name))
    images = {"confusion matrix": "confusion_matrix.png"}
    if metrics.get("per_group"):
        word = group_word(metrics)
        plot_group_accuracy(metrics["per_group"], out / "per_group.png", word)
        images[f"accuracy per {word}"] = "per_group.png"
    write_markdown(metrics, out / "report.md", f"Evaluation on {shown(data)}", images)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    mistakes = [
        {"path": p, "label": t, "predicted": str(q), "hand": bool(h)}
        for p, t, q, h in zip(paths, labels, preds, has_hand, strict=True)
        if t != q
    ]
    (out / "mistakes.json").write_text(json.dumps(mistakes, indent=1), encoding="utf-8")


def _read_videos_as_predict_does(
    m: TrainedModel, ds: SequenceSet, preds: list[str], top5: list[set[str]], cache_dir
) -> None:
    """A real video is rest, sign, rest: its answer (and top 5) is `predict`'s, from the spans of signing
    found in it (SequenceRecognizer.predict_signing), not the whole video squeezed into the model's frames."""
    from aslkit.inference.sequence_recognizer import SequenceRecognizer
    from aslkit.landmarks.holistic import clip_clock
    from aslkit.landmarks.video import video_fps

    rec = SequenceRecognizer(m, cache_dir=cache_dir)
    for i, src in enumerate(ds.sources):
        if is_video_path(src):
            times = clip_clock(ds, i, cache_dir)  # the file's clock, read with its landmarks
            got = rec.predict_signing(ds.sequences[i], video_fps(src), src, times=times, aspect=ds.clip_aspect(i))
            preds[i], top5[i] = got.label, {lab for lab, _ in got.top[:5]}


def evaluate_sequences(
    data: str | Path,
    model: str | Path | TrainedModel | None = "words",
    report_dir: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
) -> dict[str, Any]:
    """Metrics of a sequence (sign) model on a .npz of clips, a <sign>/<take> folder of .npy frames, .pose
    files or videos. Labels the model does not know are counted in ``unknown_labels`` and left out; videos
    that cannot be read are listed in ``errors``; with a ``signer`` field, ``per_group`` gives each
    signer's accuracy (how the model does on each person, not just on average)."""
    if report_dir is not None:
        check_new_folder(report_dir, [data], flag="--report", what="the evaluated data")
    m = model if isinstance(model, TrainedModel) else load_model(model)
    if Path(data).exists() and not is_sequence_source(data):
        raise DatasetError(
            f"{data}: not landmark clips (a .npz with `sequences`, or <sign>/<take> folders of .npy frames, .pose "
            "files or videos)"
        )
    ds = check_layout(m, load_sequences(data, cache_dir, progress))
    ds = replace(ds, labels=match_labels(ds.labels, m.labels))  # `Thank_You` is the model's `thank-you`
    unknown = Counter(lab for lab in ds.labels if lab not in m.labels)
    keep = np.array([lab in m.labels for lab in ds.labels], dtype=bool)
    if not keep.any():
        raise DatasetError(f"{data}: none of its classes ({', '.join(sorted(unknown))}) are known to the model")
    ds = ds.subset(np.flatnonzero(keep))
    probs = sequence_probabilities(m, ds)
    preds, _ = sequence_decisions(m, probs)
    top5 = [{m.labels[j] for j in np.argsort(-p)[:5]} for p in probs]
    _read_videos_as_predict_does(m, ds, preds, top5, cache_dir)
    has_hand = np.array([hands_seen(s, ds.layout) > 0 for s in ds.sequences], dtype=bool)
    metrics = end_to_end_metrics(ds.labels, preds, has_hand, m.labels)
    if len(m.labels) > 5:  # with many words (a sign dictionary), is the right one among the first five?
        metrics["top5_accuracy"] = float(np.mean([lab in t for lab, t in zip(ds.labels, top5, strict=True)]))
    if ds.signers is not None:  # the same report card as photos; detection_rate: clips with a hand seen
        metrics["per_group"] = group_cards(ds.labels, list(preds), has_hand, list(ds.signers), m.labels)
        metrics["group_by"] = "signer"
    metrics["data"] = str(data)
    metrics["model"] = m.source or m.architecture
    metrics["unknown_labels"] = dict(sorted(unknown.items()))
    metrics.update(CLIPS_SCORED)
    metrics["errors"] = [why for _, why in ds.errors]
    if report_dir is not None:
        _write_report(metrics, Path(report_dir), data, ds.paths, ds.labels, preds, has_hand)
    return metrics


def evaluate_text(m: dict[str, Any], report_dir: str | Path | None = None) -> str:
    """What `aslkit evaluate` prints for the metrics ``m`` of ``evaluate``: the headline figures for the
    model's kind, the report card when there are groups, and what was left out."""
    from aslkit.report import report_card_text

    clips = scored_clips(m)
    out = [f"data: {shown(m['data'])}", f"model: {shown(m['model'])}", f"{'clips' if clips else 'images'}: {m['n']}",
           f"end-to-end accuracy: {100 * m['accuracy']:.2f}%"]  # fmt: skip
    if "top5_accuracy" in m:
        out.append(f"top-5 accuracy: {100 * m['top5_accuracy']:.2f}%")
    if clips:
        out.append(f"clips with a hand in some frame: {100 * m['detection_rate']:.2f}%")
    elif "crop" not in m:  # landmark models: no hand found -> Nothing
        out.append(f"accuracy on detected hands: {100 * m['accuracy_detected']:.2f}%")
        out.append(f"hand detection rate: {100 * m['detection_rate']:.2f}%")
    elif "hand_crop_rate" in m:  # image model cropping to the hand: the rest were seen whole
        out.append(f"hand found for the crop: {100 * m['hand_crop_rate']:.2f}%")
    out.append(f"weighted F1: {m['weighted_f1']:.4f}   macro F1: {m['macro_f1']:.4f}")
    if m.get("per_group"):
        out.append(report_card_text(m))
    if m["unknown_labels"]:
        out.append(f"left out (classes unknown to the model): {m['unknown_labels']}")
    if m["errors"]:
        out.append(f"unreadable files left out: {len(m['errors'])} (first: {shown(m['errors'][0])})")
    if m.get("box_rows_left_out"):
        rows = m["box_rows_left_out"]
        out.append(f"box rows left out: {len(rows)} (first: {shown(rows[0])}; `aslkit audit` lists each)")
    if report_dir:
        out.append(f"report: {shown(Path(report_dir) / 'report.md')}")
    return "\n".join(out)
