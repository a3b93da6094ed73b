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
from aslkit.landmarks.batch import ImageSource, extract_sources
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

    views: 1 looks at the photo as it is; 2 also at its mirror image and averages the two answers.
    MediaPipe places landmarks a little differently on the mirror image, so two views average out
    some landmark noise (+0.5 points on Massey, +2 on the detection set's valid split) at twice
    the MediaPipe cost.
    """

    def __init__(
        self,
        model: str | Path | TrainedModel | None = None,
        top_k: int = 5,
        cache_dir: str | Path | None = "default",
        views: int | None = None,
    ) -> None:
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        self.views = int(views or self.model.preprocessing.get("views", 1))
        if self.views not in (1, 2):
            raise AslkitError(f"views must be 1 or 2, got {self.views}")
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

    def predict_hands(self, result: HandsResult | list[HandsResult], path: str | None = None) -> Prediction:
        """Classify the main hand of a landmark result (or of several views of one image, averaged);
        no hand in any view -> the no-hand label (Nothing)."""
        results = result if isinstance(result, list) else [result]
        probs, box = [], None
        for r in results:
            hand = r.main_hand()
            if hand is None:
                continue
            probs.append(self.model.predict_proba(featurize(canonical_points(hand, r.width, r.height))[None])[0])
            box = box or hand.box
        if not probs:
            return Prediction(path, self.no_hand_label, 1.0, [(self.no_hand_label, 1.0)], False)
        return self._answer(np.mean(probs, axis=0), path, box)

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
        results = [self.landmarker(arr)]
        if self.views == 2:
            results.append(self.landmarker(np.ascontiguousarray(arr[:, ::-1])))
        return self.predict_hands(results, path)

    def predict_paths(
        self, paths: Sequence[str | Path], workers: int | None = None, progress: bool = False
    ) -> list[Prediction]:
        """Predict many files (landmarks cached and run in parallel); bad files get an error entry."""
        sources = [ImageSource(Path(p), None, mirror) for mirror in (False, True)[: self.views] for p in paths]
        results = extract_sources(
            sources, cache_dir=self.cache_dir, workers=workers, progress=progress, landmarker=self.landmarker
        )
        n = len(paths)
        out = []
        for i, p in enumerate(paths):
            views = [results[i + k * n] for k in range(self.views)]
            err = next((r for r in views if isinstance(r, Exception)), None)
            if err is not None:
                out.append(Prediction(str(p), None, 0.0, [], False, str(err)))
            else:
                out.append(self.predict_hands(views, str(p)))  # type: ignore[arg-type]
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


def view_probabilities(model: TrainedModel, views: list) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities averaged over the views (LandmarkSets of the same images) that found a
    hand, and whether any view found one: (probs (N, C), has_hand (N,))."""
    n, c = len(views[0]), len(model.labels)
    total = np.zeros((n, c), np.float64)
    count = np.zeros(n, np.float64)
    for v in views:
        if v.has_hand.any():
            total[v.has_hand] += model.predict_proba(featurize(v.pts[v.has_hand]))
            count += v.has_hand
    has = count > 0
    total[has] /= count[has, None]
    return total, has
