"""aslkit: American Sign Language recognition from photos, video and webcam, offline on a CPU.

>>> import aslkit
>>> rec = aslkit.Recognizer()            # shipped "letters" model
>>> rec.predict("photo.jpg").label
>>> aslkit.recognizer("words")           # the recognizer for any model (letters, images, signs)
>>> aslkit.evaluate("my_letters/")       # metrics dict
>>> aslkit.train("my_letters/", out="runs/mine")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aslkit.inference.recognizer import Prediction, Recognizer
    from aslkit.inference.recognizers import Predictor, recognizer


def __getattr__(name: str) -> Any:
    # Lazy: `import aslkit` stays fast, and torch is only imported by training.
    if name in ("Recognizer", "Prediction"):
        from aslkit.inference import recognizer

        return getattr(recognizer, name)
    if name in ("recognizer", "Predictor"):
        from aslkit.inference import recognizers

        return getattr(recognizers, name)
    if name == "evaluate":
        from aslkit.evaluation.evaluate import evaluate

        return evaluate
    if name == "train":
        from aslkit.training.trainer import train

        return train
    if name in ("create_model", "list_models"):
        from aslkit import models

        return getattr(models, name)
    if name == "load_model":
        from aslkit.models.io import load_model

        return load_model
    raise AttributeError(f"module 'aslkit' has no attribute {name!r}")


__all__ = [
    "Prediction",
    "Predictor",
    "Recognizer",
    "recognizer",
    "create_model",
    "evaluate",
    "list_models",
    "load_model",
    "train",
]
