"""`aslkit extract` (local processes and Ray, local mode) writes Parquet landmark shards identical to one
process, training reads them directly, and `aslkit predict --engine ray` answers like `predict`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import link_subset, shared_dir, snapshot

from aslkit.cli import main
from aslkit.landmarks import extract as ex


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return link_subset(tmp_path_factory.mktemp("x") / "set", shared_dir("massey-letters"),
                       {"b": "B", "l": "L", "v": "V"}, per_class=6)  # fmt: skip


@pytest.fixture(scope="module")
def one_process(photos: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("one") / "shards"
    ex.extract(photos, out, workers=1)
    return ex.read_shards(out)


def _same(a, b) -> None:
    assert a.paths == b.paths and a.labels == b.labels and a.errors == b.errors
    assert (a.has_hand == b.has_hand).all() and np.array_equal(a.pts, b.pts)


def test_two_local_workers_write_what_one_process_does(photos, one_process, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(ex, "SHARD_ROWS", 7)  # 18 photos: three shards
    before = snapshot(photos)
    out = tmp_path / "shards"
    assert main(["extract", str(photos), "--out", str(out), "--workers", "2", "--json", "-q"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["rows"] == 18 and r["with_hand"] == 18 and r["engine"] == "local" and r["workers"] == 2
    manifest = json.loads((out / "landmarks.json").read_text())
    assert manifest["shards"] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    _same(ex.read_shards(out), one_process)
    assert one_process.labels.count("B") == 6 and one_process.has_hand.all()
    assert snapshot(photos) == before
    assert main(["extract", str(photos), "--out", str(out)]) == 1
    assert "not an empty folder" in capsys.readouterr().err


def test_training_reads_the_shards_directly(photos, tmp_path) -> None:
    from aslkit.models.io import load_model
    from aslkit.training.trainer import train

    shards = tmp_path / "shards"
    ex.extract(photos, shards, workers=1)
    res = train(shards, out=tmp_path / "run", model="landmark-mlp-tiny", epochs=5, progress=False)
    assert load_model(res.run_dir).labels == ["B", "L", "V"]
    (shards / "landmarks.json").write_text("{}")
    with pytest.raises(Exception, match="not an aslkit landmark shard folder"):
        ex.read_shards(shards)


def test_ray_extract_and_predict_match_one_process(photos, one_process, tmp_path, capsys) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "ray-shards"
    r = ex.extract(photos, out, engine="ray", workers=2)
    assert r.engine == "ray" and r.rows == 18
    _same(ex.read_shards(out), one_process)
    assert main(["predict", str(photos), "--json", "--no-cache"]) == 0
    local = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["predict", str(photos), "--json", "--engine", "ray", "--workers", "2", "-q"]) == 0
    ray_rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(ray_rows) == len(local) == 18
    for a, b in zip(ray_rows, local, strict=True):  # one photo at a time vs batched: the last digit may differ
        assert (a["path"], a["label"], a["hand"], a["error"]) == (b["path"], b["label"], b["hand"], b["error"])
        assert [t[0] for t in a["top"][:2]] == [t[0] for t in b["top"][:2]]
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-3)
