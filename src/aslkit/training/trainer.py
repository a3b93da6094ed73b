"""Train a landmark classifier: split, extract (cached), fit with early stopping, evaluate, write a run folder.

The run folder holds everything needed to use, inspect and reproduce the model:
config.json, model.safetensors + model.json, metrics.json, curves.png, confusion_matrix.png,
report.md and TensorBoard logs (tb/).
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.data.dataset import ImageDataset, load_dataset
from aslkit.data.landmark_npz import is_landmark_file, load_landmark_npz
from aslkit.data.landmark_set import LandmarkSet, concat, landmarks_for
from aslkit.data.split import group_split, groups_from_pattern, stratified_split
from aslkit.errors import AslkitError, DatasetError
from aslkit.evaluation.metrics import end_to_end_metrics
from aslkit.evaluation.report import plot_confusion, plot_curves, write_markdown
from aslkit.inference.recognizer import SECOND_VIEW_BELOW, parse_views, view_probabilities
from aslkit.labels import NOTHING, sort_labels
from aslkit.landmarks.augment import augment
from aslkit.landmarks.extractor import DEFAULT_ATTEMPTS
from aslkit.landmarks.features import CANONICAL_HANDEDNESS, FEATURE_SET, feature_dim, featurize
from aslkit.models.io import TrainedModel
from aslkit.models.registry import get_model_info, model_kwargs


@dataclass
class TrainResult:
    run_dir: Path
    model: TrainedModel
    metrics: dict[str, Any]


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def preprocessing_spec(views: int | str = 1) -> dict[str, Any]:
    """What a model needs to turn an image into its input; saved in model.json."""
    return {
        "views": parse_views(views),
        "second_view_below": SECOND_VIEW_BELOW,
        "input": "hand-landmarks",
        "features": FEATURE_SET,
        "canonical_handedness": CANONICAL_HANDEDNESS,
        "hand_choice": "largest",
        "no_hand_label": NOTHING,
        "extractor": {"attempts": [list(a) for a in DEFAULT_ATTEMPTS], "max_hands": 2},
    }


def _split(data: LandmarkSet, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if cfg.group_pattern:
        groups = groups_from_pattern([Path(p).name for p in data.paths], cfg.group_pattern)
        hold = [g for g in cfg.holdout.split(",") if g] if cfg.holdout else None
        return group_split(groups, hold, seed=cfg.seed)
    parts = stratified_split(data.labels, cfg.split_ratios(), seed=cfg.seed)
    if len(parts) == 2:
        return parts[0], parts[1], np.array([], dtype=np.int64)
    return parts  # type: ignore[return-value]


def _evaluate_split(model: TrainedModel, data: LandmarkSet) -> dict:
    """End-to-end metrics on a split: no hand -> Nothing. One view (the photo as it is), whatever the
    model's ``views`` setting: `aslkit evaluate` gives the figures with the model's own views."""
    d = data.subset(np.flatnonzero(data.readable))
    probs, has = view_probabilities(model, [d])
    preds = np.where(has, np.array(model.labels, dtype=object)[probs.argmax(1)], NOTHING)
    return end_to_end_metrics(d.labels, list(preds), has, model.labels)


def fit_landmark_model(
    train: LandmarkSet,
    valid: LandmarkSet,
    labels: list[str],
    cfg: TrainConfig,
    run_dir: Path | None = None,
    progress: bool = True,
) -> tuple[TrainedModel, list[dict]]:
    """Train a registered landmark model on samples with a hand; early-stop on validation loss."""
    import torch
    from torch import nn
    from tqdm import tqdm

    from aslkit.models.registry import create_model

    _seed_everything(cfg.seed)
    torch.set_num_threads(1)  # small MLPs: one thread is as fast, and leaves the other core to MediaPipe
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    tr = np.flatnonzero(train.has_hand)
    va = np.flatnonzero(valid.has_hand)
    if len(tr) == 0:
        raise DatasetError("no hand was found in any training image; nothing to train on")
    ytr = torch.tensor([lab_idx[train.labels[i]] for i in tr])
    xva = torch.from_numpy(featurize(valid.pts[va])) if len(va) else None
    yva = torch.tensor([lab_idx[valid.labels[i]] for i in va]) if len(va) else None
    base = featurize(train.pts[tr])
    motion = {m.strip() for m in cfg.augment.motion_labels.split(",") if m.strip()}
    rot_range = np.array(
        [cfg.augment.motion_rotate_deg if train.labels[i] in motion else cfg.augment.rotate_deg for i in tr],
        np.float32,
    )

    kwargs = model_kwargs(cfg.model, **cfg.model_kwargs)
    model = create_model(cfg.model, feature_dim(), len(labels), **kwargs)
    if hasattr(model, "set_normalization"):  # input standardization, stored with the weights
        model.set_normalization(base.mean(0), base.std(0))
    counts = np.bincount(ytr.numpy(), minlength=len(labels)).astype(np.float64)
    if cfg.class_weights:
        w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
        weight = torch.tensor(w, dtype=torch.float32)
    else:
        weight = None
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=cfg.label_smoothing)
    eval_loss = nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = max(1, int(np.ceil(len(tr) / cfg.batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps, pct_start=0.15)
    rng = np.random.default_rng(cfg.seed)
    writer = None
    if run_dir is not None:
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(run_dir / "tb"))
        except Exception:  # noqa: BLE001 - logs are a convenience, never a reason to stop training
            writer = None

    def _loss(logits: torch.Tensor, y: torch.Tensor, fn) -> torch.Tensor:
        if logits.dim() == 3:  # ensemble: every member learns the labels
            return sum(fn(m, y) for m in logits) / len(logits)
        return fn(logits, y)

    def _probs(logits: torch.Tensor) -> torch.Tensor:
        return logits.softmax(-1).mean(0) if logits.dim() == 3 else logits.softmax(-1)

    history: list[dict] = []
    best = (float("inf"), None, 0)
    bar = tqdm(
        range(1, cfg.epochs + 1),
        desc=f"train {cfg.model}",
        unit="epoch",
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5 if sys.stderr.isatty() else 15.0,  # logs and CI get a line every 15 s, not every epoch
    )
    for epoch in bar:
        model.train()
        x = torch.from_numpy(featurize(augment(train.pts[tr], cfg.augment, rng, rot_range)))
        perm = torch.from_numpy(rng.permutation(len(tr)))
        tot, correct = 0.0, 0
        for b in range(steps):
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            logits = model(x[idx])
            loss = _loss(logits, ytr[idx], loss_fn)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
            correct += int((_probs(logits.detach()).argmax(-1) == ytr[idx]).sum())
        model.eval()
        with torch.no_grad():
            if xva is not None:
                lv = model(xva)
                vloss = float(_loss(lv, yva, eval_loss))
                vacc = float((_probs(lv).argmax(-1) == yva).float().mean())
            else:
                vloss, vacc = tot / len(tr), correct / len(tr)
        rec = {
            "epoch": epoch,
            "train_loss": tot / len(tr),
            "train_acc": correct / len(tr),
            "val_loss": vloss,
            "val_acc": vacc,
            "lr": sched.get_last_lr()[0],
        }
        history.append(rec)
        if writer is not None:
            for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
                writer.add_scalar(k, rec[k], epoch)
        if vloss < best[0] - 1e-4:
            best = (vloss, {k: v.clone() for k, v in model.state_dict().items()}, epoch)
        bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val_loss=f"{vloss:.3f}", val_acc=f"{vacc:.3f}")
        if epoch - best[2] >= cfg.patience:
            break
    bar.close()
    if writer is not None:
        writer.close()
    if best[1] is not None:
        model.load_state_dict(best[1])
    trained = TrainedModel.from_torch(
        model,
        cfg.model,
        kwargs,
        labels,
        feature_dim(),
        preprocessing_spec(cfg.views),
        {"best_epoch": best[2], "epochs_run": len(history)},
    )
    return trained, history


def _load_source(path: str | Path, cfg: TrainConfig, cache_dir, progress: bool) -> LandmarkSet:
    """Landmarks of one training source: an image folder, a box-CSV folder or a landmark .npz."""
    if is_landmark_file(path):
        return load_landmark_npz(path, stride=cfg.landmark_stride, aspect=cfg.landmark_aspect)
    ds: ImageDataset = load_dataset(path)
    return landmarks_for(ds, cache_dir=cache_dir, workers=cfg.workers or None, progress=progress)


def train(
    data: str | Path | list[str | Path],
    out: str | Path,
    model: str = "landmark-mlp",
    cache_dir: str | Path | None = "default",
    progress: bool = True,
    command: str | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train a letter model on one or more labelled image sets and write a run folder.

    Args:
        data: folder(s) of class sub-folders, folders holding a box annotations.csv, or landmark .npz files.
        out: run folder to create (must not already hold a model).
        model: registered architecture name.
        overrides: any key of defaults.toml [train] or [augment] (lr=1e-3, epochs=50, ...).
    """
    t0 = time.time()
    cfg = TrainConfig.from_defaults(model=model, **overrides)
    info = get_model_info(cfg.model)
    if info.input != "hand-landmarks":
        raise AslkitError(f"model {cfg.model!r} reads {info.input}, which `train` on image folders cannot feed yet")
    parse_views(cfg.views)
    run_dir = Path(out)
    if (run_dir / "model.json").exists():
        raise AslkitError(f"{run_dir} already holds a trained model; choose a new --out folder")
    paths = [data] if isinstance(data, (str, Path)) else list(data)
    if not paths:
        raise DatasetError("no training data given")
    sets = [_load_source(p, cfg, cache_dir, progress) for p in paths]
    all_data = concat(sets)
    labels = sort_labels(set(all_data.labels))
    if len(labels) < 2:
        raise DatasetError(f"need at least 2 classes to train, found {labels}")
    tr_idx, va_idx, te_idx = _split(all_data, cfg)
    readable = all_data.readable
    tr_idx, va_idx = tr_idx[readable[tr_idx]], va_idx[readable[va_idx]]
    train_set, valid_set = all_data.subset(tr_idx), all_data.subset(va_idx)

    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "command": command,
        "data": [str(p) for p in paths],
        "train": cfg.to_dict(),
        "labels": labels,
        "counts": {lab: all_data.labels.count(lab) for lab in labels},
        "split_sizes": {"train": len(tr_idx), "valid": len(va_idx), "test": len(te_idx)},
    }
    (run_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    trained, history = fit_landmark_model(train_set, valid_set, labels, cfg, run_dir, progress)
    metrics: dict[str, Any] = {
        "detection_rate_all": float(all_data.has_hand[readable].mean()) if readable.any() else 0.0,
        "unreadable": int((~readable).sum()),
        "train": _evaluate_split(trained, train_set),
        "valid": _evaluate_split(trained, valid_set),
    }
    if len(te_idx):
        metrics["test"] = _evaluate_split(trained, all_data.subset(te_idx))
    metrics["train_seconds"] = round(time.time() - t0, 1)
    metrics["best_epoch"] = trained.meta["best_epoch"]
    trained.meta.update(
        {
            "command": command,
            "data": [str(p) for p in paths],
            "test_accuracy": metrics.get("test", metrics["valid"])["accuracy"],
        }
    )
    trained.save(run_dir, "model")
    (run_dir / "history.json").write_text(json.dumps(history), encoding="utf-8")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    plot_curves(history, run_dir / "curves.png")
    shown = metrics.get("test", metrics["valid"])
    split_name = "test" if "test" in metrics else "valid"
    cm = shown["confusion_matrix"]
    plot_confusion(cm["matrix"], cm["labels"], run_dir / "confusion_matrix.png", f"{split_name} split")
    write_markdown(
        shown,
        run_dir / "report.md",
        f"Training run: {split_name} split",
        {"curves": "curves.png", "confusion matrix": "confusion_matrix.png"},
    )
    return TrainResult(run_dir, trained, metrics)
