"""Input kinds and their preprocessing (aslkit.kinds): one type per kind, writing exactly today's model.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aslkit.errors import AslkitError, ModelError
from aslkit.kinds import KINDS, InputKind, Preprocessing, kind_of, parse_kind
from aslkit.models.io import load_model, shipped_models
from aslkit.models.registry import get_model_info, list_models

SHIPPED = sorted(shipped_models())


def test_every_kind_has_a_preprocessing_class_and_the_registry_uses_only_known_kinds() -> None:
    assert set(KINDS) == set(InputKind)
    assert all(cls.kind is kind for kind, cls in KINDS.items())
    assert {get_model_info(n).input for n in list_models()} == {k.value for k in InputKind}
    assert [str(k) for k in InputKind] == ["hand-landmarks", "image", "sequence"]  # model.json's words


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preprocessing_round_trips_exactly(name: str) -> None:
    pre = json.loads(shipped_models()[name].read_text(encoding="utf-8"))["preprocessing"]
    p = Preprocessing.from_json(pre)
    assert type(p) is KINDS[parse_kind(pre["input"])]
    assert p.extra == {}, "every shipped key is a named field"
    assert p.to_json() == pre
    assert json.dumps(p.to_json()) == json.dumps(pre), "same keys in the same order: the same bytes"
    assert type(p).from_json(p.to_json()) == p


def test_shipped_kinds() -> None:
    kinds = {n: load_model(n).kind for n in SHIPPED}
    assert kinds == {"letters": InputKind.LANDMARKS, "letters-motion": InputKind.SEQUENCE, "words": InputKind.SEQUENCE,
                     "sign-encoder": InputKind.SEQUENCE}  # fmt: skip


def test_unknown_keys_are_kept_after_the_named_ones() -> None:
    pre = {"input": "image", "size": 32, "later": [1, 2], "crop": "hand"}
    p = Preprocessing.from_json(pre)
    assert p.extra == {"later": [1, 2]} and p.to_json() == pre
    assert list(p.to_json()) == ["input", "size", "crop", "later"]


@pytest.mark.parametrize("bad", ["video", "", None, 3, "Image"])
def test_unknown_input_kind_is_one_line(bad: object) -> None:
    with pytest.raises(ModelError) as exc:
        kind_of({"input": bad})
    assert "\n" not in str(exc.value) and "hand-landmarks, image, sequence" in str(exc.value)
    assert kind_of({}, default="image") is InputKind.IMAGE
    with pytest.raises(ModelError, match="names no input kind"):
        kind_of({})


def test_a_model_json_with_an_unknown_kind_does_not_load(tmp_path: Path) -> None:
    src = shipped_models()["letters"]
    spec = json.loads(src.read_text(encoding="utf-8"))
    spec["preprocessing"]["input"] = "hologram"
    (tmp_path / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(src.with_suffix(".safetensors").read_bytes())
    with pytest.raises(ModelError) as exc:
        load_model(tmp_path)
    assert "\n" not in str(exc.value) and "hologram" in str(exc.value)


def test_a_preprocessing_class_refuses_another_kind() -> None:
    with pytest.raises(ModelError, match="reads image, not sequence"):
        KINDS[InputKind.SEQUENCE].from_json({"input": "image", "size": 32})


# ---- run folders of every kind, made by a tiny training: they write and read the same preprocessing -----------


def _photos(root: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, channel in (("A", 0), ("B", 2)):
        (root / label).mkdir(parents=True)
        for i in range(6):
            arr = rng.integers(0, 60, (24, 24, 3), dtype=np.uint8)
            arr[..., channel] += 180
            Image.fromarray(arr).save(root / label / f"{label}{i}.png")
    return root


def _clips(path: Path) -> Path:
    rng = np.random.default_rng(0)
    seqs = rng.uniform(0.2, 0.8, (12, 10, 126)).astype(np.float16)
    labels = np.array(["hello", "no"] * 6)
    signers = np.array(["s1", "s2", "s3"] * 4)
    np.savez(path, sequences=seqs, label=labels, signer=signers)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[InputKind, Path]:
    from conftest import write_shapes_npz

    from aslkit.training.trainer import train

    root = tmp_path_factory.mktemp("kinds")
    fast = {"progress": False, "cache_dir": None, "epochs": 1, "batch_size": 8, "split": "0.5,0.5"}
    train(write_shapes_npz(root / "hands.npz", per_class=8), root / "landmarks", model="landmark-mlp-tiny", **fast)
    train(_photos(root / "photos"), root / "image", model="cnn-small", image_size=16, **fast)
    train(_clips(root / "clips.npz"), root / "sequence", model="seq-tcn", **fast)
    return {
        InputKind.LANDMARKS: root / "landmarks",
        InputKind.IMAGE: root / "image",
        InputKind.SEQUENCE: root / "sequence",
    }


@pytest.mark.parametrize("kind", list(InputKind))
def test_a_run_folder_writes_what_its_preprocessing_class_reads(runs: dict[InputKind, Path], kind: InputKind) -> None:
    text = (runs[kind] / "model.json").read_text(encoding="utf-8")
    pre = json.loads(text)["preprocessing"]
    p = Preprocessing.from_json(pre)
    assert type(p) is KINDS[kind] and p.extra == {}
    assert json.dumps(p.to_json()) == json.dumps(pre), "the same keys in the same order, as saved"
    assert load_model(runs[kind]).kind is kind


# ---- recognizer(model): one door, a Predictor for every kind ---------------------------------------------------

EXPECTED = {
    InputKind.LANDMARKS: "Recognizer",
    InputKind.IMAGE: "ImageRecognizer",
    InputKind.SEQUENCE: "SequenceRecognizer",
}


@pytest.mark.parametrize("kind", list(InputKind))
def test_recognizer_gives_a_predictor_for_every_kind(runs: dict[InputKind, Path], kind: InputKind) -> None:
    from aslkit import recognizer
    from aslkit.inference.recognizers import RECOGNIZERS, PhotoPredictor, Predictor

    assert set(RECOGNIZERS) == set(InputKind)
    model = load_model(runs[kind])
    rec = recognizer(model, top_k=2, cache_dir=None)
    assert type(rec).__name__ == EXPECTED[kind] and rec.model is model and rec.top_k == 2
    assert isinstance(rec, Predictor) and rec.labels == model.labels
    assert isinstance(rec, PhotoPredictor) is (kind is not InputKind.SEQUENCE)
    if kind is InputKind.SEQUENCE:
        pred = rec.predict(np.random.default_rng(0).uniform(0.2, 0.8, (10, 126)).astype(np.float32))
    elif kind is InputKind.IMAGE:
        pred = rec.predict(np.zeros((24, 24, 3), np.uint8))
    else:
        pred = None  # a landmark model needs MediaPipe to predict a photo; predict_paths below shows the path
    if pred is not None:
        assert pred.label in model.labels and len(pred.top) == 2
    bad = rec.predict_paths([runs[kind] / "missing.file"], progress=False)
    assert len(bad) == 1 and bad[0].error and bad[0].label is None
    rec.close()


@pytest.mark.parametrize("name", SHIPPED)
def test_recognizer_for_the_shipped_models(name: str) -> None:
    from aslkit import recognizer
    from aslkit.inference.recognizers import Predictor

    rec = recognizer(name, cache_dir=None)
    assert isinstance(rec, Predictor) and type(rec).__name__ == EXPECTED[load_model(name).kind]


@pytest.mark.parametrize("name", ["letters-motion", "words"])
def test_options_a_kind_cannot_use_are_refused_in_one_line(name: str) -> None:
    from aslkit.inference.recognizers import photo_recognizer, recognizer

    with pytest.raises(AslkitError, match="views apply to photos"):
        recognizer(name, views=2)
    with pytest.raises(AslkitError, match="reads clips, not photos"):
        photo_recognizer(name)


def test_recognizer_of_an_unknown_kind_is_one_line() -> None:
    from aslkit.inference.recognizers import recognizer

    m = load_model("letters")
    m.preprocessing = {**m.preprocessing, "input": "hologram"}
    with pytest.raises(ModelError, match="unknown input kind 'hologram'"):
        recognizer(m)
