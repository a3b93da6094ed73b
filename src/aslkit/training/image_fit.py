"""Training image models (CNNs, EfficientNet-Lite0, MobileNetV2, CLIP) with the shared epoch loop.

Images are held in memory at the model's input size (uint8) and augmented per batch; pretrained
backbones train in two phases (head alone, then the last blocks at a lower learning rate) when the
architecture's recipe or the user asks for ``freeze_epochs``.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.data.image_augment import ImageAugmenter
from aslkit.errors import AslkitError, DatasetError
from aslkit.kinds import ImagePreprocessing
from aslkit.labels import NOTHING
from aslkit.landmarks.image_set import HAND_MARGIN, ImageSet, check_crop_mode, to_tensor_batch
from aslkit.models.registry import create_model, get_model_info, model_kwargs
from aslkit.training.fit import FitPlan


def image_size_for(cfg: TrainConfig) -> int:
    """The input side: the user's image_size, else the architecture's own."""
    kw = model_kwargs(cfg.model, **cfg.model_kwargs)
    size = int(cfg.image_size or kw.get("image_size", 0))
    if size < 16:
        raise AslkitError(f"model {cfg.model!r}: no usable image_size (got {size}); pass --image-size")
    return size


def image_preprocessing_spec(size: int, crop: str) -> dict[str, Any]:
    """How an image becomes this model's input; saved in model.json."""
    return ImagePreprocessing(
        size=size,
        crop=check_crop_mode(crop),
        hand_margin=HAND_MARGIN,
        resize="stretch to size x size (after the square hand crop, if any)",
        pixels="RGB float in [0, 1]; mean/std normalization is inside the model",
        no_hand_label=NOTHING,
    ).to_json()


def build_kwargs(cfg: TrainConfig, size: int, resuming: bool) -> tuple[dict[str, Any], bool]:
    """Builder kwargs for this run and whether pretrained weights are read."""
    info = get_model_info(cfg.model)
    kw = model_kwargs(cfg.model, **cfg.model_kwargs)
    if "image_size" in kw:
        kw["image_size"] = size
    if cfg.weights:
        if "pretrained" not in kw:
            raise AslkitError(f"model {cfg.model!r} takes no pretrained weights (--weights)")
        kw["pretrained"] = cfg.weights
    if resuming and "pretrained" in kw:
        kw["pretrained"] = ""  # the checkpoint holds the weights
    pretrained = bool(kw.get("pretrained"))
    if "pretrained" in info.defaults and not pretrained and not resuming:
        print(
            f"aslkit: note: {cfg.model} has no pretrained weights (--weights PATH); it trains from scratch",
            file=sys.stderr,
        )
    return kw, pretrained


def _saved_kwargs(module, kw: dict[str, Any]) -> dict[str, Any]:
    """Kwargs that rebuild this exact network from our own weights: no pretrained file, and the
    architecture's sizes as actually built (a CLIP folder's config may differ from the defaults)."""
    out = dict(kw)
    out.update(getattr(module, "config_kwargs", {}) or {})
    if "pretrained" in out:
        out["pretrained"] = ""
    return out


def image_plan(train: ImageSet, valid: ImageSet, labels: list[str], cfg: TrainConfig, resuming: bool) -> FitPlan:
    """The network (pretrained weights read unless resuming) and the images as augmented batches."""
    import torch

    size = train.images.shape[1]
    kw, pretrained = build_kwargs(cfg, size, resuming=resuming)
    model = create_model(cfg.model, 3, len(labels), **kw).to(memory_format=torch.channels_last)
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    tr = np.flatnonzero(train.readable)
    va = np.flatnonzero(valid.readable)
    if len(tr) == 0:
        raise DatasetError("no readable training image; nothing to train on")
    ytr = torch.tensor([lab_idx[train.labels[i]] for i in tr])
    yva = torch.tensor([lab_idx[valid.labels[i]] for i in va])
    augmenter = ImageAugmenter(cfg.image_augment)
    bs = max(1, cfg.batch_size)
    steps = max(1, int(np.ceil(len(tr) / bs)))

    def batches(epoch: int, rng: np.random.Generator):
        perm = rng.permutation(len(tr))
        for b in range(steps):
            idx = tr[perm[b * bs : (b + 1) * bs]]
            yield to_tensor_batch(augmenter.augment_batch(train.images[idx], rng)), ytr[perm[b * bs : (b + 1) * bs]]

    def valid_batches():
        for i in range(0, len(va), 64):  # 64 at a time: full-size images of a large set do not fit at once
            yield to_tensor_batch(valid.images[va[i : i + 64]]), yva[i : i + 64]

    return FitPlan(
        model,
        ytr,
        batches,
        valid_batches if len(va) else None,
        steps,
        _saved_kwargs(model, kw),
        3,
        image_preprocessing_spec(size, cfg.crop),
        pretrained=pretrained,
        meta={"pretrained": pretrained},
    )
