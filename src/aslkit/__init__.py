"""aslkit: American Sign Language recognition from photos, video and webcam, offline on a CPU.

>>> import aslkit
>>> rec = aslkit.Recognizer()            # shipped "letters" model
>>> rec.predict("photo.jpg").label
>>> rec.predict("photo.jpg").as_pipeline()   # [{"label": "B", "score": 0.96}, ...], as Hugging Face pipelines
>>> aslkit.recognizer("words")           # the recognizer for any model (letters, images, signs)
>>> aslkit.Recognizer.from_pretrained("my-model/")   # a local folder: weights, model.json, model card
>>> aslkit.load_model("my-model/")       # the TrainedModel itself (labels, meta); nothing is ever downloaded
>>> aslkit.evaluate("my_letters/")       # metrics dict
>>> aslkit.train("my_letters/", out="runs/mine")
>>> aslkit.cross_validate("signs.npz", "runs/cv", model="seq-tcn", folds=5)   # signers left out per fold
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aslkit.inference.image_recognizer import ImageRecognizer
    from aslkit.inference.recognizer import Prediction, Recognizer
    from aslkit.inference.recognizers import Predictor, recognizer
    from aslkit.inference.sequence_recognizer import ClipPrediction, SequenceRecognizer
    from aslkit.models.io import TrainedModel, load_model


def __getattr__(name: str) -> Any:
    # Lazy: `import aslkit` stays fast, and torch is only imported by training.
    if name in ("Recognizer", "Prediction"):
        from aslkit.inference import recognizer

        return getattr(recognizer, name)
    if name in ("SequenceRecognizer", "ClipPrediction"):
        from aslkit.inference import sequence_recognizer

        return getattr(sequence_recognizer, name)
    if name == "ImageRecognizer":
        from aslkit.inference.image_recognizer import ImageRecognizer

        return ImageRecognizer
    if name in ("recognizer", "Predictor"):
        from aslkit.inference import recognizers

        return getattr(recognizers, name)
    if name == "evaluate":
        from aslkit.evaluation.evaluate import evaluate

        return evaluate
    if name == "train":
        from aslkit.training.trainer import train

        return train
    if name == "cross_validate":
        from aslkit.training.cv import cross_validate

        return cross_validate
    if name in ("create_model", "list_models"):
        from aslkit import models

        return getattr(models, name)
    if name in ("load_model", "TrainedModel"):
        from aslkit.models import io

        return getattr(io, name)
    raise AttributeError(f"module 'aslkit' has no attribute {name!r}")


__all__ = [
    "ClipPrediction",
    "ImageRecognizer",
    "Prediction",
    "Predictor",
    "Recognizer",
    "SequenceRecognizer",
    "TrainedModel",
    "recognizer",
    "create_model",
    "cross_validate",
    "evaluate",
    "list_models",
    "load_model",
    "train",
]
