"""The default ASL letter detector: hand boxes from MediaPipe's landmarks, letters from the letter model.

Why no detector network: MediaPipe already finds hands (on photos it was never trained for, in any
room), and the letter model already reads their landmarks; what a detection set adds is where its
annotators drew the box around a hand. That is a calibration, not a model: the landmark box is widened
on each side by a fraction of its size (``margins``, fitted on a train split by ``calibrate_margins``,
as the medians of where the annotated corners lie). Each hand gives a box per likely letter (its top
``top_k`` classes, scored by their probability), as detectors give per-class scores, so a ranking
metric like mAP sees the second guess when the first is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import defaults_section
from aslkit.data.boxes import box_iou
from aslkit.errors import AslkitError
from aslkit.kinds import InputKind
from aslkit.landmarks.extractor import Hand, HandLandmarker, HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.models.io import TrainedModel, load_model

SIDES = ("left", "top", "right", "bottom")


@dataclass
class Detection:
    """One box: corners in pixels, the letter and its confidence."""

    xyxy: tuple[float, float, float, float]
    label: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"xyxy": [round(v, 1) for v in self.xyxy], "label": self.label, "confidence": round(self.confidence, 4)}


@dataclass
class HandLetters:
    """One found hand: its widened box (pixels) and its letter probabilities (0 for classes left out)."""

    hand: Hand
    box: tuple[float, float, float, float]
    probs: np.ndarray
    other: bool = False  # its likeliest letter is one that ``classes`` left out: not an unsure hand


def default_margins() -> dict[str, float]:
    """The calibrated margins in defaults.toml [detect]."""
    d = defaults_section("detect")
    return {s: float(d.get(f"margin_{s}", 0.1)) for s in SIDES}


def default_views() -> int:
    """1: the image; 2: also its mirror image, letter probabilities averaged (defaults.toml [detect])."""
    return int(defaults_section("detect").get("views", 1))


def landmark_box(hand: Hand, width: int, height: int) -> np.ndarray:
    """Tight xyxy box around the hand's 21 landmarks, in pixels."""
    x0, y0, x1, y1 = hand.box
    return np.array([x0 * width, y0 * height, x1 * width, y1 * height], np.float64)


def widen(box: np.ndarray, margins: dict[str, float], width: int, height: int) -> tuple[float, ...]:
    w, h = box[2] - box[0], box[3] - box[1]
    out = (box[0] - margins["left"] * w, box[1] - margins["top"] * h, box[2] + margins["right"] * w,
           box[3] + margins["bottom"] * h)  # fmt: skip
    return (max(0.0, out[0]), max(0.0, out[1]), min(float(width), out[2]), min(float(height), out[3]))


