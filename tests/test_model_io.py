"""Trained models on disk: safetensors + JSON, found by name, run folder or file; bad ones give ModelError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SHIPPED_LETTERS, SYNTH_LABELS

from aslkit.errors import AslkitError, ModelError
from aslkit.landmarks.features import feature_dim
from aslkit.models.io import DEFAULT_MODEL, FORMAT, load_model, resolve_model_path, shipped_models


@pytest.fixture
def run_copy(synthetic_model_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "run"
    shutil.copytree(synthetic_model_dir, d)
    return d


def test_found_by_folder_json_or_weights_path(run_copy: Path) -> None:
    for ref in (run_copy, run_copy / "model.json", run_copy / "model.safetensors", str(run_copy)):
        assert resolve_model_path(ref) == run_copy / "model.json"
    m = load_model(run_copy)
    assert m.labels == sorted(SYNTH_LABELS) and m.in_features == feature_dim()
    assert m.source == str(run_copy / "model.json")
    assert m.preprocessing["input"] == "hand-landmarks"


def test_predict_proba_shapes_and_feature_check(run_copy: Path) -> None:
    m = load_model(run_copy)
    x = np.zeros((3, feature_dim()), np.float32)
    p = m.predict_proba(x)
    assert p.shape == (3, len(SYNTH_LABELS))
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)
    assert m.predict_proba(x[0]).shape == (1, len(SYNTH_LABELS)), "a single vector is a batch of one"
    with pytest.raises(ModelError, match=f"expects {feature_dim()} features, got 7"):
        m.predict_proba(np.zeros((2, 7), np.float32))


def test_save_is_atomic_and_leaves_no_temp_files(run_copy: Path, tmp_path: Path) -> None:
    m = load_model(run_copy)
    out = tmp_path / "again"
    m.save(out, "model")
    m.save(out, "model")  # overwriting is fine
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.safetensors"]
    assert json.loads((out / "model.json").read_text())["format"] == FORMAT
    m2 = load_model(out)
    x = np.random.default_rng(0).normal(size=(4, feature_dim())).astype(np.float32)
    np.testing.assert_allclose(m2.predict_proba(x), m.predict_proba(x), atol=1e-6)


@pytest.mark.parametrize("ref", ["no-such-model", "runs/never-trained"])
def test_unknown_name_or_path(ref: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as info:
        load_model(ref)
    msg = str(info.value)
    assert ref in msg and "not found" in msg and "\n" not in msg
    assert isinstance(info.value, AslkitError)


def test_folder_without_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model.json"):
        load_model(tmp_path)


def _break(run: Path, what: str) -> None:
    spec = json.loads((run / "model.json").read_text())
    if what == "json-syntax":
        (run / "model.json").write_text("{not json")
    elif what == "wrong-format":
        (run / "model.json").write_text(json.dumps({"format": "something-else"}))
    elif what == "not-a-dict":
        (run / "model.json").write_text("[1, 2, 3]")
    elif what == "missing-field":
        del spec["labels"]
        (run / "model.json").write_text(json.dumps(spec))
    elif what == "unknown-architecture":
        spec["architecture"] = "no-such-arch"
        (run / "model.json").write_text(json.dumps(spec))
    elif what == "weights-missing":
        (run / "model.safetensors").unlink()
    elif what == "weights-garbage":
        (run / "model.safetensors").write_bytes(b"\x80\x04garbage that is not safetensors")
    elif what == "weights-empty":
        (run / "model.safetensors").write_bytes(b"")


@pytest.mark.parametrize(
    ("what", "match"),
    [
        ("json-syntax", "cannot read model description"),
        ("wrong-format", "not an aslkit model"),
        ("not-a-dict", "not an aslkit model"),
        ("missing-field", "missing field 'labels'"),
        ("unknown-architecture", "unknown model architecture"),
        ("weights-missing", "cannot read weights"),
        ("weights-garbage", "cannot read weights"),
        ("weights-empty", "cannot read weights"),
    ],
)
def test_broken_model_files_give_model_error(run_copy: Path, what: str, match: str) -> None:
    _break(run_copy, what)
    with pytest.raises(ModelError, match=match) as info:
        load_model(run_copy / "model.json")
    assert "\n" not in str(info.value)


def test_shipped_models_need_both_files() -> None:
    shipped = shipped_models()
    for name, jpath in shipped.items():
        assert jpath.name == f"{name}.json" and jpath.with_suffix(".safetensors").is_file()


def test_shipped_letters_model() -> None:
    if not SHIPPED_LETTERS.is_file():
        pytest.skip("no shipped weights yet: src/aslkit/weights/letters.json is absent")
    assert DEFAULT_MODEL in shipped_models()
    m = load_model()  # the default
    assert m.source == str(SHIPPED_LETTERS.resolve()) or Path(m.source).name == "letters.json"
    assert m.in_features == feature_dim(), "shipped weights match the current feature set"
    assert {"A", "B", "Nothing"} <= set(m.labels)
    p = m.predict_proba(np.zeros((1, feature_dim()), np.float32))
    assert p.shape == (1, len(m.labels)) and np.isfinite(p).all()
