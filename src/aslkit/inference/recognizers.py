"""One entry point for every kind of model: ``recognizer(model)`` gives the recognizer that reads what the
model reads (inference's column of the task table, see aslkit.kinds).

>>> rec = aslkit.recognizer("letters")   # a Recognizer (hand landmarks); "words" gives a SequenceRecognizer
>>> rec.predict("photo.jpg").label

Every recognizer satisfies ``Predictor``: ``labels``, ``predict`` (one input), ``predict_paths`` (many files,
a bad one becomes its error row) and ``close``. Those that read photos (landmark and image models) are also
``PhotoPredictor``s, which ``evaluate`` scores on labelled photo sets. Callers ask the protocol, not the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from aslkit.data.dataset import ImageDataset
from aslkit.data.sequences import is_video_path
from aslkit.errors import AslkitError
from aslkit.inference.recognizer import Prediction, Recognizer
from aslkit.kinds import InputKind
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import shown


@runtime_checkable
class Predictor(Protocol):
    """What every recognizer offers, whatever its model reads."""

    model: TrainedModel
    top_k: int

    @property
    def labels(self) -> list[str]: ...

    def predict(self, item: Any) -> Prediction:
        """One input (a photo, a clip: a path or an array) -> its answer; AslkitError when it is unusable."""
        ...

    def predict_paths(self, paths: Sequence[str | Path], *, progress: bool = False) -> list[Prediction]:
        """One answer per file, in order; a file that cannot be used gets its error and the others still run."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PhotoPredictor(Predictor, Protocol):
    """A recognizer of photos (landmark or image model): what ``evaluate`` and ``aslkit predict`` use."""

    views: int | str
    no_hand_label: str

    def dataset_probabilities(
        self, ds: ImageDataset, workers: int | None = None, progress: bool = True
    ) -> tuple[Any, np.ndarray, np.ndarray, dict[str, Any]]:
        """(readable samples, probabilities (N, C), answered (N,), extra figures) over a labelled set."""
        ...


def _one_view(views: int | str | None, second_view_below: float | None, why: str) -> None:
    if views not in (None, 1, "1") or second_view_below is not None:
        raise AslkitError(why)


def _landmarks(model: TrainedModel, top_k: int, cache_dir: Any, views: Any, second_view_below: Any) -> Predictor:
    return Recognizer(model, top_k=top_k, cache_dir=cache_dir, views=views, second_view_below=second_view_below)


def _images(model: TrainedModel, top_k: int, cache_dir: Any, views: Any, second_view_below: Any) -> Predictor:
    from aslkit.inference.image_recognizer import ImageRecognizer  # its module imports torch on first predict

    _one_view(views, second_view_below, "views apply to landmark models only; image models see each photo once")
    return ImageRecognizer(model, top_k=top_k, cache_dir=cache_dir)


def _clips(model: TrainedModel, top_k: int, cache_dir: Any, views: Any, second_view_below: Any) -> Predictor:
    from aslkit.inference.sequence_recognizer import SequenceRecognizer

    _one_view(views, second_view_below, "views apply to photos; a sign model reads each clip once")
    return SequenceRecognizer(model, top_k=top_k, cache_dir=cache_dir)


RECOGNIZERS: dict[InputKind, Callable[..., Predictor]] = {
    InputKind.LANDMARKS: _landmarks,
    InputKind.IMAGE: _images,
    InputKind.SEQUENCE: _clips,
}
"""Inference's column of the task table: kind -> (model, top_k, cache_dir, views, second_view_below) -> recognizer."""


def recognizer(
    model: str | Path | TrainedModel | None = None,
    top_k: int = 5,
    cache_dir: str | Path | None = "default",
    views: int | str | None = None,
    second_view_below: float | None = None,
) -> Predictor:
    """The recognizer for ``model`` (a shipped name, a run folder, a model.json or a TrainedModel; default the
    shipped ``letters``), whatever it reads. ``views`` and ``second_view_below`` are for landmark models (see
    Recognizer); any other model refuses them in one line rather than ignore them."""
    loaded = model if isinstance(model, TrainedModel) else load_model(model)
    return RECOGNIZERS[loaded.kind](loaded, top_k, cache_dir, views, second_view_below)