def calibrate_margins(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Margins from (landmark box, annotated box) pairs of the same hand: for each side, the median of
    how far the annotated edge lies outside the landmark box, in landmark-box widths or heights."""
    if not pairs:
        raise ValueError("no (landmark box, annotated box) pairs to calibrate on")
    lm = np.array([p[0] for p in pairs])
    gt = np.array([p[1] for p in pairs])
    w, h = lm[:, 2] - lm[:, 0], lm[:, 3] - lm[:, 1]
    return {
        "left": float(np.median((lm[:, 0] - gt[:, 0]) / w)),
        "top": float(np.median((lm[:, 1] - gt[:, 1]) / h)),
        "right": float(np.median((gt[:, 2] - lm[:, 2]) / w)),
        "bottom": float(np.median((gt[:, 3] - lm[:, 3]) / h)),
    }


class HandLetterDetector:
    """Boxes with letters for every hand in an image (see the module docstring).

    conf: keep detections at least this sure; iou: boxes of one class overlapping more than this are
    one (the surer kept); classes: only these letters (default: every letter the model knows except
    Nothing); top_k: letters per hand; views: 2 also reads the mirror image (twice the MediaPipe time).
    """

    def __init__(
        self,
        model: str | TrainedModel | None = None,
        conf: float = 0.5,
        iou: float = 0.5,
        classes: list[str] | None = None,
        margins: dict[str, float] | None = None,
        top_k: int = 3,
        views: int | None = None,
    ) -> None:
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        if self.model.kind is not InputKind.LANDMARKS:  # boxes come from the hand's landmarks
            raise AslkitError(
                f"detect needs a letter model that reads hand landmarks (like `letters`); "
                f"{model if isinstance(model, (str, Path)) else self.model.architecture} reads {self.model.kind}"
            )
        self.conf, self.iou, self.top_k = float(conf), float(iou), int(top_k)
        self.margins = margins or default_margins()
        self.views = int(views or default_views())
        allowed = set(classes) if classes else {c for c in self.model.labels if c != "Nothing"}
        unknown = sorted(allowed - set(self.model.labels))
        if unknown:
            raise AslkitError(f"classes {unknown} are not in the model's labels")
        self._allowed = np.array([lab in allowed for lab in self.model.labels])
        self._restricted = bool(classes)
        self._landmarker: HandLandmarker | None = None

    def hand_letters(self, res: HandsResult, mirrored: HandsResult | None = None) -> list[HandLetters]:
        """Each found hand's box and its letter probabilities (only the allowed classes, not yet cut at
        ``conf``). ``mirrored``: the hands found in the mirror image too; a hand found in both gets the
        two views' probabilities averaged (MediaPipe places landmarks a little differently on a mirror
        image; see Recognizer views)."""
        if not res.hands:
            return []
        feats = featurize(np.stack([canonical_points(h, res.width, res.height) for h in res.hands]))
        probs = self.model.predict_proba(feats)
        if mirrored is not None and mirrored.hands:
            boxes = np.stack([landmark_box(h, res.width, res.height) for h in res.hands])
            mboxes = np.stack([landmark_box(h, res.width, res.height) for h in mirrored.hands])
            mboxes[:, [0, 2]] = res.width - mboxes[:, [2, 0]]  # back into the original image's frame
            iou = box_iou(boxes, mboxes)
            mfeats = featurize(np.stack([canonical_points(h, res.width, res.height) for h in mirrored.hands]))
            mprobs = self.model.predict_proba(mfeats)
            for i in range(len(boxes)):
                j = int(iou[i].argmax())
                if iou[i, j] >= 0.5:
                    probs[i] = (probs[i] + mprobs[j]) / 2
        other = self._restricted & ~self._allowed[probs.argmax(axis=1)]
        probs = probs * self._allowed
        return [
            HandLetters(
                hand, widen(landmark_box(hand, res.width, res.height), self.margins, res.width, res.height), p, bool(o)
            )
            for hand, p, o in zip(res.hands, probs, other, strict=True)
        ]

    def from_hands(self, res: HandsResult, mirrored: HandsResult | None = None) -> list[Detection]:
        """Detections from already found hands (e.g. cached landmarks): each hand's top ``top_k``
        letters at ``conf`` or above, then class-wise NMS."""
        return self.from_letters(self.hand_letters(res, mirrored))

    def from_letters(self, hands: list[HandLetters]) -> list[Detection]:
        out: list[Detection] = []
        for h in hands:
            for i in np.argsort(-h.probs)[: self.top_k]:
                if h.probs[i] >= self.conf and h.probs[i] > 0:
                    out.append(Detection(h.box, self.model.labels[i], float(h.probs[i])))
        return self._nms(out)

    def best_letter(self, hand: HandLetters) -> tuple[str, float]:
        """The hand's likeliest allowed letter, whatever ``conf`` is (bulk analysis lists the unsure ones)."""
        i = int(hand.probs.argmax())
        return self.model.labels[i], float(hand.probs[i])

    def _nms(self, dets: list[Detection]) -> list[Detection]:
        keep: list[Detection] = []
        for d in sorted(dets, key=lambda d: -d.confidence):
            same = [k for k in keep if k.label == d.label]
            if not same or box_iou(np.array([d.xyxy]), np.array([k.xyxy for k in same])).max() <= self.iou:
                keep.append(d)
        return keep

    def find_hands(self, image: np.ndarray) -> list[HandLetters]:
        """Hands with their letter probabilities in one RGB image (and its mirror image, with two views)."""
        if self._landmarker is None:
            self._landmarker = HandLandmarker(static=True)
        mirrored = self._landmarker(np.ascontiguousarray(image[:, ::-1])) if self.views == 2 else None
        return self.hand_letters(self._landmarker(image), mirrored)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in one RGB image."""
        return self.from_letters(self.find_hands(image))
