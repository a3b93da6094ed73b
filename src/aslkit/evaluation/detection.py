"""`aslkit evaluate-detection`: the letter detector against box annotations in any import format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.boxes import BoxSet, box_iou, load_boxes, set_root, splits_note
from aslkit.errors import DatasetError, ImageError
from aslkit.evaluation.detection_metrics import detection_curves, detection_metrics
from aslkit.evaluation.detection_report import write_detection_report
from aslkit.inference.detector import HandLetterDetector, calibrate_margins, landmark_box
from aslkit.labels import sort_labels
from aslkit.landmarks.batch import ImageSource, extract_sources
from aslkit.landmarks.extractor import HandsResult
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder


def hands_for(
    bs: BoxSet, cache_dir="default", workers: int | None = None, progress: bool = True, mirror: bool = False
) -> list[HandsResult | ImageError]:
    """Landmarks of every image of a box set (or of its mirror image), cached, in order; an image that
    cannot be read gives its ImageError (never "no hands": it must not count as a miss)."""
    srcs = [ImageSource(im.path, mirror=mirror) for im in bs.images]
    return extract_sources(srcs, cache_dir, workers, progress, desc="mirror images" if mirror else "hand landmarks")


def fit_margins(bs: BoxSet, hands: list, min_iou: float = 0.3) -> dict[str, float]:
    """Margins calibrated on a box set: each annotated box paired with the hand whose landmark box
    overlaps it most (pairs overlapping less than ``min_iou`` are not the same hand and are skipped)."""
    pairs = []
    for im, res in zip(bs.images, hands, strict=True):
        if not isinstance(res, HandsResult) or not res.hands or not im.boxes:
            continue
        lm = np.stack([landmark_box(h, res.width, res.height) for h in res.hands])
        for b in im.boxes:
            iou = box_iou(np.array([b.xyxy]), lm)[0]
            if iou.max() >= min_iou:
                pairs.append((lm[int(iou.argmax())], np.array(b.xyxy)))
    return calibrate_margins(pairs)


def evaluate_detection(
    data: str | Path,
    model: str | None = None,
    conf: float = 0.25,
    iou: float = 0.5,
    classes: list[str] | None = None,
    fmt: str | None = None,
    cache_dir="default",
    workers: int | None = None,
    progress: bool = True,
    views: int | None = None,
    report_dir: str | Path | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Precision and recall at ``conf``, mAP@0.5, mAP@0.5:0.95, AP per class, the per-class table of ground
    truth found at ``conf``, and the best F1 over confidence thresholds; AP ranks every detection down to a
    confidence of 0.001. ``split``: only that split of the set (by name, e.g. ``valid``); else all of it.

    Images that cannot be read (annotated, but not decodable: corrupt, too large, too small) are left
    out of every figure and listed under ``unreadable`` as {"path", "error"}; annotation rows left out
    on reading are counted in ``problems``. DatasetError when no annotated image can be read.
    ``report_dir``: a new folder outside the annotated set for detection_metrics.json, detection_curves.json,
    the precision-recall and F1-confidence plots and report.md; refused before the work."""
    root = [set_root(data)]  # a box file's folder is the set: the report goes outside it
    if report_dir is not None:  # before the work: a wrong --report costs nothing
        check_new_folder(report_dir, root, flag="--report", what="the annotated set")
    bs = load_boxes(data, fmt, split)
    det = HandLetterDetector(model, conf=0.001, iou=0.7, classes=classes, views=views)
    if classes:  # a mAP over no ground truth is not 0, it is nothing: said before the landmark pass
        boxed = sort_labels({b.label for im in bs.images for b in im.boxes})
        if not set(classes) & set(boxed):
            raise DatasetError(
                f"{shown(data)}: no box of {', '.join(classes)} to score; its boxes are of {', '.join(boxed) or 'none'}"
            )
    keep, hands, unreadable = _readable(bs, det.views, cache_dir, workers, progress)
    if not keep:
        first = f" (first: {unreadable[0]['error']})" if unreadable else ""
        raise DatasetError(f"{shown(data)}: none of the {len(unreadable)} annotated images could be read{first}")
    gt = [[(b.label, b.xyxy) for b in bs.images[i].boxes] for i in keep]
    preds = [[(d.label, d.xyxy, d.confidence) for d in det.from_hands(*hands[i])] for i in keep]
    names = [c for c in bs.classes if classes is None or c in classes]
    m = detection_metrics(gt, preds, names, conf=conf, iou=iou)
    curves = detection_curves(gt, preds, names, iou=iou)
    m.update({"best_f1": curves["best_f1"], "best_f1_conf": curves["best_f1_conf"]})
    m.update({"data": str(data), "format": bs.source_format, "splits": bs.splits,
              "model": det.model.source or det.model.architecture, "margins": det.margins, "views": det.views,
              "hand_found": float(np.mean([bool(hands[i][0].hands) for i in keep])),
              "problems": len(bs.problems), "first_problem": ": ".join(bs.problems[0]) if bs.problems else None,
              "unreadable": unreadable})  # fmt: skip
    if report_dir is not None:
        with new_folder(report_dir, [*root, bs.root], flag="--report", what="the annotated set") as out:
            write_detection_report(out, m, curves)
    return m


