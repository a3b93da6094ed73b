"""scripts/fingerspelling_idle.py: the fingerspelled letters the shipped `words` model learns as `-`, and the
recipe that uses them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import load_repo_module, shared_dir

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_repo_module("scripts/fingerspelling_idle.py")


def test_the_idle_clips_are_every_kth_letter_but_a_labelled_no_sign(tmp_path: Path) -> None:
    data = shared_dir("sign-sequences")
    out = tmp_path / "idle.npz"
    n = _script().write(data, out, every=4)
    src = np.load(data / "letters-hands.npz")
    z = np.load(out)
    picked = np.flatnonzero(~np.isin(src["label"], ["A", "a"]) & (np.arange(len(src["label"])) % 4 == 0))
    assert n == len(picked) == len(z["label"]) > 500
    assert set(z["label"]) == {"-"}
    np.testing.assert_array_equal(z["sequences"], src["sequences"][picked])
    assert {str(s) for s in z["signer"]} == {f"fs-{s}" for s in src["signer"][picked]}, "kept apart from word signers"
    assert not (set(src["label"][picked]) & {"A", "a"}), "the word sets sign `a` themselves"
    with pytest.raises(SystemExit):
        _script().write(data, out, every=4)  # never over an existing file


def test_the_shipped_words_model_was_trained_with_them() -> None:
    meta = json.loads((ROOT / "src" / "aslkit" / "weights" / "words.json").read_text(encoding="utf-8"))["meta"]
    assert "fingerspelling-idle.npz" in meta["data"]
    recipe = (ROOT / "scripts" / "train_default_signs.sh").read_text(encoding="utf-8")
    assert "scripts/fingerspelling_idle.py" in recipe and '"$ROOT/fingerspelling-idle.npz"' in recipe
