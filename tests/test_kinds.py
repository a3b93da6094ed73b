"""Input kinds and their preprocessing (aslkit.kinds): one type per kind, writing exactly today's model.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aslkit.errors import ModelError
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
    assert kinds == {"letters": InputKind.LANDMARKS, "letters-motion": InputKind.SEQUENCE, "words": InputKind.SEQUENCE}


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
