"""The letter recognizer: image -> hand landmarks -> features -> trained model -> label."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.images import is_image_path, load_image
from aslkit.errors import AslkitError, ImageError
from aslkit.labels import NOTHING
from aslkit.landmarks.batch import extract_sources
from aslkit.landmarks.extractor import HandLandmarker, HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.models.io import TrainedModel, load_model


@dataclass
class Prediction:
    """One image's answer; ``error`` is set (and label None) when the file could not be read."""

    path: str | None
    label: str | None
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)
    hand: bool = False
    error: str | None = None
    box: tuple[float, float, float, float] | None = None  # hand box, image fractions

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "confidence": round(float(self.confidence), 4),
            "top": [[lab, round(float(p), 4)] for lab, p in self.top],
            "hand": self.hand,
            "error": self.error,
        }


class Recognizer:
    """Recognize ASL letters in photos with a trained landmark model.

    >>> rec = Recognizer()                 # the shipped "letters" model
    >>> rec.predict("photo.jpg").label     # or an RGB numpy array
    """

    def __init__(
        self, model: str | Path | TrainedModel | None = None, top_k: int = 5, cache_dir: str | Path | None = "default"
    ) -> None:
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        if self.model.preprocessing.get("input") != "hand-landmarks":
            raise AslkitError(f"model {self.model.architecture!r} does not read hand landmarks")
        self.top_k = top_k
        self.cache_dir = cache_dir
        self.no_hand_label = self.model.preprocessing.get("no_hand_label", NOTHING)
        self._landmarker: HandLandmarker | None = None

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @property
    def landmarker(self) -> HandLandmarker:
        if self._landmarker is None:
            self._landmarker = HandLandmarker(static=True)
        return self._landmarker

    def predict_hands(self, result: HandsResult, path: str | None = None) -> Prediction:
        """Classify the main hand of a landmark result; no hand -> the no-hand label (Nothing)."""
        hand = result.main_hand()
        if hand is None:
            return Prediction(path, self.no_hand_label, 1.0, [(self.no_hand_label, 1.0)], False)
        pts = canonical_points(hand, result.width, result.height)
        probs = self.model.predict_proba(featurize(pts)[None])[0]
        return self._answer(probs, path, hand.box)

    def _answer(self, probs: np.ndarray, path: str | None, box=None) -> Prediction:
        order = np.argsort(-probs)[: self.top_k]
        top = [(self.labels[i], float(probs[i])) for i in order]
        return Prediction(path, top[0][0], top[0][1], top, True, None, box)

    def predict(self, image: np.ndarray | str | Path) -> Prediction:
        """Predict one image: an RGB uint8 array (H, W, 3) or a path. Raises ImageError on a bad file."""
        path = None
        if isinstance(image, (str, Path)):
            path = str(image)
            image = load_image(image)
        arr = np.asarray(image)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise ImageError("expected an RGB uint8 image array of shape (H, W, 3)")
        return self.predict_hands(self.landmarker(arr), path)

    def predict_paths(
        self, paths: Sequence[str | Path], workers: int | None = None, progress: bool = False
    ) -> list[Prediction]:
        """Predict many files (landmarks cached and run in parallel); bad files get an error entry."""
        results = extract_sources(
            list(paths), cache_dir=self.cache_dir, workers=workers, progress=progress, landmarker=self.landmarker
        )
        out = []
        for p, r in zip(paths, results, strict=True):
            if isinstance(r, Exception):
                out.append(Prediction(str(p), None, 0.0, [], False, str(r)))
            else:
                out.append(self.predict_hands(r, str(p)))
        return out

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


def collect_image_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders (recursively, image extensions only, sorted); files are kept whatever their name.

    Returns (files, problems): a missing path or a folder without images becomes a (path, reason)
    problem instead of stopping the batch.
    """
    out: list[Path] = []
    problems: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and is_image_path(f))
            if not found:
                problems.append((str(p), f"{p}: no images found in this folder"))
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            problems.append((str(p), f"{p}: no such file or folder"))
    return out, problems
