"""The letter recognizer: image -> hand landmarks -> features -> trained model -> label."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from aslkit.data.dataset import ImageDataset
from aslkit.data.images import image_input, is_image_path
from aslkit.errors import AslkitError
from aslkit.kinds import InputKind
from aslkit.labels import NOTHING
from aslkit.landmarks.batch import ImageSource, LandmarkPool, extract_sources
from aslkit.landmarks.extractor import HandLandmarker, HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.landmarks.landmark_set import LandmarkSet, landmarks_for
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import regular_file_problem, shown


def path_list(paths: object) -> list[str | Path]:
    """``predict_paths``' argument as a list of paths: one path given alone is one path (a string is not a list
    of one-letter file names); anything else is an AslkitError."""
    if isinstance(paths, (str, Path)):
        return [paths]
    if paths is None or not isinstance(paths, Iterable):
        raise AslkitError(f"expected a path or a list of paths, got {type(paths).__name__}")
    out = list(paths)
    bad = next((p for p in out if not isinstance(p, (str, Path))), None)
    if bad is not None:
        raise AslkitError(f"expected paths, got a {type(bad).__name__} among them")
    return out


def check_top_k(top_k: object) -> int:
    """``top_k`` as a whole number of 1 or more; AslkitError otherwise (0 gave no label at all, -1 all but one)."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise AslkitError(f"top_k must be a whole number of 1 or more, got {top_k!r}")
    return int(top_k)


def ranked(probs: np.ndarray, labels: list[str], top_k: int, path: str | None, hand: bool | None, box=None):
    """A Prediction from class probabilities: the top-k labels, best first."""
    order = np.argsort(-probs)[:top_k]
    top = [(labels[i], float(probs[i])) for i in order]
    return Prediction(path, top[0][0], top[0][1], top, hand, None, box)


@dataclass
class Prediction:
    """One image's answer; ``error`` is set (and label None) when the file could not be read."""

    path: str | None
    label: str | None
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)
    hand: bool | None = False  # None: the model takes the whole image and never looks for a hand
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

    def as_pipeline(self) -> list[dict[str, Any]]:
        """The top-k as ``[{"label": ..., "score": ...}]``, best first: what a Hugging Face classification
        pipeline returns, so code written for one takes this too. A photo without a hand is its model's
        answer for that, ``[{"label": "Nothing", "score": 1.0}]`` (the no-hand label, the one class it has);
        an error row (an unreadable file) has no answer: ``[]``, and ``error`` says why."""
        return [{"label": lab, "score": float(p)} for lab, p in self.top]

    def as_label(self) -> dict[str, float]:
        """The top-k as ``{label: score}``, the value Gradio's ``gr.Label`` takes (it does not take the
        pipeline's list); the same mapping as ``as_pipeline``: no hand is ``{"Nothing": 1.0}``, an error ``{}``
        (an empty label)."""
        return {lab: float(p) for lab, p in self.top}

    def text_line(self) -> str:
        """The line `aslkit predict` prints for this photo: path, label and confidence, tab-separated, with a
        note when no hand was found (file names and errors escaped by ``shown``)."""
        if self.error:
            return f"{shown(self.path)}\terror: {shown(self.error)}"
        extra = "\t(no hand found)" if self.hand is False else ""
        return f"{shown(self.path)}\t{self.label}\t{self.confidence:.3f}{extra}"


R = TypeVar("R", bound="FromPretrained")


class FromPretrained:
    """``from_pretrained`` as Hugging Face spells it, for every recognizer class: code and habits written for
    ``transformers`` carry over. Local only: nothing is downloaded, ever (a server or a laptop offline must
    behave the same); fetch a hub repository first (``huggingface-cli download OWNER/NAME --local-dir DIR``)."""

    @classmethod
    def from_pretrained(cls: type[R], folder: str | Path, **options: Any) -> R:
        """The recognizer for the model in ``folder`` (its weights and model.json, beside a model card
        README.md or not; a folder holding one ``NAME.json`` + ``NAME.safetensors`` pair works too), a
        model.json path, or a shipped model's name. ``options`` go to the class (``top_k``, ``cache_dir``, ...).
        A model of another kind is refused in one line: ``aslkit.recognizer(folder)`` picks the class for you."""
        return cls(load_model(folder), **options)


