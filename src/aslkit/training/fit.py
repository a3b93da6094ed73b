"""The one fit every model kind goes through: seed, build, loss, epoch loop, package.

What differs between kinds (landmarks, images, clips) is only how the network is built and how the
data becomes batches; each kind's module turns (train, valid, labels, cfg) into a ``FitPlan`` and
``fit_model`` does the rest, so the seeding order, the loss, the schedule, early stopping and the saved
model's meta are the same for all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.models.io import TrainedModel
from aslkit.training.loop import ClassificationLoss, ValidBatches, fit_loop, phases_for, seed_everything


@dataclass
class FitPlan:
    """One kind's part of a fit: its network, its training labels (for class weights), its batches, and
    what the saved model records (builder kwargs, input width, preprocessing spec, extra meta)."""

    model: Any
    y_train: Any  # torch tensor: the class of each training sample
    batches: Callable[[int, np.random.Generator], Iterable[tuple[Any, Any]]]
    valid: ValidBatches
    steps_per_epoch: int
    saved_kwargs: dict[str, Any]
    in_dim: int
    preprocessing: dict[str, Any]
    pretrained: bool = False  # a pretrained backbone: train the head first when the recipe says so
    meta: dict[str, Any] = field(default_factory=dict)


# (train, valid, labels, cfg, resuming) -> plan; called after seeding, so weight init is reproducible
PlanBuilder = Callable[[Any, Any, list[str], TrainConfig, bool], FitPlan]


def _env_threads() -> int | None:
    """OMP_NUM_THREADS as a whole number of threads, if it is one."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def fit_model(
    plan_for: PlanBuilder,
    train: Any,
    valid: Any,
    labels: list[str],
    cfg: TrainConfig,
    run_dir: Path | None = None,
    progress: bool = True,
    resume: tuple[dict, dict] | None = None,
    threads: int | None = None,
) -> tuple[TrainedModel, list[dict]]:
    """Train the network ``plan_for`` builds; early-stop on validation loss; returns (model, history).
    ``threads``: torch threads (default: OMP_NUM_THREADS when set, so a shared machine can be told, else one
    per core)."""
    import torch

    seed_everything(cfg.seed)
    torch.set_num_threads(threads or _env_threads() or max(1, os.cpu_count() or 1))
    plan = plan_for(train, valid, labels, cfg, resume is not None)
    result = fit_loop(
        plan.model,
        cfg,
        steps_per_epoch=plan.steps_per_epoch,
        batches=plan.batches,
        valid=plan.valid,
        loss=ClassificationLoss(plan.y_train, len(labels), cfg),
        run_dir=run_dir,
        progress=progress,
        phases=phases_for(cfg, pretrained=plan.pretrained),  # on resume, the checkpoint's phases win
        resume=resume,
        desc=f"train {cfg.model}",
    )
    meta = {"best_epoch": result.best_epoch, "epochs_run": len(result.history), **plan.meta}
    trained = TrainedModel.from_torch(
        plan.model, cfg.model, plan.saved_kwargs, labels, plan.in_dim, plan.preprocessing, meta
    )
    return trained, result.history
