"""Training landmark letter models (MLPs over hand-landmark features) with the shared fit.

The points are augmented afresh every epoch (mirror, rotation, scale, jitter: defaults.toml [augment])
and featurized; the network standardizes its inputs with the training features' mean and spread,
stored with its weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.recognizer import SECOND_VIEW_BELOW, parse_views
from aslkit.kinds import LandmarkPreprocessing
from aslkit.labels import NOTHING
from aslkit.landmarks.augment import augment
from aslkit.landmarks.extractor import DEFAULT_ATTEMPTS
from aslkit.landmarks.features import CANONICAL_HANDEDNESS, FEATURE_SET, feature_dim, featurize
from aslkit.landmarks.landmark_set import LandmarkSet
from aslkit.models.io import TrainedModel
from aslkit.models.registry import create_model, model_kwargs
from aslkit.training.fit import FitPlan, fit_model


def preprocessing_spec(views: int | str = 1) -> dict[str, Any]:
    """What a model needs to turn an image into its input; saved in model.json."""
    return LandmarkPreprocessing(
        views=parse_views(views),
        second_view_below=SECOND_VIEW_BELOW,
        features=FEATURE_SET,
        canonical_handedness=CANONICAL_HANDEDNESS,
        hand_choice="largest",
        no_hand_label=NOTHING,
        extractor={"attempts": [list(a) for a in DEFAULT_ATTEMPTS], "max_hands": 2},
    ).to_json()


def _rotation_ranges(data: LandmarkSet, rows: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """Each row's rotation range: motion letters rotate less, so their movement is not mistaken for tilt."""
    motion = {m.strip() for m in cfg.augment.motion_labels.split(",") if m.strip()}
    return np.array(
        [cfg.augment.motion_rotate_deg if data.labels[i] in motion else cfg.augment.rotate_deg for i in rows],
        np.float32,
    )


def start_from_letters(model, start: str, labels: list[str]) -> None:
    """Start from a trained letter model (``--finetune``): its weights and its input standardization, so a few
    photos of one person adjust a model trained on many, rather than re-centring it on those few."""
    from aslkit.models.io import load_model
    from aslkit.training.finetune import start_from

    base = load_model(start)
    if base.preprocessing.get("features") != FEATURE_SET:
        raise AslkitError(
            f"--finetune {start!r} reads {base.preprocessing.get('features')!r} hand features; this aslkit makes "
            f"{FEATURE_SET!r}"
        )
    start_from(model, base, labels, start)


def landmark_plan(
    train: LandmarkSet, valid: LandmarkSet, labels: list[str], cfg: TrainConfig, resuming: bool
) -> FitPlan:
    """The network (inputs standardized by the training features) and the rows with a hand as batches,
    augmented afresh every epoch."""
    import torch

    lab_idx = {lab: i for i, lab in enumerate(labels)}
    tr = np.flatnonzero(train.has_hand)
    va = np.flatnonzero(valid.has_hand)
    if len(tr) == 0:
        raise DatasetError("no hand was found in any training image; nothing to train on")
    ytr = torch.tensor([lab_idx[train.labels[i]] for i in tr])
    xva = torch.from_numpy(featurize(valid.pts[va])) if len(va) else None
    yva = torch.tensor([lab_idx[valid.labels[i]] for i in va]) if len(va) else None
    base = featurize(train.pts[tr])
    rot_range = _rotation_ranges(train, tr, cfg)
    kwargs = model_kwargs(cfg.model, **cfg.model_kwargs)
    model = create_model(cfg.model, feature_dim(), len(labels), **kwargs)
    if hasattr(model, "set_normalization"):  # input standardization, stored with the weights
        model.set_normalization(base.mean(0), base.std(0))
    if cfg.finetune and not resuming:  # a resumed run's checkpoint holds its weights
        start_from_letters(model, cfg.finetune, labels)
    steps = max(1, int(np.ceil(len(tr) / cfg.batch_size)))

    def batches(epoch: int, rng: np.random.Generator):
        x = torch.from_numpy(featurize(augment(train.pts[tr], cfg.augment, rng, rot_range)))
        perm = torch.from_numpy(rng.permutation(len(tr)))
        for b in range(steps):
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            yield x[idx], ytr[idx]

    def valid_batches():
        yield xva, yva

    spec = preprocessing_spec(cfg.views)
    return FitPlan(model, ytr, batches, valid_batches if xva is not None else None, steps, kwargs, feature_dim(), spec)


def fit_landmark_model(
    train: LandmarkSet,
    valid: LandmarkSet,
    labels: list[str],
    cfg: TrainConfig,
    run_dir: Path | None = None,
    progress: bool = True,
    resume: tuple[dict, dict] | None = None,
) -> tuple[TrainedModel, list[dict]]:
    """Train a registered landmark model on samples with a hand; early-stop on validation loss.
    One torch thread: small MLPs are as fast on one, and it leaves the other core to MediaPipe."""
    return fit_model(landmark_plan, train, valid, labels, cfg, run_dir, progress, resume, threads=1)