class Recognizer(FromPretrained):
    """Recognize ASL letters in photos with a trained landmark model.

    >>> rec = Recognizer()                 # the shipped "letters" model
    >>> rec.predict("photo.jpg").label     # or an RGB numpy array

    views: 1 looks at the photo as it is; 2 also at its mirror image and averages the two answers.
    MediaPipe places landmarks a little differently on the mirror image, so two views average out
    some landmark noise (+0.5 points on Massey, +2.8 on the detection set's valid split) at twice
    the MediaPipe cost. "auto" looks at the mirror image only when the first view finds no hand or
    is less sure than ``second_view_below``: the same accuracy as 2 on both sets, for the cost of
    about 1.2 views (only uncertain photos pay twice).

    A Recognizer is always this class: for a model of any kind (image, sign), ``aslkit.recognizer(model)``
    gives the recognizer that reads it.
    """

    def __init__(
        self,
        model: str | Path | TrainedModel | None = None,
        top_k: int = 5,
        cache_dir: str | Path | None = "default",
        views: int | str | None = None,
        second_view_below: float | None = None,
    ) -> None:
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        if self.model.kind is not InputKind.LANDMARKS:
            raise AslkitError(
                f"model {self.model.architecture!r} does not read hand landmarks (it reads {self.model.kind}); "
                "aslkit.recognizer(model) gives the recognizer for any model"
            )
        pre = self.model.preprocessing
        self.views = parse_views(views if views is not None else pre.get("views", 1))
        self.second_view_below = float(
            second_view_below if second_view_below is not None else pre.get("second_view_below", SECOND_VIEW_BELOW)
        )
        self.top_k = check_top_k(top_k)
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
        return ranked(probs, self.labels, self.top_k, path, True, box)

    def predict(self, image: np.ndarray | str | Path) -> Prediction:
        """Predict one image: an RGB uint8 array (H, W, 3) or a path. Raises ImageError on a bad file."""
        return self.analyze(image)[0]

    def analyze(self, image: np.ndarray | str | Path) -> tuple[Prediction, HandsResult]:
        """predict, plus the hands found in the image as it is (to draw them, or to say why it failed)."""
        path, arr = image_input(image)
        first = self.landmarker(arr)
        answer = self.predict_hands(first, path)
        if self._wants_second_view(answer):
            answer = self.predict_hands([first, self.landmarker(np.ascontiguousarray(arr[:, ::-1]))], path)
        return answer, first

    def needs_second_view(self, probs: np.ndarray, has_hand: np.ndarray) -> np.ndarray:
        """Which images (rows of first-view probabilities) should also be looked at mirrored."""
        if self.views == 1:
            return np.zeros(len(has_hand), bool)
        if self.views == 2:
            return np.ones(len(has_hand), bool)
        return ~has_hand | (probs.max(axis=1) < self.second_view_below)

    def _wants_second_view(self, answer: Prediction) -> bool:
        probs = np.array([[answer.confidence]]) if answer.hand else np.zeros((1, 1))
        return bool(self.needs_second_view(probs, np.array([answer.hand]))[0])

    def predict_paths(
        self, paths: Sequence[str | Path], workers: int | None = None, progress: bool = False
    ) -> list[Prediction]:
        """Predict many files (landmarks cached and run in parallel); bad files get an error entry.

        The mirror view, where the views setting asks for one, is a second pass over only the
        images that need it."""
        paths = [Path(p) for p in path_list(paths)]
        pool = LandmarkPool(workers)  # both passes share the workers: start-up is paid once

        def run(idx: list[int], mirror: bool) -> list:
            return extract_sources(
                [ImageSource(paths[i], None, mirror) for i in idx],
                cache_dir=self.cache_dir,
                workers=workers,
                progress=progress,
                landmarker=self.landmarker,
                desc="mirror view" if mirror else "landmarks",
                pool=pool,
            )

        def answer(i: int, views: list) -> Prediction:
            err = next((r for r in views if isinstance(r, Exception)), None)
            if err is not None:
                return Prediction(str(paths[i]), None, 0.0, [], False, str(err))
            return self.predict_hands(views, str(paths[i]))

        with pool:
            first = run(list(range(len(paths))), False)
            out = [answer(i, [r]) for i, r in enumerate(first)]
            again = [i for i, a in enumerate(out) if a.error is None and self._wants_second_view(a)]
            for i, r in zip(again, run(again, True) if again else [], strict=True):
                out[i] = answer(i, [first[i], r])
        return out

    def dataset_probabilities(
        self, ds: ImageDataset, workers: int | None = None, progress: bool = True
    ) -> tuple[LandmarkSet, np.ndarray, np.ndarray, dict[str, Any]]:
        """(readable samples, probabilities, hand found, extra figures) over a dataset, with this
        recognizer's views: the mirror pass runs only on the images that need it."""
        with LandmarkPool(workers) as pool:
            lm = landmarks_for(ds, cache_dir=self.cache_dir, progress=progress, pool=pool)
            ok = np.flatnonzero(lm.readable)
            d = lm.subset(ok)
            probs, has_hand = view_probabilities(self.model, [d])
            again = ok[self.needs_second_view(probs, has_hand)]
            if len(again):
                sub = ImageDataset(ds.root, [ds.samples[i] for i in again])
                mirrored = landmarks_for(sub, cache_dir=self.cache_dir, progress=progress, mirror=True, pool=pool)
                second = LandmarkSet(np.zeros_like(lm.pts), np.zeros(len(lm), bool), lm.labels, lm.paths, lm.errors)
                second.pts[again], second.has_hand[again] = mirrored.pts, mirrored.has_hand
                probs, has_hand = view_probabilities(self.model, [d, second.subset(ok)])
        extra = {
            "views": self.views,
            "second_view_rate": len(again) / max(len(ok), 1),
            "errors": [e for e in lm.errors if e is not None],
        }
        return d, probs, has_hand, extra

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


