"""The per-group report card of ``aslkit evaluate``: groups by folder or file-name pattern, each with
its accuracy, detection rate and worst letters; worst group first in report.md and on the console.

No MediaPipe: a stand-in landmarker reads the hand shape a photo "shows" from its colour, so two
synthetic people can sign exactly what the test needs (one of them with a letter the model misreads).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHAPES, SHIPPED_LETTERS, make_hand
from PIL import Image

from aslkit import cli
from aslkit.errors import AslkitError, DatasetError
from aslkit.evaluation.evaluate import evaluate
from aslkit.landmarks.extractor import HandLandmarker, HandsResult
from aslkit.metrics import classification_metrics, group_cards, worst_classes

# photo colour (red channel) -> the hand shape the stand-in landmarker "finds"; NO_HAND: no hand at all
SHAPE_RED = {"B": 20, "L": 110, "V": 200}
NO_HAND = 250

# what each person's photos of each letter show, four photos per letter
SIGNS = {
    "alice": {"B": ["B"] * 4, "L": ["L"] * 4, "V": ["V"] * 4},  # all read right
    "bob": {
        "B": ["B", "B", None, None],  # two photos where no hand is found
        "L": ["L"] * 4,
        "V": ["V", "L", "L", "L"],  # bob's V looks like an L: read as L three times out of four
    },
}
BOB_ACC = 7 / 12  # B 2 + L 4 + V 1
BOB_DET = 10 / 12
BOB_ACC_DET = 7 / 10
BOB_WORST = "V 0.25 (L 3); B 0.50 (Nothing 2)"


class ColourLandmarker:
    """Stands in for MediaPipe: the shape of SHAPE_RED nearest to the photo's red channel, or no hand."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, lm_self: HandLandmarker, image: np.ndarray) -> HandsResult:
        self.calls += 1
        red = float(image[..., 0].mean())
        tried = [list(a) for a in lm_self.attempts]
        if abs(red - NO_HAND) < 20:
            return HandsResult(image.shape[1], image.shape[0], [], None, tried)
        label = min(SHAPE_RED, key=lambda k: abs(SHAPE_RED[k] - red))
        hand = make_hand(np.random.default_rng(self.calls), SHAPES[label], handedness="Right")
        return HandsResult(image.shape[1], image.shape[0], [hand], "plain", tried)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> ColourLandmarker:
    f = ColourLandmarker()
    monkeypatch.setattr(HandLandmarker, "__call__", lambda self, image, start=0: f(self, image))
    return f


def _photo(path: Path, shows: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), (SHAPE_RED[shows] if shows else NO_HAND, 90, 90)).save(path)


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """people/<person>/<letter>/<n>.png, as letters-more-people is laid out."""
    root = tmp_path / "people"
    for person, letters in SIGNS.items():
        for letter, shows in letters.items():
            for i, s in enumerate(shows):
                _photo(root / person / letter / f"{i}.png", s)
    return root


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """The same photos in one flat set, the person in the file name: flat/<letter>/<person>_<n>.png."""
    root = tmp_path / "flat"
    for person, letters in SIGNS.items():
        for letter, shows in letters.items():
            for i, s in enumerate(shows):
                _photo(root / letter / f"{person}_{i}.png", s)
    return root


def _run(data: Path, model: Path, **kw) -> dict:
    return evaluate(data, model=model, cache_dir=None, workers=1, progress=False, views=1, **kw)


def _bob_macro_f1() -> float:
    b = 2 * (1.0 * 0.5) / 1.5  # 2 right of 2 read as B, 2 of 4 found
    lf = 2 * (4 / 7) / (1 + 4 / 7)  # 4 of 7 read as L are L
    v = 2 * 0.25 / 1.25
    return (b + lf + v) / 3


