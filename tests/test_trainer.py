"""Training: config overrides, splits, fitting on synthetic landmarks, and a small real end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHAPES, link_subset, make_landmark_set, shared_dir, snapshot

from aslkit.config import TrainConfig, load_defaults
from aslkit.errors import AslkitError, DatasetError, ModelError
from aslkit.landmarks.features import feature_dim, featurize
from aslkit.landmarks.landmark_set import concat
from aslkit.models.io import load_model
from aslkit.training.landmark_fit import fit_landmark_model, preprocessing_spec
from aslkit.training.trainer import _split, train


# ---- configuration ------------------------------------------------------------------------------
def test_defaults_file_and_dataclass_agree() -> None:
    d = load_defaults()
    cfg = TrainConfig.from_defaults()
    for k, v in d["train"].items():
        assert getattr(cfg, k) == v, k
    for k, v in d["augment"].items():
        assert getattr(cfg.augment, k) == v, k


def test_overrides_and_unknown_option() -> None:
    cfg = TrainConfig.from_defaults(epochs=7, lr=0.01, rotate_deg=3, model="landmark-mlp-tiny", seed=None)
    assert cfg.epochs == 7 and cfg.lr == 0.01 and cfg.model == "landmark-mlp-tiny"
    assert cfg.augment.rotate_deg == 3.0 and isinstance(cfg.augment.rotate_deg, float)
    assert cfg.seed == TrainConfig.from_defaults().seed, "None means: keep the default"
    with pytest.raises(AslkitError, match="unknown training option --epoch ") as info:
        TrainConfig.from_defaults(epoch=3)
    assert "epochs" in str(info.value), "the message lists the valid options"


@pytest.mark.parametrize(("split", "expected"), [("0.7,0.2,0.1", (0.7, 0.2, 0.1)), ("0.8,0.2", (0.8, 0.2))])
def test_split_ratios(split: str, expected: tuple[float, ...]) -> None:
    assert TrainConfig.from_defaults(split=split).split_ratios() == expected


def test_bad_split_string() -> None:
    with pytest.raises(AslkitError, match="split must look like"):
        TrainConfig.from_defaults(split="70/30").split_ratios()


def test_split_uses_group_pattern() -> None:
    data = make_landmark_set(8)
    cfg = TrainConfig.from_defaults(group_pattern=r"hand(\d+)", holdout="2")
    tr, va, te = _split(data, cfg)
    groups = [Path(p).name.split("_")[0] for p in data.paths]
    assert {groups[i] for i in te} == {"hand2"}
    assert not {groups[i] for i in tr} & {"hand2"} and not {groups[i] for i in va} & {"hand2"}
    two = _split(data, TrainConfig.from_defaults(split="0.75,0.25"))
    assert len(two[2]) == 0 and len(two[0]) + len(two[1]) == len(data)


# ---- fitting on synthetic landmarks ----------------------------------------------------------------
def test_fit_separates_three_synthetic_classes(tmp_path: Path) -> None:
    train_set = concat([make_landmark_set(40, seed=1, no_hand=3)])  # no-hand samples must be ignored
    valid_set = make_landmark_set(20, seed=2)
    labels = sorted(SHAPES)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=30, batch_size=32, patience=100)
    model, history = fit_landmark_model(train_set, valid_set, labels, cfg, tmp_path / "run", progress=False)
    assert len(history) == 30 and [h["epoch"] for h in history] == list(range(1, 31))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert set(history[0]) >= {"train_loss", "train_acc", "val_loss", "val_acc", "lr"}
    probs = model.predict_proba(featurize(valid_set.pts))
    acc = float((np.array(labels)[probs.argmax(1)] == np.array(valid_set.labels)).mean())
    assert acc > 0.9, acc
    assert model.labels == labels and model.in_features == feature_dim()
    assert model.architecture == "landmark-mlp-tiny" and model.preprocessing == preprocessing_spec("auto")
    assert 1 <= model.meta["best_epoch"] <= 30 and model.meta["epochs_run"] == 30
    events = list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0, "TensorBoard logs are written"


def test_fit_is_deterministic_for_a_seed() -> None:
    data = make_landmark_set(10, seed=3)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=3, batch_size=16, seed=5)
    a, _ = fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)
    b, _ = fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)
    for k in a.tensors:
        np.testing.assert_array_equal(a.tensors[k], b.tensors[k])


def test_history_records_the_learning_rate_each_epoch_used() -> None:
    """Recorded after the scheduler had stepped, an epoch's rate was the next one's (and OneCycle's last climbed)."""
    data = make_landmark_set(10, seed=3)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=3, batch_size=64, lr=0.01, patience=100,
                                    scheduler="step", step_size=1, gamma=0.5)  # fmt: skip
    _, history = fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)
    assert [h["lr"] for h in history] == pytest.approx([0.01, 0.005, 0.0025])
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=6, batch_size=16, scheduler="onecycle")
    _, history = fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)
    tail = [h["lr"] for h in history][2:]
    assert tail == sorted(tail, reverse=True), "OneCycle anneals to the end"