SECOND_VIEW_BELOW = 0.8
"""views="auto": look at the mirror image too when the first view's top probability is below this.
On Massey and the detection set's valid split, 0.8 keeps all of the two-view gain while about 18%
of the photos need the second look."""


def parse_views(value: int | str) -> int | str:
    """1, 2 or "auto" (also as the strings "1" and "2"); anything else is a clear error."""
    v = str(value).strip().lower()
    if v in ("1", "2"):
        return int(v)
    if v == "auto":
        return "auto"
    raise AslkitError(f"views must be 1, 2 or auto, got {value!r}")


def collect_paths(
    paths: Iterable[str | Path], wanted: Callable[[Path], bool], what: str = "images"
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders (recursively, files ``wanted`` accepts, sorted); files are kept whatever their name.

    Returns (files, problems): a missing path, a FIFO or device (which would block or never end), or a
    folder without such files becomes a (path, reason) problem instead of stopping the batch. Inside
    folders only regular files are taken; one named like them that is not (a FIFO, a broken link) is a
    problem too.
    """
    out: list[Path] = []
    problems: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            named = sorted(f for f in p.rglob("*") if wanted(f) and not f.is_dir())
            found = [f for f in named if f.is_file()]
            # named like one but not a regular file (a FIFO, a broken link): an error row, as when given directly
            problems += [(str(f), f"{shown(f)}: {regular_file_problem(f) or 'not a regular file'}")
                         for f in named if not f.is_file()]  # fmt: skip
            if not named:
                problems.append((str(p), f"{shown(p)}: no {what} found in this folder"))
            out.extend(found)
        elif p.exists():
            why = regular_file_problem(p)
            if why is None:
                out.append(p)
            else:
                problems.append((str(p), f"{shown(p)}: {why}"))
        else:
            problems.append((str(p), f"{shown(p)}: no such file or folder"))
    return out, problems


def collect_image_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Images in files and folders (see collect_paths)."""
    return collect_paths(paths, is_image_path, "images")


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
