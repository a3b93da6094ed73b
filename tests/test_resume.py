"""Checkpoints and --resume: a run killed mid-epoch resumes from its last complete epoch and ends
with exactly the weights an uninterrupted run gets; damaged or finished runs give clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_shapes_npz
from safetensors.numpy import load_file

from aslkit import cli
from aslkit.errors import AslkitError
from aslkit.training import landmark_fit
from aslkit.training.trainer import train

OPTS = {"model": "landmark-mlp-tiny", "epochs": 7, "patience": 100, "batch_size": 16, "split": "0.8,0.2"}


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw landmark rows (image fractions) of three synthetic hand shapes."""
    return write_shapes_npz(tmp_path_factory.mktemp("lm") / "hands.npz", per_class=30, seed=3)


@pytest.fixture(scope="module")
def reference(npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    train(npz, out, progress=False, **OPTS)
    return out


def _interrupt_at_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Kill training in the middle of ``epoch`` (when its batches are being made)."""
    real = landmark_fit.augment
    calls = {"n": 0}

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(landmark_fit, "augment", dying)


def test_killed_run_resumes_to_the_same_weights(npz: Path, reference: Path, tmp_path: Path, monkeypatch) -> None:
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 4)
        with pytest.raises(KeyboardInterrupt):
            train(npz, run, progress=False, **OPTS)
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 3, "the last complete epoch"
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3]
    assert sorted(p.name for p in (run / "checkpoint").iterdir()) == ["epoch-0003.safetensors", "state.json"]
    assert not (run / "model.json").exists()

    code = cli.main(["train", "--resume", str(run), "-q"])
    assert code == 0
    got, ref = load_file(str(run / "model.safetensors")), load_file(str(reference / "model.safetensors"))
    assert set(got) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    hist = json.loads((run / "history.json").read_text())
    ref_hist = json.loads((reference / "history.json").read_text())
    assert [h["epoch"] for h in hist] == list(range(1, OPTS["epochs"] + 1))
    for h, r in zip(hist, ref_hist, strict=True):
        assert h == pytest.approx(r), h["epoch"]
    assert json.loads((run / "metrics.json").read_text())["resumed_after_epoch"] == 3
    assert not (run / "checkpoint").exists(), "a finished run drops its checkpoint"


def test_resume_errors(npz: Path, reference: Path, tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(AslkitError, match="already finished"):
        train(None, resume=reference)
    with pytest.raises(AslkitError, match="not a run folder"):
        train(None, resume=tmp_path)
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 3)
        with pytest.raises(KeyboardInterrupt):
            train(npz, run, progress=False, **OPTS)
    with pytest.raises(AslkitError, match="give nothing else"):
        train(None, resume=run, epochs=3)
    tensors = next((run / "checkpoint").glob("epoch-*.safetensors"))
    tensors.write_bytes(tensors.read_bytes()[:100])
    with pytest.raises(AslkitError, match="damaged"):
        train(None, resume=run)
    assert cli.main(["train", "--resume", str(run), "-q"]) == 1


def test_resume_of_a_hand_edited_config_is_one_line(npz: Path, tmp_path: Path, monkeypatch) -> None:
    """data_resolved as a string was read letter by letter: "/" became a photo set, 29,233 images, 18 minutes;
    other model options gave torch's many-line size mismatch (exit 3)."""
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 3)
        with pytest.raises(KeyboardInterrupt):
            train(npz, run, progress=False, **OPTS)
    config = json.loads((run / "config.json").read_text())
    for key, value, why in (("data_resolved", str(npz), "data must be a list of paths"),
                            ("data_resolved", [""], "data must be a list of paths")):  # fmt: skip
        (run / "config.json").write_text(json.dumps({**config, key: value}))
        with pytest.raises(AslkitError, match=why):
            train(None, resume=run)
    (run / "config.json").write_text(
        json.dumps({**config, "train": {**config["train"], "model_kwargs": {"hidden": 40}}})
    )
    with pytest.raises(AslkitError, match="the checkpoint does not fit the model config.json describes"):
        train(None, resume=run)


def test_the_default_run_folder_is_never_made_in_a_read_only_folder(npz: Path, tmp_path: Path, monkeypatch) -> None:
    """runs/train/exp was created in a read-only current folder (as root), where --out is refused."""
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o555)
    monkeypatch.chdir(home)
    with pytest.raises(AslkitError, match="the default run folder runs/train/exp is inside the read-only folder"):
        train(npz, progress=False, **OPTS)
    assert list(home.iterdir()) == []


def test_resume_refuses_data_that_changed(tmp_path: Path, monkeypatch, capsys) -> None:
    """A file added or removed since the run began would give another split (or other classes) without a word."""
    data = write_shapes_npz(tmp_path / "hands.npz", per_class=30, seed=3)
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _interrupt_at_epoch(m, 3)
        with pytest.raises(KeyboardInterrupt):
            train(data, run, progress=False, **OPTS)
    write_shapes_npz(data, per_class=28, seed=3)  # two examples of each class fewer
    assert cli.main(["train", "--resume", str(run), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the data changed since" in err[0] and "examples per class" in err[0], err
    assert (run / "checkpoint").is_dir() and not (run / "model.json").exists(), "the run is kept as it was"
    write_shapes_npz(data, per_class=30, seed=3)  # as it was: the run goes on
    assert cli.main(["train", "--resume", str(run), "-q"]) == 0


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash while writing the next epoch leaves the previous epoch's pair readable."""
    import torch

    from aslkit import outputs
    from aslkit.training.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, 1, {"w": torch.ones(3)}, {"history": [1]})

    def crash(path, data):
        raise OSError("disk full")

    monkeypatch.setattr("aslkit.training.checkpoint.atomic_write", crash)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, 2, {"w": torch.zeros(3)}, {"history": [1, 2]})
    monkeypatch.setattr("aslkit.training.checkpoint.atomic_write", outputs.atomic_write)
    state, tensors = load_checkpoint(tmp_path)
    assert state["epoch"] == 1 and state["history"] == [1]
    assert tensors["w"].tolist() == [1.0, 1.0, 1.0]
