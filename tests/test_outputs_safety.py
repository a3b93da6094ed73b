"""Issue 15, items 1-4 and 16: every command that writes uses one rule (a new or empty folder, or a new
file, outside every input; an earlier run continued only with --resume), checked before the work starts,
and never loses, changes or writes into the user's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import snapshot, write_grey, write_shapes_npz

from aslkit.cli import main
from aslkit.errors import AslkitError
from aslkit.training import landmark_fit

FAST = [
    "--model",
    "landmark-mlp-tiny",
    "--epochs",
    "3",
    "--patience",
    "100",
    "--batch-size",
    "16",
    "--split",
    "0.8,0.2",
]


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw landmark rows of three synthetic hand shapes (trains in a second)."""
    return write_shapes_npz(tmp_path_factory.mktemp("lm") / "hands.npz", per_class=20, seed=5)


@pytest.fixture
def photo_set(tmp_path: Path) -> Path:
    """Class folders of grey photos: enough to be a data folder (nothing here runs MediaPipe)."""
    root = tmp_path / "data"
    for c in ("A", "B"):
        (root / c).mkdir(parents=True)
        for i in range(2):
            write_grey(root / c / f"{c}{i}.png", size=64, value=60 + 40 * i)
    return root


def _users_folder(path: Path) -> Path:
    """A folder of the user's own files, named like a run's (and a TensorBoard folder with a note)."""
    path.mkdir(parents=True)
    for name in ("config.json", "metrics.json", "report.md"):
        (path / name).write_text(f"the user's own {name}")
    (path / "tb").mkdir()
    (path / "tb" / "notes.txt").write_text("mine")
    return path


# ---- 1: train never clobbers or deletes the user's files ---------------------------------------------------
@pytest.mark.parametrize("bad_weights", [False, True], ids=["would-succeed", "fails-before-epoch-1"])
def test_train_refuses_a_folder_of_the_users_files(npz: Path, tmp_path: Path, capsys, bad_weights: bool) -> None:
    out = _users_folder(tmp_path / "mine")
    before = snapshot(out)
    weights = tmp_path / "bad.safetensors"
    weights.write_text("not weights")
    model = ["--model", "mobilenetv2", "--weights", str(weights)] if bad_weights else []
    assert main(["train", str(npz), "--out", str(out), *FAST, *model]) == 1
    err = capsys.readouterr().err
    assert err.startswith("aslkit: error: ") and err.count("\n") == 1
    assert "unfinished run" in err or "not an empty folder" in err
    assert snapshot(out) == before, "the user's config.json, metrics.json, report.md and tb/ are untouched"


def test_train_into_a_new_or_empty_folder_still_works(npz: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["train", str(npz), "--out", str(tmp_path / "empty"), *FAST, "--quiet"]) == 0
    assert (tmp_path / "empty" / "model.json").is_file()
    assert main(["train", str(npz), "--out", str(tmp_path / "runs" / "new"), *FAST, "--quiet"]) == 0
    assert (tmp_path / "runs" / "new" / "model.json").is_file()
    assert main(["train", str(npz), "--out", str(tmp_path / "runs" / "new"), *FAST]) == 1
    assert "already holds a trained model" in capsys.readouterr().err


# ---- 2: nothing is written inside the data -----------------------------------------------------------------
@pytest.mark.parametrize("where", ["inside", "itself", "root"])
def test_train_refuses_an_out_inside_the_data(photo_set: Path, capsys, where: str) -> None:
    before = snapshot(photo_set)
    out = {"inside": photo_set / "run", "itself": photo_set, "root": Path("/")}[where]
    assert main(["train", str(photo_set), "--out", str(out), *FAST]) == 1
    err = capsys.readouterr().err
    assert "inside the training data" in err or "not an empty folder" in err
    assert snapshot(photo_set) == before and not (photo_set / "run").exists()


