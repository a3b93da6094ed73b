"""Signs from landmark clips with a trained sequence model (seq-lstm-attn, seq-tcn, ...).

A clip's raw frames (in any known layout, any length) become the model's input the same way in
training, evaluation and prediction: ``sequence_arrays`` normalizes each frame (see
landmarks.sequence_features) and resamples the clip to the model's length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aslkit.data.sequences import LAYOUTS, SequenceSet, drop_face, fit_length, layout_for
from aslkit.errors import ModelError
from aslkit.landmarks.sequence_features import feature_width, sequence_features
from aslkit.models.io import TrainedModel

FEATURE_SET = "seq-v1"  # bump when sequence_features changes meaning: old models then refuse to load


def sequence_preprocessing_spec(layout_name: str, length: int) -> dict[str, Any]:
    """How a clip becomes this model's input; saved in model.json."""
    return {
        "input": "sequence",
        "layout": layout_name,
        "length": int(length),
        "features": FEATURE_SET,
        "resample": "nearest frames, any clip length to `length`",
    }


def sequence_arrays(data: SequenceSet, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, length, D) float32, mask (N, length) bool) for every clip of a set."""
    width = feature_width(data.layout)
    x = np.zeros((len(data), length, width), np.float32)
    m = np.zeros((len(data), length), bool)
    for i, seq in enumerate(data.sequences):
        f, fm = sequence_features(seq, data.layout)
        x[i], m[i] = fit_length(f, length, fm)
    return x, m


def check_layout(model: TrainedModel, data: SequenceSet) -> SequenceSet:
    """The set in the model's layout: a model trained on hands only reads the hands of pose+hands
    clips; the reverse cannot be done and says so."""
    pre = model.preprocessing
    if pre.get("input") != "sequence":
        raise ModelError(f"model {model.architecture!r} does not read landmark sequences")
    if pre.get("features") != FEATURE_SET:
        raise ModelError(f"model features {pre.get('features')!r} are not this aslkit's {FEATURE_SET!r}; retrain it")
    want = LAYOUTS.get(str(pre.get("layout")))
    if want is None:
        raise ModelError(f"model JSON names an unknown layout {pre.get('layout')!r}")
    if data.layout.name == want.name:
        return data
    if want.pose is None:  # keep only the hands
        lay = data.layout if data.layout.face is None else layout_for(258)
        seqs = [drop_face(s, data.layout)[0] for s in data.sequences]
        seqs = [np.concatenate([s[:, lay.left[0] : lay.left[1]], s[:, lay.right[0] : lay.right[1]]], 1) for s in seqs]
        return SequenceSet(seqs, data.labels, want, data.signers, data.sources)
    raise ModelError(f"model reads {want} frames but the data has {data.layout}: it has no pose to give")


def sequence_probabilities(model: TrainedModel, data: SequenceSet, batch: int = 256) -> np.ndarray:
    """Class probabilities (N, C) for every clip of a set."""
    import torch

    data = check_layout(model, data)
    x, m = sequence_arrays(data, int(model.preprocessing["length"]))
    module = model.torch_module()
    out = np.zeros((len(x), len(model.labels)), np.float32)
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            logits = module(torch.from_numpy(x[i : i + batch]), torch.from_numpy(m[i : i + batch]))
            out[i : i + batch] = logits.softmax(-1).numpy()
    return out
