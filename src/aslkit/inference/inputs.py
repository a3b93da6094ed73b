"""A model's inputs for a labelled set, prepared as prediction prepares them: what ``aslkit export --data``
checks the ONNX graph against torch on.

It lives here, not in export, because it reads data sets and runs the landmark pass and the sequence
preprocessing that prediction uses; export sits below models (a model runs on its onnxruntime backend), so
it cannot reach up for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aslkit.errors import DatasetError
from aslkit.export.onnx import input_kind
from aslkit.names import shown


def _none_usable(data: str | Path, what: str) -> DatasetError:
    return DatasetError(f"{shown(data)}: no usable input to check the export on ({what})")


def real_inputs(model, data: str | Path, limit: int | None = None, cache_dir="default", progress: bool = False):
    """The model's inputs for every sample of a labelled set (photos for landmark and image models, clips
    for sequence models), as they would be at prediction time."""
    kind = input_kind(model)
    if kind == "sequence":
        from aslkit.inference.sequence_recognizer import model_input, sequence_arrays
        from aslkit.landmarks.holistic import load_sequences

        seqs = model_input(model, load_sequences(data, cache_dir=cache_dir, progress=progress))
        if not len(seqs):
            raise _none_usable(data, "no readable clip")
        x, m = sequence_arrays(seqs, int(model.preprocessing["length"]))
        return [x[:limit], m[:limit]]
    from aslkit.data.dataset import load_dataset

    ds = load_dataset(data)
    if limit is not None:
        ds.samples = ds.samples[:limit]
    if kind == "hand-landmarks":
        from aslkit.landmarks.features import featurize
        from aslkit.landmarks.landmark_set import landmarks_for

        lm = landmarks_for(ds, cache_dir, progress=progress)
        if not lm.has_hand.any():
            raise _none_usable(data, "no readable photo with a hand in it")
        return [featurize(lm.pts[lm.has_hand])]
    from aslkit.landmarks.image_set import images_for, to_tensor_batch

    crop = str(model.preprocessing.get("crop", "none"))
    imgs = images_for(ds, int(model.preprocessing["size"]), crop, cache_dir, progress=progress)
    if not imgs.has_hand.any():
        raise _none_usable(data, "no readable photo" + (" with a hand in it" if crop != "none" else ""))
    return [np.ascontiguousarray(to_tensor_batch(imgs.images[imgs.has_hand]).numpy())]
