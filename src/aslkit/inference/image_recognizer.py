"""Letters from photos with an image model (CNN, EfficientNet-Lite0, MobileNetV2, CLIP): pixels in,
class probabilities out, optionally after cropping to MediaPipe's hand box.

Same interface as the landmark Recognizer (``predict``, ``predict_paths``, ``dataset_probabilities``),
so `aslkit predict` and `aslkit evaluate` treat both kinds alike. Image models always answer from
their own classes (a ``Nothing`` class included, if they were trained with one); ``hand`` in a
prediction says whether MediaPipe found a hand for the crop, or is None when the model takes the
whole image and never looks for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.dataset import ImageDataset
from aslkit.data.images import image_input
from aslkit.errors import ModelError
from aslkit.inference.recognizer import FromPretrained, check_top_k
from aslkit.kinds import InputKind
from aslkit.labels import NOTHING
from aslkit.landmarks.image_set import ImageSet, images_for, prepare_image, to_tensor_batch
from aslkit.models.io import TrainedModel

BATCH = 32
CHUNK = 512  # images read into memory at a time by predict_paths


def image_probabilities(model: TrainedModel, images: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """Class probabilities (N, C) for uint8 images (N, S, S, 3) at the model's input size."""
    import torch

    if model.backend != "torch":
        from aslkit.models.io import probabilities

        probs = np.zeros((len(images), len(model.labels)), np.float32)
        for i in range(0, len(images), batch):
            probs[i : i + batch] = probabilities(model.logits(to_tensor_batch(images[i : i + batch]).numpy()))
        return probs
    module = model.torch_module()
    if not getattr(module, "_aslkit_channels_last", False):  # once: matches to_tensor_batch's layout
        module.to(memory_format=torch.channels_last)
        module._aslkit_channels_last = True
    out = np.zeros((len(images), len(model.labels)), np.float32)
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            logits = module(to_tensor_batch(images[i : i + batch]))
            out[i : i + batch] = logits.softmax(-1).numpy()
    return out


class ImageRecognizer(FromPretrained):
    """Recognize letters with a trained image model; see the module docstring."""

    def __init__(self, model: TrainedModel, top_k: int = 5, cache_dir: str | Path | None = "default") -> None:
        pre = model.preprocessing
        if model.kind is not InputKind.IMAGE:
            raise ModelError(f"model {model.architecture!r} does not read images")
        if not isinstance(pre.get("size"), int) or pre["size"] < 1:
            raise ModelError(f"{model.source or model.architecture}: image model JSON has no input size")
        self.model = model
        self.size = int(pre["size"])
        self.crop = str(pre.get("crop", "none"))
        self.top_k = check_top_k(top_k)
        self.cache_dir = cache_dir
        self.views: int | str = 1
        self.no_hand_label = str(pre.get("no_hand_label", NOTHING))
        self._landmarker = None

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @property
    def landmarker(self):
        if self._landmarker is None:
            from aslkit.landmarks.extractor import HandLandmarker

            self._landmarker = HandLandmarker(static=True)
        return self._landmarker

    def _answer(self, probs: np.ndarray, path: str | None, hand: bool | None, box=None):
        from aslkit.inference.recognizer import ranked

        return ranked(probs, self.labels, self.top_k, path, hand, box)

    def predict(self, image: np.ndarray | str | Path):
        """One image (RGB uint8 array or path) -> Prediction; ImageError on a bad file."""
        path, arr = image_input(image)
        h, found = None, None
        if self.crop != "none":
            h = self.landmarker(arr).main_hand()
            found = h is not None
        probs = image_probabilities(self.model, prepare_image(arr, self.size, h, self.crop)[None])[0]
        return self._answer(probs, path, found, h.box if h is not None else None)

    def predict_paths(self, paths: Sequence[str | Path], workers: int | None = None, progress: bool = False) -> list:
        """Predict many files; a bad file gets an error entry and the rest go on. Files are read in
        chunks, so a folder of any size needs the memory of CHUNK images only."""
        from aslkit.data.dataset import Sample
        from aslkit.inference.recognizer import Prediction

        out = []
        for start in range(0, len(paths), CHUNK):
            part = list(paths[start : start + CHUNK])
            ds = ImageDataset(Path("."), [Sample(Path(p), "", "") for p in part])
            data = images_for(ds, self.size, self.crop, self.cache_dir, workers, progress)
            probs = image_probabilities(self.model, data.images)
            for i, p in enumerate(part):
                if data.errors[i] is not None:
                    out.append(Prediction(str(p), None, 0.0, [], False, data.errors[i]))
                else:
                    hand = bool(data.has_hand[i]) if self.crop != "none" else None
                    out.append(self._answer(probs[i], str(p), hand))
        return out

    def dataset_probabilities(
        self, ds: ImageDataset, workers: int | None = None, progress: bool = True
    ) -> tuple[ImageSet, np.ndarray, np.ndarray, dict[str, Any]]:
        """(readable samples, probabilities, answered, extra figures) for evaluation: an image model
        answers every readable image, so ``answered`` is all True."""
        data = images_for(ds, self.size, self.crop, self.cache_dir, workers, progress)
        d = data.subset(np.flatnonzero(data.readable))
        extra: dict[str, Any] = {"crop": self.crop, "errors": [e for e in data.errors if e is not None]}
        if self.crop != "none":
            extra["hand_crop_rate"] = float(d.has_hand.mean()) if len(d) else 0.0
        return d, image_probabilities(self.model, d.images), np.ones(len(d), bool), extra

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