# ---- the card's figures -----------------------------------------------------------------------------
def test_report_card_by_folder(people: Path, synthetic_model_dir: Path, fake: ColourLandmarker) -> None:
    m = _run(people, synthetic_model_dir, group_by="folder")
    assert m["group_by"] == "folder" and list(m["per_group"]) == ["alice", "bob"]
    alice, bob = m["per_group"]["alice"], m["per_group"]["bob"]
    assert alice["n"] == 12 and alice["accuracy"] == 1.0 and alice["detection_rate"] == 1.0
    assert alice["worst"] == [], "a person with every letter right has no worst letters to show"
    assert bob["n"] == 12 and bob["n_detected"] == 10
    assert bob["accuracy"] == pytest.approx(BOB_ACC), "a photo with no hand found counts as wrong"
    assert bob["detection_rate"] == pytest.approx(BOB_DET)
    assert bob["accuracy_detected"] == pytest.approx(BOB_ACC_DET)
    assert bob["macro_f1"] == pytest.approx(_bob_macro_f1())
    assert bob["worst"] == [
        {"label": "V", "recall": 0.25, "support": 4, "read_as": {"L": 3}},
        {"label": "B", "recall": 0.5, "support": 4, "read_as": {"Nothing": 2}},
    ]
    assert m["n"] == 24 and m["accuracy"] == pytest.approx((12 + 7) / 24), "the overall figures are unchanged"


def test_pattern_groups_give_the_same_cards(
    people: Path, flat: Path, synthetic_model_dir: Path, fake: ColourLandmarker
) -> None:
    by_folder = _run(people, synthetic_model_dir, group_by="folder")["per_group"]
    m = _run(flat, synthetic_model_dir, group_pattern=r"^([a-z]+)_")
    assert m["group_by"] == "pattern" and m["group_pattern"] == r"^([a-z]+)_"
    assert m["per_group"] == by_folder


def test_group_cards_reuse_the_metrics() -> None:
    """group_cards on plain lists: a card's figures are classification_metrics on that group alone."""
    y = ["A", "A", "A", "B", "B", "C", "C", "C"]
    p = ["A", "B", "C", "B", "B", "C", "C", "A"]
    g = ["x", "x", "x", "x", "y", "y", "y", "y"]
    cards = group_cards(y, p, [True] * 8, g, ["A", "B", "C"])
    alone = classification_metrics(y[:4], p[:4], ["A", "B", "C"])
    assert cards["x"]["macro_f1"] == pytest.approx(alone["macro_f1"]) and cards["x"]["accuracy"] == 0.5
    # x: A read as B once and as C once (ties: label order); y: C read as A once, B perfect
    assert cards["x"]["worst"] == [
        {"label": "A", "recall": pytest.approx(1 / 3), "support": 3, "read_as": {"B": 1, "C": 1}}
    ]
    assert [w["label"] for w in cards["y"]["worst"]] == ["C"] and cards["y"]["worst"][0]["read_as"] == {"A": 1}
    many = classification_metrics(list("AABBCCDD"), list("BACADADA"), list("ABCD"))
    # recalls A 0.5, B 0, C 0, D 0.5: the three lowest, a tie going to label order
    assert [w["label"] for w in worst_classes(many, k=3)] == ["B", "C", "A"]
    with pytest.raises(ValueError):
        group_cards(y, p, [True] * 8, g[:-1], ["A", "B", "C"])