def _readable(
    bs: BoxSet, views: int, cache_dir, workers: int | None, progress: bool
) -> tuple[list[int], list[tuple[Any, Any]], list[dict[str, str]]]:
    """Which images can be scored, the (hands, mirrored hands or None) of every image, and the unreadable
    ones as {"path", "error"}: those the reader could not decode, then those MediaPipe could not read."""
    hands = hands_for(bs, cache_dir, workers, progress)
    mirrored = hands_for(bs, cache_dir, workers, progress, mirror=True) if views == 2 else [None] * len(hands)
    unreadable = [{"path": str(p), "error": bs.unreadable_why.get(p, "cannot be read")} for p in bs.unreadable]
    keep = []
    for i, (im, h, r) in enumerate(zip(bs.images, hands, mirrored, strict=True)):
        bad = next((x for x in (h, r) if x is not None and not isinstance(x, HandsResult)), None)
        if bad is None:
            keep.append(i)
        else:
            unreadable.append({"path": str(im.path), "error": str(bad)})
    return keep, list(zip(hands, mirrored, strict=True)), unreadable


def detection_text(m: dict[str, Any]) -> str:
    """What `aslkit evaluate-detection` prints for the metrics of ``evaluate_detection``."""
    out = [
        f"data: {m['data']} ({m['format']}{splits_note(m.get('splits'))}), {m['images']} images, "
        f"{m['ground_truth_boxes']} boxes",
        f"mAP@0.5 {m['map50']:.4f}   mAP@0.5:0.95 {m['map50_95']:.4f}",
        f"at conf {m['conf']} and IoU {m['iou']}: precision {m['precision']:.4f}, recall {m['recall']:.4f}",
    ]
    if m.get("best_f1_conf") is not None:
        out.append(f"best F1 {m['best_f1']:.4f} at conf {m['best_f1_conf']:.2f}")
    if m.get("problems"):
        out.append(f"annotation problems left out or fixed: {m['problems']} (first: {shown(m['first_problem'])})")
    if m.get("unreadable"):
        first = m["unreadable"][0]
        out.append(f"unreadable images left out: {len(m['unreadable'])} (first: {shown(first['error'])})")
    out.append("class  AP@0.5  ground truth  detected  missed  false positives")
    for c, row in m["per_class_table"].items():
        ap, gt, hit = m["per_class_ap"][c], row["ground_truth"], row["detected"]
        out.append(f"{c:<6} {ap:.3f}   {gt:>12}  {hit:>8}  {row['missed']:>6}  {row['false_positives']:>15}")
    return "\n".join(out)
