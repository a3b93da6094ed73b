"""benchmarks/lopo_letters.py restates the shipped letters recipe (sources and options) so that it can leave one
person out; this keeps the restatement equal to what the shipped model records it was trained with."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from conftest import load_repo_module

ROOT = Path(__file__).resolve().parents[1]


def _lopo():
    return load_repo_module("benchmarks/lopo_letters.py")


def test_lopo_recipe_is_the_shipped_recipe() -> None:
    lopo = _lopo()
    meta = json.loads((ROOT / "src" / "aslkit" / "weights" / "letters.json").read_text(encoding="utf-8"))["meta"]
    argv = shlex.split(meta["command"])
    options = {argv[i][2:].replace("-", "_"): argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}
    for key, value in lopo.RECIPE.items():
        assert options.get(key) == str(value), (key, value, options.get(key))
    assert options.get("model") == "landmark-mlp"
    trained = [d.removeprefix("../shared/data/").rstrip("/") for d in meta["data"]]
    people = sorted(d.split("/", 1)[1] for d in trained if d.startswith("letters-more-people/"))
    assert sorted(lopo.PEOPLE) == people
    assert [d for d in trained if not d.startswith("letters-more-people/")] == list(lopo.SOURCES)