def photo_recognizer(model: str | Path | TrainedModel | None = None, **options: Any) -> PhotoPredictor:
    """``recognizer`` for callers that need photos (evaluate, predict): AslkitError for a sign model."""
    rec = recognizer(model, **options)
    if not isinstance(rec, PhotoPredictor):
        rec.close()
        raise AslkitError(f"model {rec.model.architecture!r} reads clips, not photos")
    return rec


@dataclass
class PathPredictions:
    """One answer per file of a batch (problems with the paths first, then the files in order), and what each
    file had to be read as, for the error when none could be."""

    rows: list[Prediction]
    reads: str  # "an image" or "a clip"

    def failure(self) -> str | None:
        """Why the batch failed as a whole (not one file could be read); None when any file was read."""
        if any(p.error is None for p in self.rows):
            return None
        return f"none of the {len(self.rows)} file(s) could be read as {self.reads}"


def predict_files(
    paths: Sequence[str | Path],
    model: str | Path | None = None,
    backend: str | None = None,
    top_k: int = 5,
    views: int | str | None = None,
    cache_dir: str | Path | None = "default",
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    progress: bool = False,
) -> PathPredictions:
    """`aslkit predict`: every photo (or, with a sign model, every video and .npy clip) in ``paths`` (files and
    folders) through ``model`` on ``backend``. A path that cannot be used is its own error row and the batch
    goes on. ``engine="ray"`` spreads photos over a Ray actor pool (landmark models on torch only)."""
    loaded = load_model(model).use_backend(backend)
    if loaded.kind is InputKind.SEQUENCE:
        return _predict_clips(paths, loaded, top_k, views, cache_dir, progress)
    from aslkit.inference.recognizer import collect_image_paths

    files, problems = collect_image_paths(paths)
    # a video given to a photo model: say which command reads it, not "not an image file"
    hint = "a video: read a sign with --model words, fingerspelling with `aslkit transcribe`"
    problems += [(str(f), f"{shown(f)}: {hint}") for f in files if is_video_path(f)]
    files = [f for f in files if not is_video_path(f)]
    rows = [Prediction(p, None, 0.0, [], False, why) for p, why in problems]
    if engine == "ray":
        from aslkit.inference.distributed import predict_ray

        if backend == "onnx" or loaded.kind is not InputKind.LANDMARKS:
            raise AslkitError("--engine ray runs the landmark letter models on torch")
        rows += predict_ray(files, model, views, top_k, workers, address, progress)
        return PathPredictions(rows, "an image")
    rec = photo_recognizer(loaded, top_k=top_k, cache_dir=cache_dir, views=views)
    try:
        rows += rec.predict_paths(files, workers=workers, progress=progress)
    finally:
        rec.close()
    return PathPredictions(_in_argument_order(rows, paths), "an image")


def _in_argument_order(rows: list[Prediction], paths: Sequence[str | Path]) -> list[Prediction]:
    """Rows in the order their paths were given (a folder's rows where the folder was): a missing file's row
    was printed first, whatever its place on the command line."""
    first = {}
    for i, p in enumerate(map(str, paths)):
        first.setdefault(p, i)
    folders = [("" if Path(p) == Path(".") else p.rstrip("/") + "/", i) for p, i in first.items() if Path(p).is_dir()]

    def place(row: Prediction) -> int:
        if row.path in first:
            return first[row.path]
        return next((i for f, i in folders if str(row.path).startswith(f)), len(first))

    return sorted(rows, key=place)


def _predict_clips(
    paths: Sequence[str | Path], model: TrainedModel, top_k: int, views: Any, cache_dir: Any, progress: bool
) -> PathPredictions:
    """Sign models: one answer per video or .npy clip (a clip is read once: no views)."""
    from aslkit.inference.sequence_recognizer import ClipPrediction, collect_clip_paths

    if views is not None:
        raise AslkitError("--views applies to photos; a sign model reads each clip once")
    files, problems = collect_clip_paths(paths)
    rec = recognizer(model, top_k=top_k, cache_dir=cache_dir)
    rows: list[Prediction] = [ClipPrediction(p, None, 0.0, [], False, why) for p, why in problems]
    rows += rec.predict_paths(files, progress=progress)
    return PathPredictions(rows, "a clip")
