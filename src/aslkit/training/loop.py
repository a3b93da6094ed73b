"""The one epoch loop every model trains with: AdamW, OneCycle or StepLR, class-weighted loss,
gradient clipping, early stopping on validation loss, phases (train the head, then unfreeze),
TensorBoard, a progress bar, and a checkpoint after every epoch that ``--resume`` continues from.

What differs between model kinds (how a batch is made and augmented, how logits become a loss)
comes in as functions, so landmark MLPs and image CNNs share the schedule, the stopping rule and
the checkpoint format.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.errors import AslkitError
from aslkit.training.checkpoint import optimizer_state, restore_optimizer, save_checkpoint

SCHEDULERS = ("onecycle", "step")


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def class_weights(y: np.ndarray, n_classes: int):
    """Inverse-frequency loss weights (mean 1 over the classes present; 0 for absent classes)."""
    import torch

    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def classification_losses(y_train, n_classes: int, cfg: TrainConfig):
    """(training loss with label smoothing, summed validation loss), both class-weighted when the
    config says so, with weights from the training labels."""
    from torch import nn

    weight = class_weights(y_train.numpy(), n_classes) if cfg.class_weights else None
    return (
        nn.CrossEntropyLoss(weight=weight, label_smoothing=cfg.label_smoothing),
        nn.CrossEntropyLoss(weight=weight, reduction="sum"),
    )


def argmax_hits(logits, y) -> int:
    return int((logits.argmax(-1) == y).sum())


@dataclass(frozen=True)
class Phase:
    """From ``first_epoch`` (1-based) on: ``trainable`` backbone blocks (None: leave the model as
    it is; see ImageClassifier.set_trainable) at peak learning rate ``lr``."""

    first_epoch: int
    trainable: int | None
    lr: float


def phases_for(cfg: TrainConfig, pretrained: bool) -> list[Phase]:
    """One phase, or for a pretrained backbone with freeze_epochs: head only, then unfreeze."""
    if cfg.scheduler not in SCHEDULERS:
        raise AslkitError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {cfg.scheduler!r}")
    if pretrained and 0 < cfg.freeze_epochs < cfg.epochs:
        return [Phase(1, 0, cfg.lr), Phase(cfg.freeze_epochs + 1, cfg.unfreeze_blocks, cfg.lr * cfg.finetune_lr_scale)]
    return [Phase(1, None, cfg.lr)]


@dataclass
class LoopResult:
    history: list[dict[str, float]]
    best_epoch: int
    best_state: dict[str, Any] | None


def fit_loop(
    model,
    cfg: TrainConfig,
    *,
    steps_per_epoch: int,
    batches: Callable[[int, np.random.Generator], Iterable[tuple[Any, Any]]],
    validate: Callable[[], tuple[float, float] | None],
    loss_fn: Callable[[Any, Any], Any],
    accuracy_hits: Callable[[Any, Any], int] = argmax_hits,
    run_dir: Path | None,
    progress: bool,
    phases: list[Phase],
    resume: tuple[dict[str, Any], dict[str, Any]] | None = None,
    desc: str = "train",
) -> LoopResult:
    """Train ``model`` in place for cfg.epochs (or until early stopping) and leave it holding the best
    (lowest validation loss) weights, in eval mode; returns the history and those weights.
    ``batches(epoch, rng)`` yields (x, y) for one epoch;
    ``validate()`` returns (val_loss, val_acc) in eval mode, or None to use training figures."""
    import torch
    from torch import nn
    from tqdm import tqdm

    rng = np.random.default_rng(cfg.seed)
    history: list[dict[str, float]] = []
    best_loss, best_epoch, best_state = float("inf"), 0, None
    start = 1

    def phase_at(epoch: int) -> int:
        return max(i for i, p in enumerate(phases) if p.first_epoch <= epoch)

    def build(pi: int):
        ph = phases[pi]
        if ph.trainable is not None:
            model.set_trainable(ph.trainable)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=ph.lr, weight_decay=cfg.weight_decay)
        end = phases[pi + 1].first_epoch - 1 if pi + 1 < len(phases) else cfg.epochs
        if cfg.scheduler == "onecycle":
            total = max(1, (end - ph.first_epoch + 1) * steps_per_epoch)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=ph.lr, total_steps=total, pct_start=0.15)
        else:
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
        return opt, sched

    if resume is not None:
        state, tensors = resume
        phases = [Phase(**p) for p in state.get("phases", [])] or phases  # the run's own, as it began
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        best_state = best or None
        history = list(state["history"])
        best_loss, best_epoch = float(state["best_loss"]), int(state["best_epoch"])
        start = int(state["epoch"]) + 1
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(tensors["torch_rng"])
        pi = phase_at(start - 1)
        opt, sched = build(pi)
        restore_optimizer(opt, tensors, state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if phase_at(start) != pi:  # the next epoch starts a new phase
            pi = phase_at(start)
            opt, sched = build(pi)
    else:
        pi = phase_at(start)
        opt, sched = build(pi)

    writer = None
    if run_dir is not None:
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(Path(run_dir) / "tb"))
        except Exception:  # noqa: BLE001 - logs are a convenience, never a reason to stop training
            writer = None
    bar = tqdm(
        range(start, cfg.epochs + 1),
        desc=desc,
        unit="epoch",
        initial=start - 1,
        total=cfg.epochs,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5 if sys.stderr.isatty() else 15.0,  # logs and CI get a line every 15 s, not every epoch
    )
    stopped = start > 1 and start - best_epoch > cfg.patience
    for epoch in bar if not stopped else []:
        if phase_at(epoch) != pi:
            pi = phase_at(epoch)
            opt, sched = build(pi)
        model.train()
        tot, correct, n = 0.0, 0, 0
        for x, y in batches(epoch, rng):
            logits = model(*x) if isinstance(x, tuple) else model(x)  # sequence models take (x, mask)
            loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
            opt.step()
            if cfg.scheduler == "onecycle":
                sched.step()
            tot += loss.item() * len(y)
            correct += accuracy_hits(logits.detach(), y)
            n += len(y)
        if cfg.scheduler == "step":
            sched.step()
        model.eval()
        with torch.no_grad():
            val = validate()
        vloss, vacc = val if val is not None else (tot / max(n, 1), correct / max(n, 1))
        rec = {
            "epoch": epoch,
            "train_loss": tot / max(n, 1),
            "train_acc": correct / max(n, 1),
            "val_loss": vloss,
            "val_acc": vacc,
            "lr": sched.get_last_lr()[0],
        }
        history.append(rec)
        if writer is not None:
            for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
                writer.add_scalar(k, rec[k], epoch)
        if vloss < best_loss - 1e-4:
            best_loss, best_epoch = vloss, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val_loss=f"{vloss:.3f}", val_acc=f"{vacc:.3f}")
        if run_dir is not None:
            _checkpoint(run_dir, epoch, model, best_state, opt, sched, rng, history, best_loss, best_epoch, phases)
        if epoch - best_epoch >= cfg.patience:
            break
    bar.close()
    if writer is not None:
        writer.close()
    if best_state is not None:  # every caller saves the best epoch's weights, not the last epoch's
        model.load_state_dict(best_state)
    model.eval()
    return LoopResult(history, best_epoch, best_state)


def _checkpoint(run_dir, epoch, model, best_state, opt, sched, rng, history, best_loss, best_epoch, phases) -> None:
    import torch

    tensors: dict[str, Any] = {f"model.{k}": v for k, v in model.state_dict().items()}
    if best_state is not None:
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
    opt_tensors, opt_meta = optimizer_state(opt)
    tensors.update(opt_tensors)
    tensors["torch_rng"] = torch.get_rng_state()
    state = {
        "history": history,
        "best_loss": best_loss if np.isfinite(best_loss) else 1e30,
        "best_epoch": best_epoch,
        "numpy_rng": rng.bit_generator.state,
        "optimizer": opt_meta,
        "scheduler": sched.state_dict(),
        "phases": [asdict(p) for p in phases],
    }
    save_checkpoint(run_dir, epoch, tensors, state)
