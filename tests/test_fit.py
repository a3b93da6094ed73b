"""The one fit: one loss for every kind, and one skeleton that every kind's plan goes through."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import write_shapes_npz

from aslkit.config import TrainConfig
from aslkit.kinds import InputKind
from aslkit.training import trainer
from aslkit.training.fit import FitPlan
from aslkit.training.loop import ClassificationLoss


def _logits_and_labels(seed: int = 0, n: int = 37, classes: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor([0] * 20 + [1] * 10 + [2] * 4 + [3] * 2 + [4] * 1)[:n]
    return torch.randn(n, classes, generator=g) * 3, y


class _Fixed(torch.nn.Module):
    """A 'model' that returns the logits it is given (as its input)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.parametrize("weighted", [True, False])
def test_validation_loss_is_the_weighted_mean_whatever_the_batching(weighted: bool) -> None:
    logits, y = _logits_and_labels()
    loss = ClassificationLoss(y, 5, TrainConfig.from_defaults(class_weights=weighted, label_smoothing=0.1))
    w = loss.weight if weighted else None
    expected = float(torch.nn.functional.cross_entropy(logits, y, weight=w))  # mean reduction, no smoothing
    whole, acc = loss.validate(_Fixed(), [(logits, y)])
    chunked, acc2 = loss.validate(_Fixed(), [(logits[i : i + 4], y[i : i + 4]) for i in range(0, len(y), 4)])
    assert whole == pytest.approx(expected, rel=1e-5) and chunked == pytest.approx(expected, rel=1e-5)
    assert acc == acc2 == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    if weighted:  # the rare classes weigh more: a plain per-sample mean would differ
        assert whole != pytest.approx(float(torch.nn.functional.cross_entropy(logits, y)), rel=1e-3)


def test_a_valid_side_of_only_classes_the_training_side_lacks() -> None:
    """Their class weight is 0, so the weighted mean was 0 / 0: a ZeroDivisionError (a box set whose one
    F photo went to the valid side, the other F unreadable)."""
    logits, _ = _logits_and_labels()
    y_train = torch.tensor([0, 0, 1, 1])  # classes 2-4 never trained on: weight 0
    loss = ClassificationLoss(y_train, 5, TrainConfig.from_defaults(class_weights=True))
    assert float(loss.weight[4]) == 0.0
    y = torch.tensor([4, 4])
    v, acc = loss.validate(_Fixed(), [(logits[:2], y)])
    assert v == pytest.approx(float(torch.nn.functional.cross_entropy(logits[:2], y)), rel=1e-5) and v > 0
    assert acc == float((logits[:2].argmax(1) == y).float().mean())


def test_validation_without_batches_is_none() -> None:
    _, y = _logits_and_labels()
    assert ClassificationLoss(y, 5, TrainConfig.from_defaults()).validate(_Fixed(), []) is None


def test_an_ensemble_learns_per_member_and_answers_with_the_mean_probability() -> None:
    a, y = _logits_and_labels(1)
    b, _ = _logits_and_labels(2)
    loss = ClassificationLoss(y, 5, TrainConfig.from_defaults())
    both = torch.stack([a, b])
    assert float(loss(both, y)) == pytest.approx((float(loss(a, y)) + float(loss(b, y))) / 2, rel=1e-6)
    mean_answer = (a.softmax(-1) + b.softmax(-1)).argmax(-1)
    assert loss.hits(both, y) == int((mean_answer == y).sum())
    v, _ = loss.validate(_Fixed(), [(both, y)])
    v_a, _ = loss.validate(_Fixed(), [(a, y)])
    v_b, _ = loss.validate(_Fixed(), [(b, y)])
    assert v == pytest.approx((v_a + v_b) / 2, rel=1e-6)


@pytest.mark.parametrize("kind", list(trainer.TRAINERS))
def test_every_kind_trains_through_its_plan(kind: InputKind, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """train() has no per-kind fit: each row of the task table gives a plan, and the one fit_model runs it."""
    row = trainer.TRAINERS[kind]
    seen: list[FitPlan] = []

    def plan(*a, **kw):
        seen.append(row.plan(*a, **kw))
        return seen[-1]

    monkeypatch.setitem(trainer.TRAINERS, kind, dataclasses.replace(row, plan=plan))
    data, model = _tiny_data(kind, tmp_path)
    opts = {"epochs": 2, "patience": 10, "image_size": 24} if kind is InputKind.IMAGE else {"epochs": 2, "patience": 10}
    res = trainer.train(data, tmp_path / "run", model=model, progress=False, cache_dir=None, **opts)
    assert len(seen) == 1 and isinstance(seen[0], FitPlan)
    assert res.model.meta["epochs_run"] == 2 and res.model.architecture == model
    assert res.model.preprocessing == seen[0].preprocessing


def _tiny_data(kind: InputKind, tmp_path) -> tuple[str, str]:
    """A few samples of three classes, as the kind reads them, and a small registered model for it."""
    if kind is InputKind.LANDMARKS:
        return str(write_shapes_npz(tmp_path / "hands.npz", per_class=10)), "landmark-mlp-tiny"
    if kind is InputKind.IMAGE:
        from PIL import Image

        rng = np.random.default_rng(0)
        for c, lab in enumerate("ABC"):
            (tmp_path / "img" / lab).mkdir(parents=True)
            for i in range(6):
                Image.fromarray((rng.random((24, 24, 3)) * 60 + 60 * c).astype(np.uint8)).save(
                    tmp_path / "img" / lab / f"{i}.png"
                )
        return str(tmp_path / "img"), "cnn-small"
    rng = np.random.default_rng(0)
    clips = rng.normal(0.5, 0.05, size=(24, 8, 126)).astype(np.float16)
    labels, signers = np.array(["hello", "no", "yes"] * 8), np.array(["s1", "s2", "s3", "s4"] * 6)
    np.savez(tmp_path / "clips.npz", sequences=clips, label=labels, signer=signers)
    return str(tmp_path / "clips.npz"), "seq-tcn"


def test_omp_num_threads_caps_training_threads(monkeypatch) -> None:
    """On a shared machine OMP_NUM_THREADS=1 must hold: two trainings each spinning a thread per core ran
    ten times slower than one after the other."""
    from aslkit.training.fit import _env_threads

    for value, want in (("1", 1), ("3", 3), (" 2 ", 2), ("0", None), ("two", None), ("", None)):
        monkeypatch.setenv("OMP_NUM_THREADS", value)
        assert _env_threads() == want
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _env_threads() is None