def test_early_stopping() -> None:
    data = make_landmark_set(10, seed=4)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=200, batch_size=64, patience=3, lr=1e-6)
    _, history = fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)
    assert len(history) < 200


def test_fit_without_any_hand_is_a_clear_error() -> None:
    data = make_landmark_set(0, no_hand=3)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=1)
    with pytest.raises(DatasetError, match="no hand was found"):
        fit_landmark_model(data, data, sorted(SHAPES), cfg, progress=False)


# ---- train(): errors before any work -------------------------------------------------------------
def _tiny_folder(root: Path) -> Path:
    from PIL import Image

    for lab in ("A", "B"):
        (root / lab).mkdir(parents=True)
        Image.new("RGB", (32, 32)).save(root / lab / "x.png")
    return root


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"model": "nope"}, ModelError, "unknown model architecture 'nope'"),
        ({"epochz": 3}, AslkitError, "unknown training option --epochz "),
    ],
)
def test_train_rejects_bad_options_before_doing_anything(tmp_path: Path, kwargs: dict, err: type, match: str) -> None:
    data = _tiny_folder(tmp_path / "data")
    before = snapshot(data)
    with pytest.raises(err, match=match):
        train(data, tmp_path / "out", cache_dir=tmp_path / "cache", progress=False, **kwargs)
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
    assert snapshot(data) == before


def test_train_refuses_to_overwrite_a_model(tmp_path: Path, synthetic_model_dir: Path) -> None:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(synthetic_model_dir, out)
    before = snapshot(out)
    with pytest.raises(AslkitError, match="already holds a trained model"):
        train(_tiny_folder(tmp_path / "data"), out, cache_dir=None, progress=False)
    assert snapshot(out) == before


@pytest.mark.parametrize("which", ["missing", "empty", "no-class-folders"])
def test_train_on_bad_data_folder(tmp_path: Path, which: str) -> None:
    from PIL import Image

    data = tmp_path / "data"
    if which != "missing":
        data.mkdir()
    if which == "no-class-folders":
        Image.new("RGB", (32, 32)).save(data / "a.jpg")
    with pytest.raises(DatasetError):
        train(data, tmp_path / "out", cache_dir=tmp_path / "cache", progress=False)
    assert not (tmp_path / "out").exists()


# ---- train(): a small real run ---------------------------------------------------------------------
REAL_CLASSES = {"B": "B", "L": "L", "V": "V"}


@pytest.fixture
def real_subset(tmp_path: Path) -> Path:
    """8 photos per class of B, L, V from ../shared/data, as symlinks (nothing is copied)."""
    return link_subset(tmp_path / "photos", shared_dir("asl-alphabet-photos"), REAL_CLASSES, per_class=8)


def test_train_end_to_end_on_a_real_subset(real_subset: Path, tmp_path: Path, real_cache: Path) -> None:
    from aslkit.inference.recognizer import Recognizer

    before = snapshot(real_subset)
    out = tmp_path / "run"
    res = train(
        real_subset, out, model="landmark-mlp-tiny", cache_dir=real_cache, progress=False, epochs=5, command="pytest"
    )
    assert snapshot(real_subset) == before, "the data folder is only read"
    for name in (
        "config.json",
        "model.safetensors",
        "model.json",
        "metrics.json",
        "history.json",
        "curves.png",
        "confusion_matrix.png",
        "report.md",
    ):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert any((out / "tb").iterdir())
    assert (real_cache / "landmarks.sqlite").is_file()

    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == ["B", "L", "V"] and config["train"]["epochs"] == 5
    assert config["train"]["model"] == "landmark-mlp-tiny" and config["command"] == "pytest"
    assert sum(config["split_sizes"].values()) == 24 and config["counts"] == {"B": 8, "L": 8, "V": 8}
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"train", "valid", "test", "detection_rate_all", "unreadable", "best_epoch"}
    assert metrics["unreadable"] == 0 and metrics["detection_rate_all"] > 0.9
    assert metrics["test"]["n"] == config["split_sizes"]["test"]
    assert len(json.loads((out / "history.json").read_text())) <= 5
    assert "confusion_matrix.png" in (out / "report.md").read_text()

    model = load_model(out)
    assert model.labels == ["B", "L", "V"] and res.model.labels == model.labels
    rec = Recognizer(out, cache_dir=None)
    try:
        pred = rec.predict(next((real_subset / "L").iterdir()))
    finally:
        rec.close()
    assert pred.hand and pred.label in {"B", "L", "V"}
    assert 0 < pred.confidence <= 1 and pred.top[0] == (pred.label, pred.confidence)
    assert sorted(lab for lab, _ in pred.top) == ["B", "L", "V"]


