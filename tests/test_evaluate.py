"""Evaluation end to end on real Massey images: metrics JSON, unknown classes left out, report files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHIPPED_LETTERS, link_subset, shared_dir, snapshot
from PIL import Image

from aslkit import cli
from aslkit.errors import DatasetError
from aslkit.evaluation.evaluate import evaluate
from aslkit.models.io import load_model

LETTERS = {"b": "b", "l": "l", "v": "v"}  # Massey folders are lower case; labels map to B, L, V
PER_CLASS = 3
N_UNKNOWN = 2
KEYS = {
    "n",
    "accuracy",
    "accuracy_detected",
    "detection_rate",
    "weighted_f1",
    "macro_f1",
    "per_class_f1",
    "unknown_labels",
    "confusion_matrix",
    "errors",
    "per_class_detection_rate",
    "model",
    "data",
}


@pytest.fixture
def massey_subset(tmp_path: Path) -> Path:
    """3 letters x 3 images plus an unknown class "hello" (2 images), all symlinks into ../shared/data."""
    massey = shared_dir("massey-letters")
    root = link_subset(tmp_path / "massey", massey, LETTERS, PER_CLASS)
    link_subset(root, massey, {"a": "hello"}, N_UNKNOWN)
    return root


@pytest.fixture(params=["synthetic", "shipped"])
def model_ref(request: pytest.FixtureRequest, synthetic_model_dir: Path) -> str:
    if request.param == "shipped":
        if not SHIPPED_LETTERS.is_file():
            pytest.skip("no shipped weights yet: src/aslkit/weights/letters.json is absent")
        return "letters"
    return str(synthetic_model_dir)


def test_evaluate_cli_json_and_report(
    massey_subset: Path, model_ref: str, tmp_path: Path, real_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(massey_subset)
    report = tmp_path / "report"
    code = cli.main(
        [
            "evaluate",
            str(massey_subset),
            "--model",
            model_ref,
            "--json",
            "--report",
            str(report),
            "--cache-dir",
            str(real_cache),
            "-q",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    m = json.loads(out)
    assert set(m) >= KEYS
    assert m["unknown_labels"] == {"hello": N_UNKNOWN}
    assert m["n"] == PER_CLASS * len(LETTERS), "the unknown class is left out of n"
    assert m["errors"] == []
    assert set(m["per_class_f1"]) == {"B", "L", "V"}
    cm = np.array(m["confusion_matrix"]["matrix"])
    assert cm.sum() == m["n"]
    assert m["accuracy"] == pytest.approx(np.trace(cm) / m["n"])
    assert 0.5 <= m["detection_rate"] <= 1.0
    # every true label is a letter, so an image without a hand is always wrong: accuracy <= accuracy_detected
    assert m["accuracy"] <= m["accuracy_detected"] + 1e-9
    assert m["accuracy"] == pytest.approx(m["accuracy_detected"] * m["detection_rate"])
    for name in ("confusion_matrix.png", "report.md", "metrics.json", "mistakes.json"):
        assert (report / name).is_file(), name
    with Image.open(report / "confusion_matrix.png") as im:
        assert im.format == "PNG" and im.width > 100
    md = (report / "report.md").read_text()
    assert "hello" in md and "confusion_matrix.png" in md
    assert json.loads((report / "metrics.json").read_text())["n"] == m["n"]
    mistakes = json.loads((report / "mistakes.json").read_text())
    assert len(mistakes) == m["n"] - int(np.trace(cm))
    assert snapshot(massey_subset) == before, "nothing is written into the data folder"
    if model_ref == "letters":
        assert m["accuracy_detected"] > 0.5, "the shipped model recognizes clear Massey letters"


def test_evaluate_text_output(
    massey_subset: Path, synthetic_model_dir: Path, real_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["evaluate", str(massey_subset), "--model", str(synthetic_model_dir), "--cache-dir", str(real_cache), "-q"]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"images: {PER_CLASS * len(LETTERS)}" in out
    assert "left out (classes unknown to the model): {'hello': 2}" in out


def test_evaluate_api_counts_unreadable_files(
    massey_subset: Path, synthetic_model_dir: Path, real_cache: Path, tmp_path: Path
) -> None:
    (massey_subset / "v" / "broken.jpg").write_bytes(b"")
    model = load_model(synthetic_model_dir)
    m = evaluate(massey_subset, model=model, cache_dir=real_cache, workers=1, progress=False)
    assert m["n"] == PER_CLASS * len(LETTERS), "unreadable files are left out of n"
    assert len(m["errors"]) == 1 and "empty file" in m["errors"][0]
    assert m["model"] == model.source


def test_evaluate_with_no_readable_image_is_an_error(
    tmp_path: Path, synthetic_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An accuracy over no image is no result: one line, exit 1, and no report folder."""
    (tmp_path / "d" / "B").mkdir(parents=True)
    (tmp_path / "d" / "B" / "empty.jpg").write_bytes(b"")
    (tmp_path / "d" / "B" / "text.jpg").write_text("not a photo")
    report = tmp_path / "rep"
    code = cli.main(["evaluate", str(tmp_path / "d"), "--model", str(synthetic_model_dir), "--no-cache", "-q",
                     "--report", str(report)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "none of the 2 images could be read" in err[0], err
    assert not report.exists()


def test_evaluate_says_which_box_rows_it_left_out(
    tmp_path: Path, synthetic_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A box CSV's bad rows were left out without a word: now counted, with the first one's reason."""
    root = tmp_path / "boxes"
    (root / "images").mkdir(parents=True)
    Image.new("RGB", (120, 120), (90, 90, 90)).save(root / "images" / "p.jpg")
    (root / "annotations.csv").write_text(
        "filename,class,xmin,ymin,xmax,ymax\np.jpg,B,10,10,90,90\np.jpg,L,nan,10,90,90\np.jpg,,10,10,90,90\n"
    )
    m = evaluate(root, model=str(synthetic_model_dir), cache_dir=None, progress=False)
    assert m["n"] == 1 and len(m["box_rows_left_out"]) == 2 and "line 3" in m["box_rows_left_out"][0]
    code = cli.main(["evaluate", str(root), "--model", str(synthetic_model_dir), "--no-cache", "-q"])
    assert code == 0 and "box rows left out: 2 (first: annotations.csv line 3 (p.jpg)" in capsys.readouterr().out


def test_evaluate_api_no_known_class(tmp_path: Path, synthetic_model_dir: Path) -> None:
    (tmp_path / "d" / "hello").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(tmp_path / "d" / "hello" / "x.png")
    with pytest.raises(DatasetError, match="none of its classes"):
        evaluate(tmp_path / "d", model=str(synthetic_model_dir), cache_dir=None, progress=False)


def test_per_group_figures(massey_subset: Path, synthetic_model_dir: Path, real_cache: Path, tmp_path: Path) -> None:
    m = evaluate(
        massey_subset,
        model=synthetic_model_dir,
        cache_dir=real_cache,
        progress=False,
        group_pattern=r"hand(\d+)",
        report_dir=tmp_path / "r",
    )
    groups = m["per_group"]
    assert sum(v["n"] for v in groups.values()) == m["n"], "every evaluated image is in exactly one group"
    total = sum(v["n"] * v["accuracy"] for v in groups.values()) / m["n"]
    assert total == pytest.approx(m["accuracy"])
    assert "| group |" in (tmp_path / "r" / "report.md").read_text()
    with pytest.raises(DatasetError, match="does not match"):
        evaluate(massey_subset, model=synthetic_model_dir, cache_dir=real_cache, progress=False, group_pattern="zzz")


def test_views_in_evaluation(massey_subset: Path, real_cache: Path) -> None:
    """views=1 never looks at the mirror image, 2 always, auto only where the photo alone is unsure."""
    if not SHIPPED_LETTERS.is_file():
        pytest.skip("no shipped weights yet")
    runs = {v: evaluate(massey_subset, cache_dir=real_cache, progress=False, views=v) for v in (1, 2, "auto")}
    assert runs[1]["second_view_rate"] == 0.0 and runs[2]["second_view_rate"] == 1.0
    assert 0.0 <= runs["auto"]["second_view_rate"] < 1.0, "clear Massey letters are mostly sure at once"
    assert runs["auto"]["views"] == "auto" and runs[2]["views"] == 2
    assert {r["n"] for r in runs.values()} == {PER_CLASS * len(LETTERS)}
