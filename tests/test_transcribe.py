"""Fingerspelling videos to text (`aslkit transcribe`), word-list snapping, and the spelling metrics
(`aslkit evaluate-spelling`): pure rules on hand-made letters and rows first, then real videos built
from Massey photos (skipped without ../shared/data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import shared_dir

from aslkit.cli import main
from aslkit.errors import AslkitError, DatasetError
from aslkit.evaluation.spelling import (
    evaluate_spelling,
    normalize_text,
    read_labels,
    report_markdown,
    score_row,
    signing_seconds,
    spelling_text,
    spelling_truth,
    summarize,
    truth_from_name,
)
from aslkit.inference.lexicon import Lexicon, LexiconError, levenshtein, load_lexicon, weighted_distance
from aslkit.inference.spelling import SpelledLetter
from aslkit.inference.stream import Event
from aslkit.inference.transcribe import FrameClock, SpellingResult, _text_chars, transcribe, transcribe_paths

LEX = Lexicon(["hello", "help", "world", "water", "coffee", "thank", "you", "anna"])


# ---------------------------------------------------------------------------------------------
# the word list
# ---------------------------------------------------------------------------------------------
def test_edit_distances() -> None:
    assert levenshtein("KITTEN", "SITTING") == 3
    assert levenshtein("", "ABC") == 3 and levenshtein("ABC", "ABC") == 0
    assert levenshtein("ABCDEFGH", "XYZ", limit=2) == 3, "beyond the limit: limit + 1"
    # substituting an unsure letter is cheap, a sure one dear; a missed letter costs its neighbours' confidence
    assert weighted_distance("HELLN", [0.9, 0.9, 0.9, 0.9, 0.3], "HELLO") == pytest.approx(0.3)
    assert weighted_distance("HELLN", [0.3, 0.9, 0.9, 0.9, 0.9], "HELLO") == pytest.approx(0.9)
    assert weighted_distance("HELO", [0.9, 0.4, 0.6, 0.9], "HELLO") == pytest.approx(0.5)  # between E and L


def test_unsure_near_misses_snap_and_sure_or_far_words_pass_through() -> None:
    assert LEX.snap("HELLN", [0.95, 0.9, 0.95, 0.95, 0.4]) == "HELLO"  # the one odd letter was unsure
    assert LEX.snap("HELLN", [0.95] * 5) == "HELLN", "a confident reading is kept letter by letter"
    assert LEX.snap("ANA", [0.99] * 3) == "ANA", "a clearly read name is not turned into ANNA"
    assert LEX.snap("ANA", [0.99, 0.5, 0.5]) == "ANNA"  # the letters beside the gap were unsure
    assert LEX.snap("XQWZ", [0.1] * 4) == "XQWZ", "no list word within a quarter of the word"
    assert LEX.snap("WATRE", [0.3] * 5) == "WATRE", "two edits on five letters is more than 25%"
    assert LEX.snap("HELP", [0.1] * 4) == "HELP", "a list word stays itself"
    assert LEX.snap("Y", [0.1]) == "Y", "a single letter is never replaced"
    assert LEX.snap("COFEE", [0.9, 0.9, 0.5, 0.9, 0.9]) == "COFFEE"  # a double letter read once
    assert LEX.snap("HELPO", [0.9, 0.9, 0.9, 0.3, 0.5]) == "HELLO", "ties and costs: cheapest change wins"
    # snapping a whole text: spaces kept, a word sign (confidence None) never changed
    chars = [(c, 0.95) for c in "THANK"] + [(" ", None)] + [(c, 0.4) for c in "YOV"] + [(" ", None)]
    chars += [(c, None) for c in "HELPO"]
    assert LEX.snap_text(chars) == "THANK YOU HELPO"


def test_ties_go_to_the_word_listed_first() -> None:
    assert Lexicon(["CAT", "CUT"]).snap("CXT", [0.9, 0.2, 0.9]) == "CAT"
    assert Lexicon(["CUT", "CAT"]).snap("CXT", [0.9, 0.2, 0.9]) == "CUT"


def test_lexicon_files(tmp_path: Path) -> None:
    good = tmp_path / "words.txt"
    good.write_text("\ufeff# greetings\nHello\n\n  thank  # polite\nyou\r\nhello\n", encoding="utf-8")
    assert load_lexicon(good).words == ["HELLO", "THANK", "YOU"]
    cases = {
        "empty.txt": (b"", "the file is empty"),
        "blank.txt": (b"\n  \n", "the file is empty"),
        "comments.txt": (b"# only a comment\n", "no words"),
        "nul.txt": (b"cat\x00dog\n", "a binary file"),
        "latin1.txt": ("café\n".encode("latin-1"), "not UTF-8"),
        "png.txt": (b"\x89PNG\r\n\x1a\n\x00\x00", "a binary file"),
        "bad.txt": (b"cat\n# fine\nnew york\n", "line 3: 'new york' is not a word of letters A-Z"),
        "digits.txt": ("dog\ncaf\u00e9\n".encode(), "line 2"),
    }
    for name, (data, why) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(LexiconError) as exc:
            load_lexicon(tmp_path / name)
        msg = str(exc.value)
        assert why in msg and "\n" not in msg and name in msg, msg
    with pytest.raises(LexiconError, match="no such file"):
        load_lexicon(tmp_path / "missing.txt")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.txt")
        with pytest.raises(LexiconError, match="FIFO"):
            load_lexicon(tmp_path / "fifo.txt")  # never blocks


# ---------------------------------------------------------------------------------------------
# the frame loop's pieces
# ---------------------------------------------------------------------------------------------
def test_frame_clock_uses_timestamps_and_falls_back_to_the_frame_rate() -> None:
    clock = FrameClock(10.0)
    got = [clock(ms) for ms in (0.0, 100.0, 250.0, 250.0, None, float("nan"), 900.0)]
    assert got[:3] == pytest.approx([0.0, 0.1, 0.25])  # the video's own times (variable frame rate kept)
    assert all(b > a for a, b in zip(got, got[1:], strict=False)), f"times must increase: {got}"
    assert got[3:6] == pytest.approx([0.3, 0.4, 0.5]) and got[-1] == pytest.approx(0.9)  # n / fps between
    assert FrameClock(float("nan")).fps == 30.0 and FrameClock(0.0).fps == 30.0


def test_text_replay_takes_each_letters_final_confidence() -> None:
    a, b = SpelledLetter("A", 0.0, 0.5, 0.4), SpelledLetter("B", 1.0, 1.2, 0.9)
    events = [
        Event("letter", "A", 0.3, 0.99, 0.0),  # the event has the first frame's confidence; the letter its mean
        Event("letter", "X", 0.6, 0.5, 0.55),
        Event("delete", "del", 0.7, 1.0),
        Event("space", "space", 0.8, 1.0),
        Event("space", "space", 0.9, 1.0),
        Event("letter", "B", 1.2, 0.8, 1.0),
        Event("word", "hello", 1.5, 0.9),
    ]
    assert _text_chars(events, [a, b]) == [("A", 0.4), (" ", None), ("B", 0.9), (" ", None)] + [
        (c, None) for c in "hello"
    ] + [(" ", None)]


def test_result_json_has_exactly_the_promised_fields() -> None:
    r = SpellingResult("v.mp4", "HI", [SpelledLetter("H", 0.1, 0.3, 0.91234), SpelledLetter("I", 0.5, 0.6, 0.8)])
    assert r.to_json() == {
        "path": "v.mp4",
        "text": "HI",
        "letters": [
            {"letter": "H", "start": 0.1, "end": 0.3, "confidence": 0.9123},
            {"letter": "I", "start": 0.5, "end": 0.6, "confidence": 0.8},
        ],
        "error": None,
    }
    r.raw_text = "HJ"
    assert r.to_json()["raw_text"] == "HJ"
    assert SpellingResult("x", error="x: bad").to_json() == {"path": "x", "text": "", "letters": [], "error": "x: bad"}


def _write_video(path: Path, frames: int, fps: float = 10.0, size: tuple[int, int] = (96, 72)) -> Path:
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(frames):
        vw.write(np.full((size[1], size[0], 3), 40 + i, np.uint8))
    vw.release()
    return path


class _FakeRecognizer:
    """Reads ``word`` one letter every three frames (unsure letters where ``conf`` says so): the frame loop,
    the end of stream and the word list without MediaPipe."""

    def __init__(self, word: str, conf: list[float]) -> None:
        from aslkit.inference.stream import Transcript

        self.word, self.conf, self.times, self.letters, self.finished = word, conf, [], [], False
        self.transcript = Transcript()

    def process(self, rgb: np.ndarray, t: float):
        assert rgb.ndim == 3 and rgb.dtype == np.uint8
        self.times.append(t)
        events = []
        k = len(self.times) - 1
        if k % 3 == 0 and k // 3 < len(self.word):
            i = k // 3
            self.letters.append(SpelledLetter(self.word[i], t, t + 0.1, self.conf[i]))
            events.append(Event("letter", self.word[i], t, 1.0, t))
        for e in events:
            self.transcript.apply(e)
        return type("R", (), {"events": events})()

    def finish(self) -> list[Event]:
        self.finished = True
        return []

    def close(self) -> None:
        raise AssertionError("a recognizer the caller gave is the caller's to close")


def test_transcribe_loop_with_a_word_list(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "clip.avi", 15, fps=10.0)
    rec = _FakeRecognizer("HELLN", [0.95, 0.9, 0.95, 0.95, 0.4])
    r = transcribe(video, lexicon=LEX, recognizer=rec)  # type: ignore[arg-type]
    assert rec.finished and len(rec.times) == 15 and r.frames == 15
    assert np.allclose(np.diff(rec.times), 0.1, atol=0.02), rec.times
    assert r.duration == pytest.approx(1.5, abs=0.05)
    assert (r.text, r.raw_text, "".join(x.letter for x in r.letters)) == ("HELLO", "HELLN", "HELLN")
    r2 = transcribe(video, lexicon=LEX, recognizer=_FakeRecognizer("HELLN", [0.95] * 5))  # type: ignore[arg-type]
    assert (r2.text, r2.raw_text) == ("HELLN", None)
    assert "raw_text" not in r2.to_json()


# ---------------------------------------------------------------------------------------------
# metrics and truth
# ---------------------------------------------------------------------------------------------
def test_truth_from_names_and_text_normalisation() -> None:
    assert truth_from_name("videos/horse.mp4") == "HORSE"
    assert truth_from_name("horse-2.mp4") == truth_from_name("Horse_12.MOV") == "HORSE"
    assert truth_from_name("new york.mp4") == "NEW YORK"
    assert truth_from_name("thank-you.mp4") == "THANKYOU"
    assert normalize_text("  it's   a\tcat! 3 ") == "ITS A CAT"


def test_metrics_on_hand_made_rows() -> None:
    rows = []
    for truth, text, seconds in (("CAT", "CAT", 1.0), ("HELLO", "HELO", 2.0), ("NO WAY", "NO", 2.0)):
        rows.append({"truth": truth, "text": text, "seconds": seconds, "error": None, **score_row(truth, text)})
    assert [r["distance"] for r in rows] == [0, 1, 4]
    assert rows[1]["score"] == pytest.approx(0.8)
    rows.append({"truth": "BAD", "text": None, "seconds": 0.0, "error": "x: bad", "truth_chars": 0, "distance": None})
    m = summarize(rows)
    assert (m["n"], m["errors"], m["exact"], m["truth_chars"], m["distance"]) == (3, 1, 1, 14, 5)
    assert m["score"] == pytest.approx((14 - 5) / 14) and m["cer"] == pytest.approx(5 / 14)
    assert m["exact_share"] == pytest.approx(1 / 3)
    assert m["letters_per_second"] == pytest.approx(13 / 5.0), "truth letters (no spaces) per signing second"
    worse = summarize([{"truth": "A", "text": "XYZ", "seconds": 1.0, "error": None, **score_row("A", "XYZ")}])
    assert worse["score"] == pytest.approx(-2.0), "the competition's score is not clipped"
    assert score_row("hello world", "HELLO  WORLD")["exact"] is True


def test_signing_time_runs_from_the_first_letter_to_the_last() -> None:
    letters = [SpelledLetter("A", 1.0, 1.5, 0.9), SpelledLetter("B", 2.0, 2.9, 0.9)]
    assert signing_seconds(SpellingResult("v", "AB", letters, frames=50, duration=5.0)) == pytest.approx(2.0)
    assert signing_seconds(SpellingResult("v", "", [], frames=50, duration=5.0)) == 5.0


def test_labels_csv(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    f.write_text('file,text\nhello.mp4,Hello\n"b, c.mp4","thank you!"\n\n', encoding="utf-8")
    assert read_labels(f) == {"hello.mp4": "HELLO", "b, c.mp4": "THANK YOU"}
    f.write_text("TEXT,File,notes\nhi,a.mp4,x\n", encoding="utf-8")
    assert read_labels(f) == {"a.mp4": "HI"}, "columns by name, any order and case"
    for data, why in (
        (b"path,label\na.mp4,HI\n", "expected the columns file,text, got 'path,label'"),
        (b"", "expected the columns file,text, got an empty file"),
        (b"file,text\n", "no rows"),
        (b"file,text\na.mp4,HI\na.mp4,HO\n", "line 3: 'a.mp4' is listed twice"),
        (b"file,text\n,HI\n", "line 2"),
        (b"file,text\x00\n", "binary"),
    ):
        f.write_bytes(data)
        with pytest.raises(DatasetError) as exc:
            read_labels(f)
        assert why in str(exc.value) and "\n" not in str(exc.value), str(exc.value)


def test_truth_from_labels_or_names(tmp_path: Path) -> None:
    (tmp_path / "named").mkdir()
    for name in ("cat.mp4", "cat-2.mp4", "notes.txt"):
        (tmp_path / "named" / name).write_bytes(b"x")
    pairs, problems = spelling_truth([tmp_path / "named"])
    assert sorted((p.name, t) for p, t in pairs) == [("cat-2.mp4", "CAT"), ("cat.mp4", "CAT")] and not problems
    (tmp_path / "listed").mkdir()
    (tmp_path / "listed" / "x.mp4").write_bytes(b"x")
    (tmp_path / "listed" / "labels.csv").write_text("file,text\nx.mp4,dog\ngone.mp4,cat\n", encoding="utf-8")
    pairs, _ = spelling_truth([tmp_path / "listed"])
    assert [(p.name, t) for p, t in pairs] == [("x.mp4", "DOG"), ("gone.mp4", "CAT")]


def test_truth_of_a_labels_csv_given_as_a_file_of_no_letters_and_of_a_video_given_twice(tmp_path: Path) -> None:
    """The help offers DIR or a labels.csv; a truth without a letter cannot be scored; a video is scored once."""
    (tmp_path / "set").mkdir()
    for name in ("x.mp4", "y.mp4", "123.mp4"):
        (tmp_path / "set" / name).write_bytes(b"x")
    (tmp_path / "set" / "labels.csv").write_text("file,text\nx.mp4,dog\ny.mp4,42\n", encoding="utf-8")
    pairs, problems = spelling_truth([tmp_path / "set" / "labels.csv", tmp_path / "set", tmp_path / "set" / "x.mp4"])
    assert [(p.name, t) for p, t in pairs] == [("x.mp4", "DOG")], "x.mp4 three times over, scored once"
    assert [(Path(p).name, "no letter A-Z" in why) for p, why in problems] == [("y.mp4", True)]
    pairs, problems = spelling_truth([tmp_path / "set" / "123.mp4"])
    assert not pairs and "123.mp4: its truth has no letter A-Z" in problems[0][1]
    with pytest.raises(DatasetError, match=r"^nothing to evaluate: .*123.mp4: its truth has no letter"):
        evaluate_spelling(tmp_path / "set" / "123.mp4", model="letters")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"^nothing to evaluate: .*empty: no videos found"):
        evaluate_spelling(tmp_path / "empty", model="letters")


def test_report_folder_is_checked_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cat.mp4").write_bytes(b"not read")
    with pytest.raises(AslkitError, match="inside the evaluated videos"):
        evaluate_spelling(tmp_path / "in", model="no-such-model", report_dir=tmp_path / "in" / "rep")
    with pytest.raises(AslkitError, match="beside the input"):  # a video given as a file: not beside it either
        evaluate_spelling(tmp_path / "in" / "cat.mp4", model="no-such-model", report_dir=tmp_path / "in" / "rep")
    (tmp_path / "listing").mkdir()
    (tmp_path / "listing" / "labels.csv").write_text("file,text\n../in/cat.mp4,CAT\n", encoding="utf-8")
    with pytest.raises(AslkitError, match="beside the input .*cat.mp4"):  # the videos a labels.csv lists
        evaluate_spelling(tmp_path / "listing", model="no-such-model", report_dir=tmp_path / "in" / "rep2")
    with pytest.raises(DatasetError, match="expected the columns"):
        (tmp_path / "in" / "labels.csv").write_text("name,word\ncat.mp4,CAT\n", encoding="utf-8")
        evaluate_spelling(tmp_path / "in", model="no-such-model")
    m = {"data": "d", "model": "m", "lexicon": None, "n": 1, "errors": 0, "exact": 1, "exact_share": 1.0,
         "truth_chars": 2, "distance": 0, "score": 1.0, "cer": 0.0, "letters_per_second": 2.0,
         "rows": [{"path": "a|b\n.mp4", "truth": "HI", "text": "HI", "exact": True, "distance": 0, "score": 1.0,
                   "letters_per_second": 2.0, "error": None}]}  # fmt: skip
    md = report_markdown(m)
    assert "| a\\|b\\n.mp4 | HI | HI | yes | 0 | 1.000 | 2.00 | - |" in md, md


def test_cli_errors_before_any_video(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert main(["transcribe", str(tmp_path / "any.mp4"), "--lexicon", str(tmp_path / "empty.txt")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "the file is empty" in err
    assert main(["transcribe", str(tmp_path / "any.mp4"), "--no-such-setting", "3"]) == 1
    assert "unknown live option --no-such-setting" in capsys.readouterr().err
    assert main(["transcribe", str(tmp_path / "any.mp4"), "word_gap_s=-1"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    # values, not only names: these were one "could not be read" row per video, the batch going on
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "cat.mp4").write_bytes(b"not read")
    for task in ("transcribe", "evaluate-spelling"):
        for setting, needle in (("motion_model=nope", "--motion-model: model 'nope' not found"),
                                ("word_model=nope", "--word-model: model 'nope' not found")):  # fmt: skip
            assert main([task, str(tmp_path / "v"), setting]) == 1
            out, err = capsys.readouterr()
            assert out == "" and err.count("\n") == 1 and needle in err, (task, setting, err)
        for setting, needle in (("decoder=bogus", "invalid choice: 'bogus' (choose from 'spelling', 'hold')"),
                                ("backend=tf", "invalid choice: 'tf' (choose from 'torch', 'onnx')")):  # fmt: skip
            with pytest.raises(SystemExit) as usage:
                main([task, str(tmp_path / "v"), setting])
            err = capsys.readouterr().err
            assert usage.value.code == 2 and err.count("\n") == 1 and needle in err, (task, setting, err)
    for setting, needle in (("decoder", "--decoder 'bogus': use one of spelling, hold"),
                            ("backend", "--backend 'bogus': use one of torch, onnx")):  # fmt: skip
        with pytest.raises(AslkitError, match=needle):  # from Python, as live's settings
            transcribe_paths([tmp_path / "v"], **{setting: "bogus"})


# ---------------------------------------------------------------------------------------------
# real videos (MediaPipe and the shipped letter model)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Spelled words from Massey photos (signers the letter model never saw), a video without a hand, two
    hands side by side, and files that are not videos."""
    from aslkit.data.spelling_video import make_spelling_video

    data = shared_dir("massey-letters")
    d = tmp_path_factory.mktemp("spelling-videos")
    out = {"cab": make_spelling_video("CAB", data, d / "cab.mp4", fps=10, hold_s=0.6, gap_s=0.3).path}
    out["nohand"] = _write_video(d / "nohand.avi", 12)
    out["notes"] = d / "notes.mp4"
    out["notes"].write_text("not a video\n")
    out["zero"] = d / "zero.avi"
    cv2.VideoWriter(str(out["zero"]), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48)).release()
    # two people: the word on the left, another hand (held still) on the right
    cap = cv2.VideoCapture(str(out["cab"]))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    other = frames[len(frames) // 2]  # the A photo, held
    vw = cv2.VideoWriter(str(d / "two.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 480))
    for f in frames:
        vw.write(np.concatenate([f, other], axis=1))
    vw.release()
    out["two"] = d / "two.avi"
    return out


def test_transcribe_real_videos_and_bad_files(videos: dict[str, Path], tmp_path: Path) -> None:
    odd = tmp_path / os.fsdecode(b"line\nbreak caf\xe9.mp4")  # a newline and a non-UTF-8 byte in the name
    odd.symlink_to(videos["cab"])
    os.mkfifo(tmp_path / "fifo.mp4")
    paths = [videos[k] for k in ("cab", "nohand", "notes", "zero", "two")] + [odd, tmp_path / "fifo.mp4"]
    res = {Path(r.path).stem: r for r in transcribe_paths(paths)}
    assert res[odd.stem].text == "CAB" and res[odd.stem].error is None
    assert "FIFO" in res["fifo"].error, "a named pipe is refused, never read (it would block)"
    cab = res["cab"]
    assert cab.error is None and cab.text == "CAB" and [x.letter for x in cab.letters] == ["C", "A", "B"]
    spans = [(x.start, x.end) for x in cab.letters]
    assert all(s <= e for s, e in spans) and all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert spans[0][0] < 0.7 and spans[-1][1] < 2.7, f"letters where the photos are shown: {spans}"
    assert all(0 < x.confidence <= 1 for x in cab.letters)
    assert (res["nohand"].text, res["nohand"].letters, res["nohand"].error) == ("", [], None), "honestly empty"
    for bad in ("notes", "zero"):
        assert res[bad].error and "\n" not in res[bad].error and res[bad].text == "", res[bad]
    assert "no frames" in res["zero"].error or "cannot open" in res["zero"].error
    two = res["two"]
    assert two.error is None and two.text and set(two.text) <= set("CAB"), two.text


def test_cli_transcribe_and_evaluate(videos: dict[str, Path], tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["transcribe", "--json", "--word-gap-s", "1.5", str(videos["cab"]), str(videos["notes"])]) == 1
    out, err = capsys.readouterr()
    rows = {Path(r["path"]).stem: r for r in map(json.loads, out.splitlines())}
    assert set(rows["cab"]) == {"path", "text", "letters", "error"} and rows["cab"]["text"] == "CAB"
    assert rows["notes"]["error"] and "Traceback" not in err and err.count("\n") == 1, err
    # a file called 7 is that file, not camera 7; a name with a newline stays one line of output
    monkeypatch.chdir(tmp_path)
    (tmp_path / "7").symlink_to(videos["cab"])
    (tmp_path / "a\nb.mp4").symlink_to(videos["cab"])
    assert main(["transcribe", "7", "a\nb.mp4"]) == 0
    assert capsys.readouterr().out.splitlines() == ["7\tCAB", "a\\nb.mp4\tCAB"]
    # the folder is the truth: cab.mp4 spells CAB; a report folder appears with both files
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "cab.mp4").symlink_to(videos["cab"])
    report = tmp_path / "report"
    assert main(["evaluate-spelling", str(folder), "--json", "--report", str(report)]) == 0
    m = json.loads(capsys.readouterr().out)
    assert (m["n"], m["exact"], m["score"], m["cer"], m["errors"]) == (1, 1, 1.0, 0.0, 0)
    assert m["rows"][0]["truth"] == "CAB" and m["rows"][0]["letters_per_second"] > 0
    assert json.loads((report / "results.json").read_text())["score"] == 1.0
    assert "| cab.mp4 | CAB | CAB | yes |" in (report / "report.md").read_text()
    assert sorted(p.name for p in folder.iterdir()) == ["cab.mp4"], "nothing written into the inputs"
    # a readable video whose name spells nothing: its row says why, and the last line does not call it unreadable
    (folder / "123.mp4").write_bytes(videos["cab"].read_bytes())  # a copy: a link is the same video, scored once
    assert main(["evaluate-spelling", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "aslkit: error: 1 video(s) could not be scored (each row says why)", err


def test_two_videos_of_one_name_are_told_apart_in_the_rows() -> None:
    """a/horse.mp4 and b/horse.mp4 were both shown as horse.mp4, in the printout and in report.md."""
    row = {"truth": "HORSE", "exact": False, "distance": 1, "score": 0.8, "letters_per_second": 2.0, "error": None}
    m = {"data": ["a", "b"], "model": "m", "lexicon": None, "n": 3, "errors": 0, "exact": 0, "exact_share": 0.0,
         "truth_chars": 15, "distance": 3, "score": 0.8, "cer": 0.2, "letters_per_second": 2.0,
         "rows": [{**row, "path": "a/horse.mp4", "text": "HORS"}, {**row, "path": "b/horse.mp4", "text": "ORSE"},
                  {**row, "path": "b/cat.mp4", "truth": "CAT", "text": "CA"}]}  # fmt: skip
    md, text = report_markdown(m), spelling_text(m)
    assert "| a/horse.mp4 | HORSE | HORS |" in md and "| b/horse.mp4 | HORSE | ORSE |" in md
    assert "| cat.mp4 | CAT | CA |" in md, "a name that no other video shares stays short"
    assert "a/horse.mp4: HORSE -> HORS" in text and "b/horse.mp4: HORSE -> ORSE" in text and "  cat.mp4: CAT" in text


def test_rows_come_in_the_order_the_videos_were_given(tmp_path: Path) -> None:
    """A missing path's row came first, before the videos given ahead of it (predict keeps argument order)."""
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / name).write_bytes(b"not a video")
    rows = transcribe_paths([tmp_path / "a.mp4", tmp_path / "gone.mp4", tmp_path / "b.mp4"])
    assert [Path(r.path).name for r in rows] == ["a.mp4", "gone.mp4", "b.mp4"]
    assert all(r.error for r in rows) and "no such file" in rows[1].error
    assert [Path(r.path).name for r in transcribe_paths(tmp_path / "a.mp4")] == ["a.mp4"], "one path is one video"
