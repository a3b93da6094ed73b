"""The Python API refuses arguments it cannot use with one AslkitError, as the command line does, never an
IndexError, TypeError or ZeroDivisionError from deep inside (found by a fresh user's session, 2026-12-02)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_grey

import aslkit
from aslkit.errors import AslkitError
from aslkit.inference.stream import StreamingRecognizer


@pytest.mark.parametrize("top_k", [0, -1, "3", 2.0, True, None])
def test_top_k_must_be_a_whole_number_of_one_or_more(top_k: object) -> None:
    with pytest.raises(AslkitError, match="top_k must be a whole number of 1 or more"):
        aslkit.Recognizer(top_k=top_k)
    with pytest.raises(AslkitError, match="top_k must be"):
        aslkit.SequenceRecognizer("words", top_k=top_k)


def test_predict_paths_takes_one_path_as_one_path(tmp_path: Path) -> None:
    """A string was read as a list of one-letter file names."""
    photo = write_grey(tmp_path / "grey.png", 48)
    rows = aslkit.Recognizer(cache_dir=None).predict_paths(str(photo))
    assert [r.path for r in rows] == [str(photo)] and rows[0].error is None
    assert [r.path for r in aslkit.SequenceRecognizer("words").predict_paths(tmp_path / "none.npy")] == [
        str(tmp_path / "none.npy")
    ]
    for bad in (None, 5, [photo, 3]):
        with pytest.raises(AslkitError, match="expected a path or a list of paths|expected paths"):
            aslkit.Recognizer(cache_dir=None).predict_paths(bad)


def test_sign_and_stream_inputs_of_the_wrong_kind_are_one_error() -> None:
    signs = aslkit.SequenceRecognizer("words")
    with pytest.raises(AslkitError, match="got NoneType"):
        signs.predict(None)
    assert signs.predict([[0.0] * 258] * 30).label == "-", "frames as nested lists read as an array"
    with pytest.raises(AslkitError, match="must be \\(T, F\\)"):
        signs.predict([])
    stream = StreamingRecognizer()
    with pytest.raises(AslkitError, match="needs the frame or its hands"):
        stream.process(None, 0.0)
    frame = np.zeros((64, 64, 3), np.uint8)
    for t in ("x", float("nan")):
        with pytest.raises(AslkitError, match="a frame's time must be"):
            stream.process(frame, t)
    with pytest.raises(AslkitError, match="got NoneType"):
        aslkit.evaluate(None)


def test_train_from_python_checks_types_as_the_command_line_does(tmp_path: Path) -> None:
    for value in (2.5, True):  # "2" is read as the command line reads it
        with pytest.raises(AslkitError, match=f"--epochs: cannot use {value!r} as int"):
            aslkit.train(tmp_path / "none.npz", out=tmp_path / "run", epochs=value)
    with pytest.raises(AslkitError, match="none.npz: no such file"):  # a list of classes is taken, as "a,b"
        aslkit.train(tmp_path / "none.npz", out=tmp_path / "run", classes=["hello", "thank-you"])


def test_a_npz_given_to_predict_says_what_reads_it(tmp_path: Path) -> None:
    np.savez(tmp_path / "one.npz", sequences=np.zeros((1, 20, 258), np.float32), label=np.array(["hello"]))
    with pytest.raises(AslkitError, match="a .npz is a set of clips, for evaluate and train"):
        aslkit.SequenceRecognizer("words").predict(tmp_path / "one.npz")


def test_an_empty_model_name_is_not_the_default_model() -> None:
    with pytest.raises(AslkitError, match="the model name is empty"):
        aslkit.load_model("")
    assert aslkit.load_model(None).labels == aslkit.load_model("letters").labels, "None is the default"


def test_cross_validation_from_python_is_its_own_function(tmp_path: Path) -> None:
    """train(cv="signer") named cv an unknown option among sixty; the API has cross_validate, as the CLI --cv."""
    for extra in ({"cv": "signer"}, {"folds": 3}):
        with pytest.raises(AslkitError, match=r"aslkit.cross_validate\(data, out"):
            aslkit.train(tmp_path / "none.npz", out=tmp_path / "run", model="seq-tcn", **extra)
    from aslkit.training.cv import cross_validate

    assert aslkit.cross_validate is cross_validate and "cross_validate" in aslkit.__all__
    assert not (tmp_path / "run").exists()


def test_a_model_and_a_training_result_print_as_one_line(tmp_path: Path) -> None:
    """print(aslkit.train(...)) dumped the test set's arrays and every weight: about 100 KB."""
    from aslkit.training.trainer import TrainResult

    model = aslkit.load_model("letters")
    assert repr(model).startswith("TrainedModel('landmark-mlp', 29 labels, ") and len(repr(model)) < 200
    res = TrainResult(tmp_path / "run", model, {"test": {"accuracy": 0.9}}, test_set=np.zeros((1000, 63)))
    text = repr(res)
    assert "\n" not in text and len(text) < 300 and text.endswith(", test accuracy 0.9000)")