# ---- fine-tuning a letter model --------------------------------------------------------------------
def _landmark_npz(path: Path, classes: dict[str, tuple[bool, ...]], seed: int, shift: float = 0.0) -> Path:
    """Synthetic hands as a landmark .npz (image fractions, each row's handedness), like frames.npz."""
    s = make_landmark_set(12, seed=seed, shapes=classes)
    lm = s.pts / np.float32(224) + np.float32(shift)
    np.savez(path, landmarks=lm, label=np.array(s.labels), handedness=np.array(["Left"] * len(lm)))
    return path


def test_a_letter_model_is_fine_tuned_from_its_own_weights_and_input_scale(tmp_path: Path, capsys) -> None:
    from aslkit.cli import main

    two = {k: SHAPES[k] for k in ("B", "L")}
    kw = {"model_kwargs": {"hidden": 24, "members": 2}, "progress": False, "seed": 0}
    base = train(_landmark_npz(tmp_path / "base.npz", two, 1), out=tmp_path / "base", model="landmark-mlp", epochs=3,
                 **kw).model  # fmt: skip
    mine = _landmark_npz(tmp_path / "mine.npz", SHAPES, 2)
    # a tiny learning rate: what the fine-tuned network holds is what it started from
    argv = ["train", str(mine), "--model", str(tmp_path / "base"), "--finetune", "--out", str(tmp_path / "ft"),
            "--epochs", "1", "--lr", "1e-12", "-q"]  # fmt: skip
    assert main(argv) == 0
    ft = load_model(tmp_path / "ft")
    assert ft.labels == ["B", "L", "V"] and ft.architecture == "landmark-mlp" and ft.kwargs["members"] == 2
    for name in ("feature_mean", "feature_std", "members.0.net.0.weight", "members.1.net.4.weight"):
        assert np.allclose(ft.tensors[name], base.tensors[name], atol=1e-6), f"{name}: the model started from"
    for m in range(2):  # every member keeps B's and L's outputs; V, new, gets a fresh one
        w_ft, w_base = ft.tensors[f"members.{m}.net.8.weight"], base.tensors[f"members.{m}.net.8.weight"]
        assert np.allclose(w_ft[:2], w_base, atol=1e-6)
        assert not any(np.allclose(w_ft[2], row, atol=1e-5) for row in w_base)
    scratch = train(mine, out=tmp_path / "scratch", model="landmark-mlp", epochs=1, lr=1e-12, **kw).model
    assert not np.allclose(scratch.tensors["feature_mean"], base.tensors["feature_mean"], atol=1e-3), (
        "a run from scratch standardizes on its own photos; the fine-tuned one kept the trained model's scale"
    )
    capsys.readouterr()
    assert main(["train", str(mine), "--model", "words", "--finetune", "--out", str(tmp_path / "x"), "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_run_with_nothing_left_to_validate_says_so(tmp_path: Path) -> None:
    """One example per class (a quick personal fine-tune): all are trained on, so no accuracy is claimed."""
    from aslkit.training.trainer import train_text

    s = make_landmark_set(1, seed=3)
    np.savez(tmp_path / "one.npz", landmarks=s.pts / np.float32(224), label=np.array(s.labels),
             handedness=np.array(["Left"] * len(s.pts)))  # fmt: skip
    res = train(tmp_path / "one.npz", out=tmp_path / "run", model="landmark-mlp-tiny", epochs=2, progress=False)
    assert res.metrics["valid"]["n"] == 0
    text = train_text(res)
    assert "none measured (the valid side holds no examples)" in text and "0.00%" not in text
