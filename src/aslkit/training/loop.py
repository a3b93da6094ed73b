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
ValidBatches = Callable[[], Iterable[tuple[Any, Any]]] | None  # the validation set as (x, y) batches


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


def forward(model, x):
    """Logits of a batch: sequence models take (features, mask), the others one tensor."""
    return model(*x) if isinstance(x, tuple) else model(x)


class ClassificationLoss:
    """The one loss every kind trains and validates with: cross-entropy, class-weighted by the training
    labels when the config says so, label smoothing in training only; an ensemble's logits (members x
    batch x classes) are scored member by member, and its answer is the members' mean probability."""

    def __init__(self, y_train, n_classes: int, cfg: TrainConfig) -> None:
        from torch import nn

        self.weight = class_weights(y_train.numpy(), n_classes) if cfg.class_weights else None
        self._train = nn.CrossEntropyLoss(weight=self.weight, label_smoothing=cfg.label_smoothing)
        self._sum = nn.CrossEntropyLoss(weight=self.weight, reduction="sum")
        self._plain = nn.CrossEntropyLoss(reduction="sum")  # for a valid side of classes the training side lacks

    def __call__(self, logits, y):
        """The training loss of a batch (mean over its samples, and over an ensemble's members)."""
        if logits.dim() == 3:  # ensemble: every member learns the labels
            return sum(self._train(m, y) for m in logits) / len(logits)
        return self._train(logits, y)

    def hits(self, logits, y) -> int:
        """How many of the batch's answers are right."""
        answer = logits.softmax(-1).mean(0) if logits.dim() == 3 else logits
        return int((answer.argmax(-1) == y).sum())

    def validate(self, model, batches: Iterable[tuple[Any, Any]]) -> tuple[float, float] | None:
        """(loss, accuracy) over validation batches, in eval mode; None without any. The loss is the
        class-weighted mean (sum of w[y] * loss / sum of w[y]), as cross-entropy's own mean reduction
        gives it, whatever the batching."""
        total, weight, plain, hits, n = 0.0, 0.0, 0.0, 0, 0
        for x, y in batches:
            logits = forward(model, x)
            members = logits if logits.dim() == 3 else logits[None]
            total += sum(float(self._sum(m, y)) for m in members) / len(members)
            plain += sum(float(self._plain(m, y)) for m in members) / len(members)
            weight += float(self.weight[y].sum()) if self.weight is not None else len(y)
            hits += self.hits(logits, y)
            n += len(y)
        if not n:
            return None
        # every valid example of a class the training side never had (weight 0): the plain mean, not 0 / 0
        return (total / weight if weight > 0 else plain / n, hits / n)


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


def _phase_index(phases: list[Phase], epoch: int) -> int:
    """The phase that ``epoch`` (1-based) trains in."""
    return max(i for i, p in enumerate(phases) if p.first_epoch <= epoch)


def _optimizer(model, cfg: TrainConfig, phases: list[Phase], pi: int, steps_per_epoch: int) -> tuple[Any, Any]:
    """A fresh AdamW and scheduler for phase ``pi``, after making its blocks trainable; OneCycle spans the phase."""
    import torch

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


@dataclass
class _LoopState:
    """Where the loop stands: its phases, history, best epoch so far, next epoch and current optimizer."""

    phases: list[Phase]
    history: list[dict[str, float]]
    best_loss: float
    best_epoch: int
    best_state: dict[str, Any] | None
    start: int
    pi: int = 0
    opt: Any = None
    sched: Any = None


def _start_state(
    model,
    cfg: TrainConfig,
    phases: list[Phase],
    steps_per_epoch: int,
    rng: np.random.Generator,
    resume: tuple[dict[str, Any], dict[str, Any]] | None,
) -> _LoopState:
    """A new run's first state, or a checkpoint's: weights, history, random states, optimizer and scheduler
    restored, so that the resumed run ends with exactly the weights of an uninterrupted one."""
    import torch

    if resume is None:
        st = _LoopState(phases, [], float("inf"), 0, None, 1)
        st.pi = _phase_index(phases, st.start)
        st.opt, st.sched = _optimizer(model, cfg, phases, st.pi, steps_per_epoch)
        return st
    state, tensors = resume
    phases = [Phase(**p) for p in state.get("phases", [])] or phases  # the run's own, as it began
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except RuntimeError:  # torch's many-line size mismatch: config.json's model is not the checkpoint's
        raise AslkitError("the checkpoint does not fit the model config.json describes (its options were "
                          "changed?); start a new run") from None  # fmt: skip
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    st = _LoopState(
        phases, list(state["history"]), float(state["best_loss"]), int(state["best_epoch"]), best or None, 0
    )
    st.start = int(state["epoch"]) + 1
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(tensors["torch_rng"])
    st.pi = _phase_index(phases, st.start - 1)
    st.opt, st.sched = _optimizer(model, cfg, phases, st.pi, steps_per_epoch)
    restore_optimizer(st.opt, tensors, state["optimizer"])
    st.sched.load_state_dict(state["scheduler"])
    if _phase_index(phases, st.start) != st.pi:  # the next epoch starts a new phase
        st.pi = _phase_index(phases, st.start)
        st.opt, st.sched = _optimizer(model, cfg, phases, st.pi, steps_per_epoch)
    return st


