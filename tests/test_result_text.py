"""The API's text for its results: the exact lines `aslkit` prints, so the command line only prints them.

Each test builds a result by hand (no MediaPipe, no video) and checks every character of its line, file
names escaped by ``shown`` included: the CLI's output must not change when its text moves into the API.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SYNTH_LABELS, write_grey

from aslkit.errors import AslkitError

ODD = "caf\udcc3\n.jpg"  # a non-UTF-8 byte (as os.fsdecode gives it) and a newline: printed escaped
ODD_SHOWN = "caf\\xc3\\n.jpg"


# ---- predict --------------------------------------------------------------------------------------------------
def test_prediction_lines() -> None:
    from aslkit.inference.recognizer import Prediction

    assert Prediction("a.jpg", "B", 0.91234, [("B", 0.91)], True).text_line() == "a.jpg\tB\t0.912"
    assert Prediction("a.jpg", "Nothing", 0.5, [], False).text_line() == "a.jpg\tNothing\t0.500\t(no hand found)"
    assert Prediction("a.jpg", "B", 0.5, [], None).text_line() == "a.jpg\tB\t0.500"  # image model: no hand asked
    bad = Prediction(ODD, None, 0.0, [], False, f"{ODD}: not\tan image")
    assert bad.text_line() == f"{ODD_SHOWN}\terror: {ODD_SHOWN}: not\\tan image"


def test_clip_prediction_lines() -> None:
    from aslkit.inference.sequence_recognizer import ClipPrediction

    ok = ClipPrediction("c.npy", "hello", 0.8, [("hello", 0.8)], True, None, None, 20, 18)
    assert ok.text_line() == "c.npy\thello\t0.800\t20 frames"
    none = ClipPrediction("c.mp4", "-", 0.4, [], False, None, None, 7, 0)
    assert none.text_line() == "c.mp4\t-\t0.400\t7 frames\t(no hand in any frame)"
    assert ClipPrediction(ODD, None, 0.0, [], False, "unreadable").text_line() == f"{ODD_SHOWN}\terror: unreadable"


def test_path_predictions_fail_only_when_no_file_was_read() -> None:
    from aslkit.inference.recognizer import Prediction
    from aslkit.inference.recognizers import PathPredictions

    bad, good = Prediction("x", None, 0.0, [], False, "no"), Prediction("y", "B", 0.9, [], True)
    assert PathPredictions([bad, good], "an image").failure() is None
    assert PathPredictions([bad, bad], "a clip").failure() == "none of the 2 file(s) could be read as a clip"


def test_predict_files_reads_photos_and_reports_unreadable_ones(synthetic_model_dir: Path, tmp_path: Path) -> None:
    from aslkit.inference.recognizers import predict_files

    grey = write_grey(tmp_path / "g.png")
    res = predict_files([grey, tmp_path / "absent.jpg"], synthetic_model_dir, cache_dir=None)
    assert res.reads == "an image" and res.failure() is None
    assert [p.error is None for p in res.rows] == [True, False]  # in the order the paths were given
    assert res.rows[0].label == "Nothing" and res.rows[0].hand is False
    none = predict_files([tmp_path / "absent.jpg"], synthetic_model_dir, cache_dir=None)
    assert none.failure() == "none of the 1 file(s) could be read as an image"


def test_predict_files_refuses_what_does_not_apply(synthetic_model_dir: Path, tmp_path: Path) -> None:
    from aslkit.inference.recognizers import predict_files

    with pytest.raises(AslkitError, match="--engine ray runs the landmark letter models on torch"):
        predict_files([tmp_path], synthetic_model_dir, backend="onnx", engine="ray", cache_dir=None)
    with pytest.raises(AslkitError, match="--views applies to photos"):
        predict_files([tmp_path], "words", views="2", cache_dir=None)
    clips = predict_files([tmp_path / "absent.npy"], "words", cache_dir=None)
    assert clips.failure() == "none of the 1 file(s) could be read as a clip"


# ---- transcribe, live, make-spelling-video ---------------------------------------------------------------------
def test_spelling_result_lines() -> None:
    from aslkit.inference.transcribe import SpellingResult

    assert SpellingResult("v.mp4", "HELLO").text_line() == "v.mp4\tHELLO"
    assert SpellingResult("v.mp4", "").text_line() == "v.mp4\t(nothing read)"
    snapped = SpellingResult("v.mp4", "HELLO", raw_text="HELO")
    assert snapped.text_line() == "v.mp4\tHELLO\t(word list; read HELO)"
    assert SpellingResult(ODD, error=f"{ODD}: no frames").text_line() == f"{ODD_SHOWN}\terror: {ODD_SHOWN}: no frames"


def test_live_result_json_and_speed() -> None:
    from aslkit.inference.stream import Event
    from aslkit.live.run import LiveResult

    res = LiveResult("AB", [Event("letter", "A", 1.23456, 0.9)], frames=30, seconds=2.0, stage_ms={"decode": [1.0]})
    d = res.to_json()
    assert list(d)[:3] == ["text", "events", "fps"] and d["text"] == "AB" and d["fps"] == 15.0
    assert d["events"] == [{"kind": "letter", "value": "A", "time": 1.235, "confidence": 0.9}]
    assert json.loads(json.dumps(d)) == d
    assert res.speed_line() == "30 frames at 15.0 FPS"


def test_spelling_video_line(tmp_path: Path) -> None:
    from aslkit.data.spelling_video import SpellingVideo

    v = SpellingVideo(tmp_path / "ab.mp4", "AB", 15.0, 42, [])
    assert v.text_line() == f"{tmp_path / 'ab.mp4'}: 'AB', 42 frames at 15 FPS (photos listed in ab.mp4.json)"


# ---- detect, convert, extract, export -----------------------------------------------------------------------------
def test_detect_row_lines() -> None:
    from aslkit.detect import DetectRow
    from aslkit.inference.detector import Detection

    boxes = [Detection((10.4, 20.6, 100.0, 200.5), "A", 0.876), Detection((1, 2, 3, 4), "B", 0.5)]
    assert (
        DetectRow("p.jpg", None, boxes, hands=2).text_line() == "p.jpg\tA 0.88 [10, 21, 100, 200]; B 0.50 [1, 2, 3, 4]"
    )
    assert DetectRow("p.jpg", None, [], hands=0).text_line() == "p.jpg\tno hand"
    assert DetectRow("p.jpg", None, [], hands=1).text_line() == "p.jpg\tno letter at this confidence"
    assert DetectRow("v.mp4", 3, boxes, hands=1).text_line() is None  # a video frame: JSON rows and summary only
    assert DetectRow(ODD, 3, [], error="broken").text_line() == f"{ODD_SHOWN}\terror: broken"


def test_detect_summary_text() -> None:
    from aslkit.detect import DetectRow, Summary, detect_summary_text
    from aslkit.inference.detector import Detection

    s = Summary(conf=0.5)
    s.photos, s.videos = 2, 1
    for row in (
        DetectRow("a.jpg", None, [Detection((0, 0, 1, 1), "B", 0.9), Detection((0, 0, 1, 1), "A", 0.8)], hands=2),
        DetectRow("b.jpg", None, [], hands=0),
        DetectRow("v.mp4", 0, [], hands=1, best=("C", 0.2)),
        DetectRow("x.jpg", None, [], error="unreadable"),
    ):
        s.add(row)
    first = "2 photos, 1 videos, 3 frames: 2 boxes (A 1, B 1); no hand in 1, unsure in 1, 1 unreadable"
    assert detect_summary_text(s.to_json()) == first
    assert (
        detect_summary_text(s.to_json(), "out") == first + "\nannotated files, detections.jsonl and summary.md in out"
    )
    empty = detect_summary_text(Summary(conf=0.5).to_json())
    assert empty == "0 photos, 0 videos, 0 frames: 0 boxes (none); no hand in 0, unsure in 0, 0 unreadable"


def test_convert_text_lists_the_first_problems(tmp_path: Path) -> None:
    from aslkit.data.boxes import BoxSet, convert_text

    bs = BoxSet(tmp_path, [], ["A", "B"], [(f"row {i}", f"why {i}") for i in range(7)], source_format="csv")
    lines = convert_text(bs, tmp_path / "out" / "data.yaml", ODD, tmp_path / "out", "yolo", link=True).splitlines()
    assert lines[0] == f"{ODD_SHOWN} (csv): 0 images, 0 boxes, 2 classes"
    assert lines[1] == f"wrote yolo: {tmp_path / 'out' / 'data.yaml'} (images hard-linked)"
    assert lines[2] == f"7 problem(s) left out or fixed, listed in {tmp_path / 'out' / 'problems.json'}; first:"
    assert lines[3:] == [f"  row {i}: why {i}" for i in range(5)]
    clean = BoxSet(tmp_path, [], ["A"], source_format="coco")
    assert convert_text(clean, tmp_path / "a.csv", "in.json", tmp_path, "csv").splitlines()[1:] == [
        f"wrote csv: {tmp_path / 'a.csv'} (images copied)"
    ]


def test_extract_text(tmp_path: Path) -> None:
    from aslkit.landmarks.extract import ExtractResult, extract_text

    r = ExtractResult(tmp_path / "shards", rows=10, with_hand=7, errors=1, seconds=4.0, engine="local", workers=2)
    assert extract_text(r.to_json()) == (
        "10 photos (7 with a hand, 1 unreadable) in 4.0 s: 2.5 images/s, 2 local workers; "
        f"shards in {tmp_path / 'shards'}"
    )


def test_export_text() -> None:
    from aslkit.inference.onnx_export import export_text

    r = {"onnx": "m.onnx", "model": "m", "bytes": 1_234_567, "inputs": 64, "max_abs_logit_diff": 3.2e-6,
         "top1_agreement": 1.0, "real_data": False, "ok": True}  # fmt: skip
    tail = "largest logit difference 3.20e-06, top-1 agreement 100.00%"
    assert export_text(r) == f"wrote m.onnx (1.23 MB); against torch on 64 random inputs: {tail}"
    assert export_text(r, "photos/") == f"wrote m.onnx (1.23 MB); against torch on 64 real inputs from photos/: {tail}"


# ---- models, benchmark, labels, compare ----------------------------------------------------------------------
def test_describe_models_lists_every_architecture_and_shipped_model() -> None:
    from aslkit.models import get_model_info, list_models
    from aslkit.models.io import DEFAULT_MODEL, describe_models, models_text, shipped_models

    d = describe_models()
    assert [a["name"] for a in d["architectures"]] == list_models()
    assert all(a["input"] == get_model_info(a["name"]).input for a in d["architectures"])
    assert [t["name"] for t in d["trained"]] == list(shipped_models())
    assert [t["name"] for t in d["trained"] if t["default"]] == [DEFAULT_MODEL] * (DEFAULT_MODEL in shipped_models())
    text = models_text(d).splitlines()
    assert text[0] == "registered architectures:" and "shipped trained models:" in text
    for a in d["architectures"]:
        assert f"  {a['name']:<22} [{a['input']}] {a['description']}" in text
    shipped_lines = text[text.index("shipped trained models:") + 1 :]
    assert shipped_lines == [
        f"  {t['name']:<22} {t['architecture']}, {t['classes']} classes{' (default)' if t['default'] else ''}"
        for t in d["trained"]
    ]


def test_models_text_shows_recipes_and_the_default() -> None:
    from aslkit.models.io import models_text

    d = {
        "architectures": [{"name": "x", "input": "image", "description": "an x", "recipe": {"epochs": 3, "lr": 0.1}}],
        "trained": [{"name": "letters", "architecture": "x", "classes": 3, "default": True, "labels": SYNTH_LABELS}],
    }
    assert models_text(d).splitlines() == [
        "registered architectures:",
        f"  {'x':<22} [image] an x",
        f"  {'':<22} recipe: epochs=3, lr=0.1",
        "shipped trained models:",
        f"  {'letters':<22} x, 3 classes (default)",
    ]


def test_benchmark_text_follows_the_result() -> None:
    from aslkit.evaluation.benchmark import benchmark_text

    seq = {"model": "words", "architecture": "seq", "clips": 5, "frames_per_clip": 20, "data": "random",
           "per_clip_ms": {"median": 1.0, "p95": 2.0}, "stages": {"model": 0.5},
           "stages_p95": {"model": 0.7}}  # fmt: skip
    assert benchmark_text(seq).splitlines()[0] == "model: words (seq)"
    live = {"source": "v.mp4", "frames": 10, "fps": 5.0, "text": "AB", "hand_frames": 9, "hand_rate": 0.9,
            "retry_frames": 1, "retry_runs": 2, "stages": {"decode": 1.0}, "stages_p95": {"decode": 2.0},
            "classifier_and_smoothing_ms": 0.25}  # fmt: skip
    assert benchmark_text(live).splitlines()[0] == "source: v.mp4"


def test_benchmark_refuses_live_settings_for_a_sign_model() -> None:
    from aslkit.evaluation.benchmark import benchmark

    with pytest.raises(AslkitError, match=r"word_gap_s: time the live pipeline of a letter model, not a sign model"):
        benchmark("words", word_gap_s="1.5")


@pytest.mark.parametrize(("model", "given", "why"), [
    ("words", {"word": "HI"}, "--word: time the live pipeline"),
    ("words", {"max_frames": 10}, "--max-frames: time the live pipeline"),
    ("letters", {"clips": 5}, "--clips: not used by a letter model's live benchmark"),
    ("letters", {"frames": 20}, "--frames: not used"),
    ("letters", {"source": "v.mp4", "word": "HI"}, "--word (a video is built only without --source)"),
])  # fmt: skip
def test_benchmark_refuses_what_the_models_kind_would_ignore(model: str, given: dict, why: str) -> None:
    """benchmark --clips 5 with the letter model, or --word HI with a sign model, were ignored without a word."""
    from aslkit.evaluation.benchmark import benchmark

    with pytest.raises(AslkitError, match=re.escape(why)):
        benchmark(model, **given)


def test_label_list() -> None:
    from aslkit.labels import label_list

    assert label_list("a, B,,del") == ["A", "B", "Del"]
    assert label_list(None) is None and label_list("") is None
    assert label_list(" , ") == []


def test_compared_any() -> None:
    from aslkit.evaluation.compare import compared_any

    assert compared_any([{"model": "a", "skipped": "no weights"}, {"model": "b", "params": 1}])
    assert not compared_any([{"model": "a", "skipped": "no weights"}])
    assert not compared_any([])
