"""ONNX export of every registered model (parity with torch, metadata, free batch axis), the onnxruntime
backend giving the same answers as torch in predict, evaluate, signs and live, and `aslkit export`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import link_subset, shared_dir

from aslkit.cli import main
from aslkit.export.onnx import (
    TOLERANCE,
    OnnxRunner,
    cached_export,
    check_parity,
    example_inputs,
    export_onnx,
)
from aslkit.inference.inputs import real_inputs
from aslkit.landmarks.features import feature_dim
from aslkit.models import create_model, get_model_info, list_models
from aslkit.models.io import TrainedModel, load_model

pytest.importorskip("onnxruntime")
LABELS = ["A", "B", "C", "D", "E"]


def _tiny(name: str) -> TrainedModel:
    """A registered architecture, small and random (image models as in test_image_models)."""
    import torch
    from test_image_models import _test_kwargs

    torch.manual_seed(0)
    kind = get_model_info(name).input
    if kind == "hand-landmarks":
        kw, feat, pre = {}, feature_dim(), {"input": "hand-landmarks"}
    elif kind == "sequence":
        kw, feat, pre = {}, 126, {"input": "sequence", "length": 12, "layout": "hands"}
    else:
        kw = _test_kwargs(name)
        feat, pre = 3, {"input": "image", "size": int(kw.get("image_size", 64)), "crop": "none"}
    module = create_model(name, feat, len(LABELS), **kw).eval()
    return TrainedModel.from_torch(module, name, kw, LABELS, feat, pre)


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_exports_with_parity(name: str, tmp_path: Path) -> None:
    model = _tiny(name)
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    parity = check_parity(model, path)
    assert parity.ok, parity.to_json()
    assert parity.max_abs_logit_diff <= TOLERANCE and parity.top1_agreement == 1.0
    runner = OnnxRunner(path)
    meta = runner.metadata
    assert json.loads(meta["labels"]) == LABELS and json.loads(meta["preprocessing"]) == model.preprocessing
    assert meta["architecture"] == name
    for n in (1, 5):  # the batch axis is free
        out = runner.run(*example_inputs(model, n=n, seed=n))
        assert out.shape[-2:] == (n, len(LABELS)) if out.ndim == 3 else out.shape == (n, len(LABELS))
    onnx_model = _tiny(name).use_backend("onnx")
    x = example_inputs(model, n=3, seed=7)
    assert np.allclose(onnx_model.logits(*x), model.logits(*x), atol=TOLERANCE)
    if model.preprocessing["input"] == "image":  # what ImageRecognizer calls, on uint8 photos
        from aslkit.inference.image_recognizer import image_probabilities

        size = model.preprocessing["size"]
        photos = np.random.default_rng(0).integers(0, 256, (3, size, size, 3), dtype=np.uint8)
        assert np.allclose(image_probabilities(onnx_model, photos), image_probabilities(model, photos), atol=1e-5)


def test_shipped_letters_agree_on_real_photos(tmp_path: Path, real_cache: Path) -> None:
    data = link_subset(tmp_path / "set", shared_dir("massey-letters"), {c: c.upper() for c in "abelvy"}, per_class=5)
    model = load_model("letters")
    inputs = real_inputs(model, data, cache_dir=real_cache)
    assert len(inputs[0]) >= 25
    parity = check_parity(model, export_onnx(model, tmp_path / "letters.onnx"), inputs)
    assert parity.real_data and parity.ok and parity.top1_agreement == 1.0


def test_shipped_sign_model_agrees_on_real_clips(tmp_path: Path) -> None:
    npz = shared_dir("sign-sequences") / "words-pose-hands.npz"
    model = load_model("words")
    inputs = real_inputs(model, npz)
    inputs = [a[::40] for a in inputs]  # every 40th clip: ~120, all signs
    assert check_parity(model, export_onnx(model, tmp_path / "words.onnx"), inputs).ok


def test_export_cli_and_onnx_backend_give_the_same_answers(tmp_path: Path, capsys, real_cache: Path) -> None:
    data = link_subset(tmp_path / "set", shared_dir("massey-letters"), {"b": "B", "l": "L"}, per_class=4)
    out = tmp_path / "letters.onnx"
    assert main(["export", "letters", "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["ok"] and r["onnx"] == str(out) and out.stat().st_size > 100_000
    rows = {}
    for backend in ("torch", "onnx"):
        assert main(["predict", str(data), "--json", "--backend", backend, "--cache-dir", str(real_cache)]) == 0
        rows[backend] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows["torch"]] == [r["label"] for r in rows["onnx"]]
    for a, b in zip(rows["torch"], rows["onnx"], strict=True):
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-4)
    metrics = {}
    for backend in ("torch", "onnx"):
        assert main(["evaluate", str(data), "--json", "--backend", backend, "--cache-dir", str(real_cache)]) == 0
        metrics[backend] = json.loads(capsys.readouterr().out)
    assert metrics["torch"]["accuracy"] == metrics["onnx"]["accuracy"]
    with pytest.raises(SystemExit) as usage:
        main(["predict", str(data), "--backend", "tensorflow"])
    assert usage.value.code == 2 and "invalid choice: 'tensorflow'" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["letters", "image"])
def test_export_check_data_with_nothing_usable_is_an_error_and_writes_nothing(
    model: str, tmp_path: Path, capsys
) -> None:
    """Check data with no readable photo compared nothing: that is said as such, before the file is written."""
    data = tmp_path / "set" / "B"
    data.mkdir(parents=True)
    (data / "empty.jpg").write_bytes(b"")
    (data / "text.jpg").write_text("not a photo")
    if model == "image":
        run = tmp_path / "run"
        _tiny("cnn-small").save(run)
        model = str(run)
    out = tmp_path / "m.onnx"
    code = main(["export", model, "--out", str(out), "--data", str(data.parent), "--no-cache"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "no usable input to check the export on" in err[0], err
    assert not out.exists(), "a rerun is not blocked by a file from a check that never ran"
    assert main(["export", "letters", "--out", str(tmp_path / "m.txt")]) == 1
    assert "ends in .onnx" in capsys.readouterr().err and not (tmp_path / "m.txt").exists()


def test_cached_export_is_made_once_and_a_runs_own_file_is_used(tmp_path: Path) -> None:
    model = _tiny("landmark-mlp-tiny")
    first = cached_export(model, tmp_path / "cache")
    stamp = first.stat().st_mtime_ns
    assert cached_export(model, tmp_path / "cache") == first and first.stat().st_mtime_ns == stamp
    run = tmp_path / "run"
    model.save(run)
    saved = load_model(run)
    export_onnx(saved, run / "model.onnx")
    assert cached_export(saved, tmp_path / "cache") == run / "model.onnx"
    saved.tensors = {k: v + 0.1 for k, v in saved.tensors.items()}  # other weights: the run's file no longer fits
    assert cached_export(saved, tmp_path / "cache") != run / "model.onnx"


def test_live_on_onnx_spells_like_torch(tmp_path: Path) -> None:
    import cv2

    from aslkit.inference.stream import StreamingRecognizer

    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0]
    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    frame = cv2.copyMakeBorder(rgb, 60, 60, 60, 60, cv2.BORDER_CONSTANT)
    texts = {}
    for backend in ("torch", "onnx"):
        rec = StreamingRecognizer(backend=backend)
        assert rec.model.backend == backend and rec.motion.model.backend == backend
        for t in np.arange(0, 2, 1 / 15):
            rec.process(frame, float(t))
        texts[backend] = rec.transcript.text
    assert texts["torch"] == texts["onnx"] == "B"