# ---- where the card is shown --------------------------------------------------------------------------
def test_report_md_table_worst_first(
    people: Path, synthetic_model_dir: Path, fake: ColourLandmarker, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    _run(people, synthetic_model_dir, group_by="folder", report_dir=out)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Report card" in md
    rows = [line for line in md.splitlines() if line.startswith(("| bob ", "| alice "))]
    assert rows == [
        f"| bob | 12 | 58.33% | 83.33% | 70.00% | {_bob_macro_f1():.3f} | {BOB_WORST} |",
        "| alice | 12 | 100.00% | 100.00% | 100.00% | 1.000 | - |",
    ], "worst group first"
    assert md.index("## Report card") < md.index("## Per class") < md.index("| class |")
    assert (out / "per_group.png").stat().st_size > 1000 and "(per_group.png)" in md
    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert saved["per_group"]["bob"]["worst"][0]["read_as"] == {"L": 3}


def test_cli_table_and_json(
    people: Path, synthetic_model_dir: Path, fake: ColourLandmarker, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["evaluate", str(people), "--model", str(synthetic_model_dir), "--no-cache", "--workers", "1", "-q"]
    assert cli.main([*base, "--group-by", "folder", "--views", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    head = out.index("report card, worst group first:")
    bob, alice = out[head + 2], out[head + 3]
    assert bob.split()[:5] == ["bob", "12", "58.33%", "83.33%", "70.00%"] and bob.endswith(BOB_WORST)
    assert alice.split()[:3] == ["alice", "12", "100.00%"] and alice.endswith(" -")
    assert cli.main([*base, "group_by=folder", "--json"]) == 0, "key=value works as for every option"
    m = json.loads(capsys.readouterr().out)
    assert m["per_group"]["bob"]["accuracy"] == pytest.approx(BOB_ACC)


# ---- bad input: one line, before any landmark work where possible ------------------------------------
def _cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main([*args, "--no-cache", "--workers", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_group_by_folder_on_a_flat_set(
    flat: Path, synthetic_model_dir: Path, fake: ColourLandmarker, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(["evaluate", str(flat), "--model", str(synthetic_model_dir), "--group-by", "folder"], capsys)
    assert "--group-by folder needs one sub-folder per group" in err and "B/ holds photos" in err
    assert fake.calls == 0


def test_pattern_that_matches_no_file(
    flat: Path, synthetic_model_dir: Path, fake: ColourLandmarker, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", str(flat), "--model", str(synthetic_model_dir), "--group-pattern", r"hand(\d+)"]
    assert "does not match any of the 24 file names" in _cli_error(args, capsys)
    with pytest.raises(DatasetError, match="does not match file name"):  # some match, one does not
        _run(flat, synthetic_model_dir, group_pattern="alice")
    with pytest.raises(DatasetError, match="bad group pattern"):
        _run(flat, synthetic_model_dir, group_pattern="(")
    assert fake.calls == 0


def test_groups_with_no_photo(people: Path, synthetic_model_dir: Path, fake: ColourLandmarker) -> None:
    (people / "carol").mkdir()
    with pytest.raises(DatasetError, match=r"carol/ is empty \(for a flat"):  # not "holds photos"
        _run(people, synthetic_model_dir, group_by="folder")
    (people / "carol" / "B").mkdir(parents=True)
    with pytest.raises(DatasetError, match="carol: no images found"):
        _run(people, synthetic_model_dir, group_by="folder")
    _photo(people / "carol" / "hello" / "0.png", "B")
    with pytest.raises(DatasetError, match="'carol': no photo of a class the model knows"):
        _run(people, synthetic_model_dir, group_by="folder")
    assert fake.calls == 0
    (people / "carol" / "B" / "0.png").write_bytes(b"")  # carol's only known photo cannot be read
    with pytest.raises(DatasetError, match="'carol': no photo that could be read"):
        _run(people, synthetic_model_dir, group_by="folder")


def test_nested_set_without_group_by_says_how(
    people: Path, synthetic_model_dir: Path, fake: ColourLandmarker, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(["evaluate", str(people), "--model", str(synthetic_model_dir)], capsys)
    assert "none of its classes (alice, bob)" in err and "add --group-by folder" in err
    with pytest.raises(AslkitError, match="not both"):
        _run(people, synthetic_model_dir, group_by="folder", group_pattern="x")
    with pytest.raises(AslkitError, match="unknown group_by"):
        _run(people, synthetic_model_dir, group_by="camera")


def test_clips_get_the_same_card_per_signer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Sign models group clips by their signer field; the card has the photo card's fields, and a signer
    whose hands are never seen has a detection rate of 0."""
    if not (SHIPPED_LETTERS.parent / "words.json").is_file():
        pytest.skip("no shipped words model: src/aslkit/weights/words.json is absent")
    rng = np.random.default_rng(0)
    seqs = rng.uniform(0.2, 0.8, (8, 20, 258)).astype(np.float32)
    seqs[4:, :, 132:] = 0.0  # signer "s2": pose only, no hand in any frame
    data = tmp_path / "clips.npz"
    np.savez(data, sequences=seqs, label=np.array(["hello"] * 8), signer=np.array(["s1"] * 4 + ["s2"] * 4))
    m = evaluate(data, model="words", progress=False, cache_dir=None)
    assert m["group_by"] == "signer" and set(m["per_group"]) == {"s1", "s2"}
    s1, s2 = m["per_group"]["s1"], m["per_group"]["s2"]
    assert set(s1) == {"n", "accuracy", "detection_rate", "accuracy_detected", "n_detected", "macro_f1", "worst"}
    assert (s1["n"], s1["detection_rate"], s2["n"], s2["detection_rate"]) == (4, 1.0, 4, 0.0)
    assert cli.main(["evaluate", str(data), "--model", "words", "--no-cache", "-q"]) == 0
    assert "report card, worst signer first:" in capsys.readouterr().out
    with pytest.raises(AslkitError, match="clips are grouped by their signer"):
        evaluate(data, model="words", progress=False, group_by="folder")