def _tensorboard(run_dir: Path | None):
    """A TensorBoard writer under run_dir/tb, or None (no run folder, or TensorBoard cannot start)."""
    if run_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(Path(run_dir) / "tb"))
    except Exception:  # noqa: BLE001 - logs are a convenience, never a reason to stop training
        return None


def _train_epoch(
    model,
    cfg: TrainConfig,
    st: _LoopState,
    batches: Callable[[int, np.random.Generator], Iterable[tuple[Any, Any]]],
    epoch: int,
    rng: np.random.Generator,
    loss: ClassificationLoss,
) -> tuple[float, int, int, float]:
    """One pass over ``batches(epoch, rng)``, clipping gradients and stepping the scheduler;
    returns (summed loss, hits, samples, the learning rate of its last step: the scheduler has moved on
    by the time the epoch is recorded, so its rate would be the next epoch's)."""
    from torch import nn

    model.train()
    tot, correct, n = 0.0, 0, 0
    lr = float(st.opt.param_groups[0]["lr"])
    for x, y in batches(epoch, rng):
        logits = forward(model, x)
        batch_loss = loss(logits, y)
        st.opt.zero_grad(set_to_none=True)
        batch_loss.backward()
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
        lr = float(st.opt.param_groups[0]["lr"])
        st.opt.step()
        if cfg.scheduler == "onecycle":
            st.sched.step()
        tot += batch_loss.item() * len(y)
        correct += loss.hits(logits.detach(), y)
        n += len(y)
    if cfg.scheduler == "step":
        st.sched.step()
    return tot, correct, n, lr


def _epoch_record(
    model, epoch: int, loss: ClassificationLoss, valid: ValidBatches, lr: float, tot: float, correct: int, n: int
) -> dict[str, float]:
    """The epoch's line of the history: training figures, validation (or training, without any) and the lr."""
    import torch

    model.eval()
    with torch.no_grad():
        val = loss.validate(model, valid()) if valid is not None else None
    vloss, vacc = val if val is not None else (tot / max(n, 1), correct / max(n, 1))
    return {
        "epoch": epoch,
        "train_loss": tot / max(n, 1),
        "train_acc": correct / max(n, 1),
        "val_loss": vloss,
        "val_acc": vacc,
        "lr": lr,
    }


def fit_loop(
    model,
    cfg: TrainConfig,
    *,
    steps_per_epoch: int,
    batches: Callable[[int, np.random.Generator], Iterable[tuple[Any, Any]]],
    valid: ValidBatches,
    loss: ClassificationLoss,
    run_dir: Path | None,
    progress: bool,
    phases: list[Phase],
    resume: tuple[dict[str, Any], dict[str, Any]] | None = None,
    desc: str = "train",
) -> LoopResult:
    """Train ``model`` in place for cfg.epochs (or until early stopping) and leave it holding the best
    (lowest validation loss) weights, in eval mode; returns the history and those weights.
    ``batches(epoch, rng)`` yields (x, y) for one epoch; ``valid()`` the validation set's (x, y) batches,
    scored with ``loss.validate`` (None: no validation set, the training figures stand in)."""
    from tqdm import tqdm

    rng = np.random.default_rng(cfg.seed)
    st = _start_state(model, cfg, phases, steps_per_epoch, rng, resume)
    writer = _tensorboard(run_dir)
    bar = tqdm(
        range(st.start, cfg.epochs + 1),
        desc=desc,
        unit="epoch",
        initial=st.start - 1,
        total=cfg.epochs,
        disable=not progress,
        file=sys.stderr,
        mininterval=0.5 if sys.stderr.isatty() else 15.0,  # logs and CI get a line every 15 s, not every epoch
    )
    stopped = st.start > 1 and st.start - st.best_epoch > cfg.patience
    for epoch in bar if not stopped else []:
        if _phase_index(st.phases, epoch) != st.pi:
            st.pi = _phase_index(st.phases, epoch)
            st.opt, st.sched = _optimizer(model, cfg, st.phases, st.pi, steps_per_epoch)
        tot, correct, n, lr = _train_epoch(model, cfg, st, batches, epoch, rng, loss)
        rec = _epoch_record(model, epoch, loss, valid, lr, tot, correct, n)
        st.history.append(rec)
        if writer is not None:
            for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
                writer.add_scalar(k, rec[k], epoch)
        vloss = rec["val_loss"]
        if vloss < st.best_loss - 1e-4:
            st.best_loss, st.best_epoch = vloss, epoch
            st.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val_loss=f"{vloss:.3f}", val_acc=f"{rec['val_acc']:.3f}")
        if run_dir is not None:
            _checkpoint(
                run_dir,
                epoch,
                model,
                st.best_state,
                st.opt,
                st.sched,
                rng,
                st.history,
                st.best_loss,
                st.best_epoch,
                st.phases,
            )
        if epoch - st.best_epoch >= cfg.patience:
            break
    bar.close()
    if writer is not None:
        writer.close()
    if st.best_state is not None:  # every caller saves the best epoch's weights, not the last epoch's
        model.load_state_dict(st.best_state)
    model.eval()
    return LoopResult(st.history, st.best_epoch, st.best_state)


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