@pytest.mark.parametrize("second", ["same", "inside"])
def test_train_refuses_a_source_given_twice(photo_set: Path, tmp_path: Path, capsys, second: str) -> None:
    """The same photos read twice would be counted twice, and a test photo's twin would be trained on."""
    other = photo_set if second == "same" else photo_set / "A"
    out = tmp_path / "run"
    assert main(["train", str(photo_set), str(other), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read twice" in err[0] and not out.exists(), err


@pytest.mark.parametrize("task", ["evaluate", "predict", "train"])
def test_cache_dir_inside_the_data_is_refused(photo_set: Path, tmp_path: Path, capsys, task: str) -> None:
    """The landmark cache is written to, so it must not land in the data (its folder would read as a class)."""
    before = snapshot(photo_set)
    extra = ["--out", str(tmp_path / "run")] if task == "train" else []
    assert main([task, str(photo_set), "--cache-dir", str(photo_set / "Z"), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cache-dir" in err[0] and "inside the data" in err[0], err
    assert snapshot(photo_set) == before


def test_no_output_goes_into_a_read_only_folder(tmp_path: Path, capsys) -> None:
    """Only capture and serve refused a read-only folder such as ../shared/data; root's writes pass the mode, so
    every output checks it (live wrote a transcript into the shared data)."""
    import os

    from aslkit.outputs import check_new_file, check_new_folder

    locked = tmp_path / "locked"
    locked.mkdir()
    clip = write_grey(tmp_path / "clip.png", 64)
    os.chmod(locked, 0o555)
    try:
        for check, target in ((check_new_file, locked / "t.txt"), (check_new_folder, locked / "new" / "rep")):
            with pytest.raises(AslkitError, match="inside the read-only folder"):
                check(target)
        assert main(["live", "--source", str(clip), "--no-window", "--transcript", str(locked / "t.txt")]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "read-only folder" in err[0], err
        assert not any(locked.iterdir())
    finally:
        os.chmod(locked, 0o755)


def test_evaluate_report_inside_the_data_is_refused_before_the_work(photo_set: Path, capsys, monkeypatch) -> None:
    from aslkit.evaluation import evaluate as ev

    def no_work(*a, **k):
        raise AssertionError("the data was read before --report was checked")

    monkeypatch.setattr(ev, "load_dataset", no_work)
    before = snapshot(photo_set)
    assert main(["evaluate", str(photo_set), "--report", str(photo_set / "rep"), "--no-cache"]) == 1
    assert "inside the evaluated data" in capsys.readouterr().err
    assert snapshot(photo_set) == before


def test_evaluate_detection_report_inside_the_data_is_refused(photo_set: Path, tmp_path: Path, capsys, monkeypatch):
    from aslkit.evaluation import detection

    def no_work(*a, **k):
        raise AssertionError("the set was read or the detector ran before --report was checked")

    monkeypatch.setattr(detection, "load_boxes", no_work)  # evaluate_detection's first work, after the check
    monkeypatch.setattr(detection, "HandLetterDetector", no_work)
    csv = photo_set / "annotations.csv"
    csv.write_text("filename,class,xmin,ymin,xmax,ymax\nA/A0.png,A,1,1,30,30\n")
    before = snapshot(photo_set)
    for report in (photo_set / "rep", photo_set / "A" / "rep"):
        assert main(["evaluate-detection", str(csv), "--report", str(report), "--no-cache"]) == 1
        assert "inside the annotated set" in capsys.readouterr().err
    assert snapshot(photo_set) == before


def test_detect_out_beside_an_input_file_is_refused(tmp_path: Path, capsys) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = write_grey(photos / "a.jpg")
    before = snapshot(photos)
    for out in (photos / "det", photos):
        assert main(["detect", str(photo), "--out", str(out), "--no-cache"]) == 1
        assert "beside the input" in capsys.readouterr().err
    assert snapshot(photos) == before
    # a runs/ tree is the usual place, even under the same folder
    assert main(["detect", str(photo), "--out", str(photos / "runs" / "det"), "--no-cache", "--json"]) == 0
    assert (photos / "runs" / "det" / "a.jpg").is_file()


# ---- 3: an interrupted run is continued only with --resume -------------------------------------------------
def test_train_over_an_interrupted_run_points_to_resume(npz: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    real, calls = landmark_fit.augment, {"n": 0}

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(landmark_fit, "augment", dying)
    run = tmp_path / "run"
    assert main(["train", str(npz), "--out", str(run), *FAST]) == 130
    monkeypatch.setattr(landmark_fit, "augment", real)
    assert (run / "checkpoint" / "state.json").is_file()
    before = snapshot(run)
    assert main(["train", str(npz), "--out", str(run), *FAST, "--epochs", "5"]) == 1
    err = capsys.readouterr().err
    assert "unfinished run" in err and f"--resume {run}" in err
    assert snapshot(run) == before, "the checkpoint is kept"
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert (run / "model.json").is_file() and json.loads((run / "config.json").read_text())["train"]["epochs"] == 3


# ---- 4: outputs are checked before the work, and nothing is overwritten ------------------------------------
def test_evaluate_report_that_exists_is_refused_before_the_work(photo_set: Path, tmp_path: Path, capsys, monkeypatch):
    from aslkit.evaluation import evaluate as ev

    monkeypatch.setattr(ev, "load_dataset", lambda *a, **k: pytest.fail("evaluated before --report was checked"))
    a_file = tmp_path / "report.md"
    a_file.write_text("mine")
    full = _users_folder(tmp_path / "full")
    before = snapshot(full)
    for report in (a_file, full):
        assert main(["evaluate", str(photo_set), "--report", str(report), "--no-cache"]) == 1
        err = capsys.readouterr().err
        assert "aslkit: error:" in err and "unexpected" not in err
    assert a_file.read_text() == "mine" and snapshot(full) == before


def test_evaluate_report_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch) -> None:
    from aslkit.evaluation import evaluate as ev

    def half(metrics, out, *a):
        (out / "metrics.json").write_text("{}")
        raise OSError("disk full")

    monkeypatch.setattr(ev, "_write_report_files", half)
    m = {"confusion_matrix": {"matrix": [[1]], "labels": ["A"]}}
    with pytest.raises(OSError):
        ev._write_report(m, tmp_path / "rep", tmp_path / "data", [], [], [], [])
    assert not (tmp_path / "rep").exists() and list(tmp_path.iterdir()) == [], "no half report, no staging left"


def test_new_folder_publishes_only_when_complete(tmp_path: Path) -> None:
    from aslkit.outputs import new_folder

    with new_folder(tmp_path / "out") as stage:
        (stage / "a.txt").write_text("done")
        assert not (tmp_path / "out").exists()
    assert (tmp_path / "out" / "a.txt").read_text() == "done"
    (tmp_path / "empty").mkdir()
    with new_folder(tmp_path / "empty") as stage:
        (stage / "b.txt").write_text("x")
    assert (tmp_path / "empty" / "b.txt").is_file()
    with pytest.raises(AslkitError, match="not an empty folder"), new_folder(tmp_path / "out"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "out"]


def test_augment_preview_and_export_never_overwrite(photo_set: Path, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"the user's picture")
    assert main(["augment", str(photo_set), "--preview", str(mine)]) == 1
    assert "already exists" in capsys.readouterr().err and mine.read_bytes() == b"the user's picture"
    model = tmp_path / "letters.onnx"
    model.write_bytes(b"the user's model")
    assert main(["export", "letters", "--out", str(model)]) == 1
    assert "already exists" in capsys.readouterr().err and model.read_bytes() == b"the user's model"


def test_live_outputs_never_overwrite(tmp_path: Path, capsys) -> None:
    clip = tmp_path / "in" / "clip.avi"
    clip.parent.mkdir()
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 64))
    for _ in range(3):
        w.write(np.full((64, 64, 3), 90, np.uint8))
    w.release()
    text = tmp_path / "notes.txt"
    text.write_text("the user's notes")
    assert main(["live", "--source", str(clip), "--no-window", "--transcript", str(text)]) == 1
    assert "already exists" in capsys.readouterr().err and text.read_text() == "the user's notes"
    assert main(["live", "--source", str(clip), "--no-window", "--out", str(clip)]) == 1
    assert clip.stat().st_size > 0 and "aslkit: error:" in capsys.readouterr().err


def test_compare_continues_only_with_resume(photo_set: Path, tmp_path: Path, capsys) -> None:
    full = _users_folder(tmp_path / "full")
    before = snapshot(full)
    assert main(["compare", str(photo_set), "--out", str(full), "--models", "landmark-mlp"]) == 1
    assert "not an empty folder" in capsys.readouterr().err and snapshot(full) == before
    assert main(["compare", str(photo_set), "--out", str(photo_set / "cmp"), "--models", "landmark-mlp"]) == 1
    assert "inside the data" in capsys.readouterr().err
    earlier = tmp_path / "cmp"
    earlier.mkdir()
    (earlier / "compare.json").write_text("[]")
    assert main(["compare", str(photo_set), "--out", str(earlier), "--models", "landmark-mlp"]) == 1
    assert "--resume" in capsys.readouterr().err
    # a test set that is not there is found before any model trains
    missing = ["--test", f"x={tmp_path / 'no'}", "--models", "landmark-mlp", "--out", str(tmp_path / "new")]
    assert main(["compare", str(photo_set), *missing]) == 1
    assert "x " + str(tmp_path / "no") + ": no such file" in capsys.readouterr().err and not (tmp_path / "new").exists()
    # no model, or one twice (one run folder, two rows): refused before a folder that would block the rerun
    for models, why in (("", "name at least one model"), (" , ", "name at least one model"),
                        ("landmark-mlp,landmark-mlp", "landmark-mlp is named twice")):  # fmt: skip
        assert main(["compare", str(photo_set), "--models", models, "--out", str(tmp_path / "new")]) == 1
        assert why in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_compare_resumes_only_with_its_own_data_and_names_checked_first(
    photo_set: Path, tmp_path: Path, capsys
) -> None:
    """A resumed comparison reuses its finished runs, so other data (or split or seed) is refused; an unknown
    model name is refused before any folder is made."""
    out = tmp_path / "cmp"
    assert main(["compare", str(photo_set), "--out", str(out), "--models", "bogus-net"]) == 1
    assert "bogus-net" in capsys.readouterr().err and not out.exists(), "a wrong name leaves nothing to block a rerun"
    # clip-vit-b32 without weights is skipped: a comparison folder is made and nothing trains
    assert main(["compare", str(photo_set), "--out", str(out), "--models", "clip-vit-b32", "-q"]) == 1
    capsys.readouterr()
    other = tmp_path / "other"
    shutil.copytree(photo_set, other)
    again = ["--out", str(out), "--models", "clip-vit-b32", "--resume", "-q"]
    assert main(["compare", str(other), *again]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "its own data" in err[0] and str(photo_set.resolve()) in err[0]
    assert main(["compare", str(photo_set), *again, "--split", "0.7,0.2,0.1"]) == 1
    assert "its own split" in capsys.readouterr().err
    assert main(["compare", str(photo_set), *again]) == 1  # the same settings: resumed (and again nothing to train)
    assert "--resume continues" not in capsys.readouterr().err
    assert "needs pretrained weights" in (out / "compare.md").read_text()


# ---- 16: detect outputs of the same base name never replace each other -------------------------------------
def test_detect_outputs_with_the_same_name_are_all_kept(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name, codec in (("clip.avi", "MJPG"), ("clip.mp4", "mp4v")):
        w = cv2.VideoWriter(str(src / name), cv2.VideoWriter_fourcc(*codec), 10, (64, 64))
        for _ in range(3):
            w.write(np.full((64, 64, 3), 90, np.uint8))
        w.release()
    (src / "sub").mkdir()
    write_grey(src / "sub" / "x.jpg", 64)
    write_grey(src / "x.jpg", 64)
    out = tmp_path / "out"
    args = ["detect", str(src / "clip.avi"), str(src / "clip.mp4"), str(src / "x.jpg"), str(src / "sub" / "x.jpg")]
    assert main([*args, "--out", str(out), "--no-cache", "--json"]) == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["clip-2.mp4", "clip.mp4", "detections.jsonl", "summary.json", "summary.md", "x-2.jpg", "x.jpg"]
    for name in ("clip.mp4", "clip-2.mp4"):
        cap = cv2.VideoCapture(str(out / name))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
        cap.release()
    # each row names its drawn copy, so x-2.jpg is known to be sub/x.jpg's
    rows = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    drawn = {(Path(r["path"]).relative_to(src).as_posix(), r["annotated"]) for r in rows}
    assert drawn == {("clip.avi", "clip.mp4"), ("clip.mp4", "clip-2.mp4"), ("x.jpg", "x.jpg"), ("sub/x.jpg", "x-2.jpg")}
