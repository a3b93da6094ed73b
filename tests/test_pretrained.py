"""Hugging Face habits (issue 20 item 5): ``Prediction.as_pipeline()`` gives a classification pipeline's
``[{"label", "score"}]`` and ``as_label()`` what ``gr.Label`` takes, on real photos and clips, with the no-hand
and error rows mapped as the docstring says; ``aslkit.load_model(folder)`` and ``*.from_pretrained(folder)``
read a folder the way a model is shared (weights, model.json, a model card), a shipped name too, with one-line
errors for a folder that holds no model or several, and without ever opening a network connection.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHIPPED_LETTERS, shared_dir

import aslkit
from aslkit.errors import AslkitError, ModelError

SHIPPED_WORDS = SHIPPED_LETTERS.with_name("words.json")
CARD = "---\nlanguage: ase\nlicense: apache-2.0\npipeline_tag: image-classification\n---\n# letters\n"


def _folder(dest: Path, spec: Path, name: str = "model", card: bool = True) -> Path:
    """A folder as a model is shared: NAME.json, NAME.safetensors and a model card README.md."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(spec, dest / f"{name}.json")
    shutil.copy(spec.with_suffix(".safetensors"), dest / f"{name}.safetensors")
    if card:
        (dest / "README.md").write_text(CARD)
    return dest


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(self, address):
        raise AssertionError(f"a network connection was attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def letters() -> aslkit.Recognizer:
    rec = aslkit.Recognizer()
    yield rec
    rec.close()


def _photo(letter: str) -> Path:
    return sorted((shared_dir("massey-letters") / letter).iterdir())[0]


# ---------------------------------------------------------------------------------------------
# as_pipeline / as_label
# ---------------------------------------------------------------------------------------------
def test_as_pipeline_is_a_classification_pipelines_output(letters) -> None:
    pred = letters.predict(_photo("b"))
    out = pred.as_pipeline()
    assert [set(d) for d in out] == [{"label", "score"}] * len(pred.top) and len(out) == 5
    assert all(type(d["label"]) is str and type(d["score"]) is float for d in out), "plain JSON types"
    assert out[0]["label"] == pred.label == "B" and out[0]["score"] == pytest.approx(pred.confidence)
    assert [d["score"] for d in out] == sorted((d["score"] for d in out), reverse=True), "best first"
    assert json.loads(json.dumps(out)) == out
    assert pred.as_label() == {d["label"]: d["score"] for d in out}


def test_as_label_is_what_gradio_label_shows(letters) -> None:
    gr = pytest.importorskip("gradio")
    shown = gr.Label(num_top_classes=3).postprocess(letters.predict(_photo("l")).as_label())
    assert shown.label == "L" and len(shown.confidences) == 3
    assert gr.Label().postprocess({}) == {}, "an error row's {} is an empty label"


def test_no_hand_and_error_rows_map_as_documented(letters, tmp_path: Path) -> None:
    grey = np.full((240, 240, 3), 128, np.uint8)
    nothing = letters.predict(grey)
    assert nothing.hand is False and nothing.as_pipeline() == [{"label": "Nothing", "score": 1.0}]
    assert nothing.as_label() == {"Nothing": 1.0}
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    rows = letters.predict_paths([bad, tmp_path / "grey.png"])
    assert rows[0].error and rows[0].as_pipeline() == [] and rows[0].as_label() == {}
    assert rows[1].as_pipeline() == [{"label": "Nothing", "score": 1.0}]


def test_clip_predictions_give_the_same_shape(tmp_path: Path) -> None:
    data = np.load(shared_dir("sign-sequences") / "words-pose-hands.npz")
    frames = data["sequences"][int(np.flatnonzero(data["label"] == "hello")[0])].astype(np.float32)
    rec = aslkit.SequenceRecognizer.from_pretrained(_folder(tmp_path / "words", SHIPPED_WORDS), top_k=3)
    pred = rec.predict(frames)
    assert isinstance(pred, aslkit.ClipPrediction)
    assert pred.as_pipeline() == [{"label": lab, "score": p} for lab, p in pred.top] and len(pred.top) == 3
    assert pred.as_pipeline()[0]["label"] == pred.label == "hello"


# ---------------------------------------------------------------------------------------------
# load_model / from_pretrained
# ---------------------------------------------------------------------------------------------
def test_from_pretrained_reads_a_shared_folder_offline(letters, tmp_path: Path, offline) -> None:
    folder = _folder(tmp_path / "my-letters", SHIPPED_LETTERS)
    model = aslkit.load_model(folder)
    assert isinstance(model, aslkit.TrainedModel) and model.labels == letters.labels
    rec = aslkit.Recognizer.from_pretrained(folder, top_k=3)
    try:
        assert isinstance(rec, aslkit.Recognizer) and rec.top_k == 3
        photo = _photo("c")
        assert rec.predict(photo).top == letters.predict(photo).top[:3]
    finally:
        rec.close()
    # a folder that names its files after the model (as aslkit's own weights folder does), card and all
    other = _folder(tmp_path / "named", SHIPPED_LETTERS, name="letters")
    assert aslkit.load_model(other).labels == letters.labels
    assert aslkit.Recognizer.from_pretrained(str(other)).model.source.endswith("letters.json")
    # no model card: still a model
    assert aslkit.load_model(_folder(tmp_path / "bare", SHIPPED_LETTERS, card=False)).labels == letters.labels


def test_from_pretrained_takes_a_shipped_name_and_a_model_json(tmp_path: Path, offline) -> None:
    assert aslkit.Recognizer.from_pretrained("letters").model.labels == aslkit.load_model("letters").labels
    folder = _folder(tmp_path / "w", SHIPPED_WORDS)
    rec = aslkit.SequenceRecognizer.from_pretrained(folder / "model.json")
    assert isinstance(rec, aslkit.SequenceRecognizer) and "hello" in rec.labels
    assert isinstance(aslkit.recognizer(folder), aslkit.SequenceRecognizer), "the Auto* of aslkit: any kind"


def test_from_pretrained_refuses_in_one_line(tmp_path: Path, offline) -> None:
    words = _folder(tmp_path / "words", SHIPPED_WORDS)
    two = _folder(_folder(tmp_path / "two", SHIPPED_LETTERS, name="letters"), SHIPPED_WORDS, name="words")
    (tmp_path / "card-only").mkdir()
    (tmp_path / "card-only" / "README.md").write_text(CARD)
    cases = [
        (lambda: aslkit.Recognizer.from_pretrained(words), "aslkit.recognizer(model)"),
        (
            lambda: aslkit.SequenceRecognizer.from_pretrained("letters"),
            "model 'letters' (landmark-mlp) reads hand-landmarks",
        ),
        (lambda: aslkit.load_model(two), "2 models in this folder (letters.json, words.json)"),
        (lambda: aslkit.load_model(tmp_path / "card-only"), "no model.json in this folder"),
        (lambda: aslkit.Recognizer.from_pretrained("someone/asl-letters"), "aslkit downloads nothing"),
    ]
    for call, words_in in cases:
        with pytest.raises(AslkitError) as info:
            call()
        msg = str(info.value)
        assert words_in in msg and "\n" not in msg, msg
    with pytest.raises(ModelError, match="not found") as info:
        aslkit.load_model(tmp_path / "no-such-folder")
    assert "downloads nothing" not in str(info.value), "a local path that is missing is not a hub name"
