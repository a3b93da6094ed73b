"""`aslkit evaluate-detection`: the letter detector against box annotations in any import format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.boxes import BoxSet, load_boxes
from aslkit.evaluation.detection_metrics import box_iou, detection_metrics
from aslkit.inference.detector import HandLetterDetector, calibrate_margins, landmark_box
from aslkit.landmarks.batch import ImageSource, extract_sources
from aslkit.landmarks.extractor import HandsResult


def hands_for(
    bs: BoxSet, cache_dir="default", workers: int | None = None, progress: bool = True, mirror: bool = False
) -> list:
    """Landmarks of every image of a box set (or of its mirror image), cached, in order; an unreadable
    image gives no hands."""
    srcs = [ImageSource(im.path, mirror=mirror) for im in bs.images]
    res = extract_sources(srcs, cache_dir, workers, progress, desc="mirror images" if mirror else "hand landmarks")
    return [
        r if isinstance(r, HandsResult) else HandsResult(im.width, im.height)
        for r, im in zip(res, bs.images, strict=True)
    ]


def fit_margins(bs: BoxSet, hands: list, min_iou: float = 0.3) -> dict[str, float]:
    """Margins calibrated on a box set: each annotated box paired with the hand whose landmark box
    overlaps it most (pairs overlapping less than ``min_iou`` are not the same hand and are skipped)."""
    pairs = []
    for im, res in zip(bs.images, hands, strict=True):
        if not res.hands or not im.boxes:
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
) -> dict[str, Any]:
    """Precision and recall at ``conf``, mAP@0.5, mAP@0.5:0.95, AP per class, and the per-class table
    of ground truth found at ``conf``; AP ranks every detection down to a confidence of 0.001."""
    bs = load_boxes(data, fmt)
    det = HandLetterDetector(model, conf=0.001, iou=0.7, classes=classes, views=views)
    hands = hands_for(bs, cache_dir, workers, progress)
    mirrored = hands_for(bs, cache_dir, workers, progress, mirror=True) if det.views == 2 else [None] * len(hands)
    gt = [[(b.label, b.xyxy) for b in im.boxes] for im in bs.images]
    preds = [
        [(d.label, d.xyxy, d.confidence) for d in det.from_hands(h, r)] for h, r in zip(hands, mirrored, strict=True)
    ]
    names = [c for c in bs.classes if classes is None or c in classes]
    m = detection_metrics(gt, preds, names, conf=conf, iou=iou)
    m.update({"data": str(data), "format": bs.source_format, "model": det.model.source or det.model.architecture,
              "margins": det.margins, "views": det.views, "hand_found": float(np.mean([bool(h.hands) for h in hands])),
              "problems": len(bs.problems)})  # fmt: skip
    return m
