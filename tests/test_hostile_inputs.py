"""Issue 15, items 11, 12 and 16: odd file names and odd files. A non-UTF-8 name, a newline in a name, a
FIFO named like a photo or a video, a 16-bit PNG: each gives a clear row or one-line error, never a
segfault, a hang, a traceback or a half-written output folder.

The commands run in a subprocess with a timeout: before the fix some crashed the interpreter (exit 139)
or blocked forever, which must fail the test, not take the test run down with it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import snapshot, write_grey
from PIL import Image

from aslkit.data.images import decode_image

ODD = "h\udcffand"  # the bytes b"h\xffand": not UTF-8
TIMEOUT = 120


def aslkit(*args: str | Path, cwd: Path | None = None, timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    """`aslkit ARGS` in a fresh interpreter; a hang becomes a failed test after ``timeout`` seconds."""
    argv = [sys.executable, "-m", "aslkit.cli", *(os.fsencode(a) for a in args)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        return subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"aslkit {' '.join(map(str, args))!r} hung for {timeout} s")


def _ok(r: subprocess.CompletedProcess, codes: tuple[int, ...] = (0,)) -> str:
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode in codes, f"exit {r.returncode} (139/-11: segfault): {err[-800:]}"
    assert "Traceback" not in err and "unexpected error" not in err, err[-800:]
    return err


def _video(path: Path, frames: int = 4, size: int = 96) -> Path:
    """A short MJPG clip written under a plain name, then renamed (the test must not need the fix)."""
    tmp = path.with_name("plain-video.avi")
    w = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), 10, (size, size))
    for i in range(frames):
        w.write(np.full((size, size, 3), 40 + 20 * i, np.uint8))
    w.release()
    os.rename(tmp, path)
    return path


# ---- 11: non-UTF-8 file names -------------------------------------------------------------------------------
def test_detect_photo_with_a_non_utf8_name_writes_its_outputs(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    photo = write_grey(src / f"{ODD}.jpg", 64)
    before = snapshot(src)
    out = tmp_path / "runs" / "det"
    r = aslkit("detect", photo, "--out", out, "--no-cache", "--json")
    _ok(r)
    rows = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["hands"] == 0
    assert (out / "h%FFand.jpg").is_file(), sorted(os.listdir(out))
    assert cv2.imread(str(out / "h%FFand.jpg")).shape == (64, 64, 3)
    assert snapshot(src) == before


def test_detect_video_with_a_non_utf8_name(tmp_path: Path) -> None:
    clip = _video(tmp_path / f"{ODD}.avi", frames=4)
    r = aslkit("detect", clip, "--json", "--no-cache")
    _ok(r)
    rows = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [row["frame"] for row in rows] == [0, 1, 2, 3]
    out = tmp_path / "runs" / "o"
    _ok(aslkit("detect", clip, "--out", out, "--no-cache"))
    cap = cv2.VideoCapture(str(out / "h%FFand.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    cap.release()


def test_audit_and_extract_on_non_utf8_names_finish_and_can_rerun(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for c in ("A", "B"):
        (data / c).mkdir(parents=True)
        for i in range(3):
            write_grey(data / c / f"{ODD}{i}.png", 48, 50 + 30 * i + (c == "B"))
    before = snapshot(data)
    for k in (1, 2):  # a second run into a new folder is never blocked by the first
        _ok(aslkit("audit", data, "--out", tmp_path / f"audit{k}", "--no-landmarks", "--manifest", "--no-cache"))
        report = (tmp_path / f"audit{k}" / "report.md").read_text(encoding="utf-8")
        assert "Audit of" in report
        manifest = (tmp_path / f"audit{k}" / "manifest.csv").read_text(encoding="utf-8")
        assert manifest.count("\\xff") == 6
    _ok(aslkit("extract", data, "--out", tmp_path / "shards", "--workers", "1", "--json"))
    manifest = json.loads((tmp_path / "shards" / "landmarks.json").read_text())
    assert manifest["rows"] == 6
    assert snapshot(data) == before
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name], "no staging folder is left behind"


def test_predict_text_output_escapes_odd_names_one_row_each(tmp_path: Path) -> None:
    names = [f"{ODD}.png", "new\nline.png", "tab\there.png", "plain.png"]
    photos = [write_grey(tmp_path / n, 48) for n in names]
    r = aslkit("predict", *photos, "--no-cache")
    _ok(r)
    lines = r.stdout.decode("utf-8").splitlines()
    assert len(lines) == len(names), lines
    assert lines[0].startswith(str(tmp_path / "h\\xffand.png") + "\t")
    assert lines[1].startswith(str(tmp_path / "new\\nline.png") + "\t")
    assert lines[2].startswith(str(tmp_path / "tab\\there.png") + "\t")
    rows = [json.loads(line) for line in aslkit("predict", *photos, "--no-cache", "--json").stdout.splitlines()]
    assert [Path(row["path"]).name for row in rows][1:] == names[1:]


def test_predict_rows_come_in_the_order_the_paths_were_given(tmp_path: Path) -> None:
    """A missing file's row came first wherever it stood on the command line."""
    (tmp_path / "sub").mkdir()
    a, b = write_grey(tmp_path / "a.png", 48), write_grey(tmp_path / "sub" / "b.png", 48)
    missing = tmp_path / "missing.png"
    r = aslkit("predict", a, missing, tmp_path / "sub", "--json", "--no-cache")
    _ok(r)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["path"] for row in rows] == [str(a), str(missing), str(b)]


def test_a_video_given_to_the_letter_model_says_which_command_reads_it(tmp_path: Path, capsys) -> None:
    from aslkit.cli import main

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"never read")
    assert main(["predict", str(clip), "--json"]) == 1
    row = json.loads(capsys.readouterr().out)
    assert "a video: read a sign with --model words, fingerspelling with `aslkit transcribe`" in row["error"]
    assert main(["live", "--source", str(clip), "--no-window", "--transcript", ""]) == 1
    assert (
        capsys.readouterr().err.strip() == "aslkit: error: --transcript: empty; give a name, or leave --transcript out"
    )
    assert main(["train", str(tmp_path), "--out", ""]) == 1  # not "--out . already exists"
    assert capsys.readouterr().err.strip() == "aslkit: error: --out: empty; give a name, or leave --out out"
    assert main(["evaluate", str(tmp_path), "--report", " "]) == 1
    assert capsys.readouterr().err.strip() == "aslkit: error: --report: empty; give a name, or leave --report out"
    for flag, argv in (("--out", ["export", "letters", "--out", ""]),
                       ("--cache-dir", ["predict", "x.jpg", "cache_dir="]),
                       ("--model", ["predict", "x.jpg", "--model", " "])):  # fmt: skip
        assert main(argv) == 1  # "" was the default: NAME.onnx written, the default cache read
        assert capsys.readouterr().err.strip() == f"aslkit: error: {flag}: empty; give a name, or leave {flag} out"


# ---- 12: FIFOs are never read --------------------------------------------------------------------------------
@pytest.fixture
def fifos(tmp_path: Path) -> dict[str, Path]:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    folder = tmp_path / "pipes"
    folder.mkdir()
    out = {}
    for name in ("x.jpg", "clip.mp4", "take.npy"):
        os.mkfifo(folder / name)
        out[name] = folder / name
    return out


def test_predict_and_detect_give_a_fifo_its_own_error_row(fifos: dict[str, Path], tmp_path: Path) -> None:
    good = write_grey(tmp_path / "good.png", 48)
    r = aslkit("predict", fifos["x.jpg"], good, "--json", "--no-cache")
    _ok(r)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 2 and "FIFO" in rows[0]["error"] and rows[1]["error"] is None
    r = aslkit("detect", fifos["x.jpg"], fifos["clip.mp4"], "--json", "--no-cache")
    err = _ok(r, (1,))
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 2 and all("FIFO" in row["error"] for row in rows)
    assert "none of the 2 input(s) could be read" in err


def test_a_fifo_or_broken_link_inside_a_folder_gets_its_own_error_row(fifos: dict[str, Path], tmp_path: Path) -> None:
    """Given directly they were error rows; found in a folder they were skipped without a word."""
    folder = fifos["x.jpg"].parent
    write_grey(folder / "good.png", 48)
    (folder / "gone.png").symlink_to(tmp_path / "nowhere.png")
    r = aslkit("predict", folder, "--json", "--no-cache")
    _ok(r)
    rows = {Path(row["path"]).name: row for row in map(json.loads, r.stdout.splitlines())}
    assert set(rows) == {"x.jpg", "gone.png", "good.png"}, "the clip and the take are not photos"
    assert "FIFO" in rows["x.jpg"]["error"] and "no such file" in rows["gone.png"]["error"]
    assert rows["good.png"]["error"] is None


def test_a_fifo_in_a_class_folder_is_counted_unreadable_by_evaluate(fifos: dict[str, Path], tmp_path: Path) -> None:
    """evaluate and train scan class folders themselves: the FIFO was skipped there without a word."""
    from aslkit.data.dataset import load_dataset

    (tmp_path / "set" / "A").mkdir(parents=True)
    write_grey(tmp_path / "set" / "A" / "good.png", 48)
    os.mkfifo(tmp_path / "set" / "A" / "pipe.jpg")
    (tmp_path / "set" / "A" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    assert sorted(s.path.name for s in load_dataset(tmp_path / "set").samples) == ["gone.png", "good.png", "pipe.jpg"]
    r = aslkit("evaluate", tmp_path / "set", "--json", "--no-cache")
    _ok(r)
    errors = json.loads(r.stdout)["errors"]
    assert len(errors) == 2 and any("FIFO" in e for e in errors) and any("gone.png" in e for e in errors), errors


def test_live_source_fifo_is_one_line(fifos: dict[str, Path]) -> None:
    err = _ok(aslkit("live", "--source", fifos["clip.mp4"], "--no-window"), (1,))
    assert err.count("\n") == 1 and "FIFO" in err


def test_evaluate_a_csv_that_lists_a_fifo(fifos: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "boxes"
    data.mkdir()
    write_grey(data / "a.png", 96)
    os.mkfifo(data / "pipe.jpg")
    (data / "annotations.csv").write_text(
        "filename,width,height,class,xmin,ymin,xmax,ymax\na.png,96,96,A,10,10,80,80\npipe.jpg,96,96,B,10,10,80,80\n"
    )
    r = aslkit("evaluate", data, "--json", "--no-cache")
    _ok(r, (0, 1))
    if r.returncode == 0:
        m = json.loads(r.stdout)
        assert m["n"] == 1 and len(m["errors"]) == 1 and "FIFO" in m["errors"][0]


# ---- 16: 16-bit PNGs are scaled by their bit depth, not their own maximum ----------------------------------
def test_16_bit_png_scaled_by_bit_depth() -> None:
    scene = np.tile(np.linspace(0, 30000, 64), (64, 1)).astype(np.uint16)
    bright = scene.copy()
    bright[:4, :4] = 65535  # one bright spot must not change every other pixel

    def png(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "PNG")
        return buf.getvalue()

    a, b = decode_image(png(scene)), decode_image(png(bright))
    assert np.array_equal(a[4:, 4:], b[4:, 4:])
    assert a[0, -1, 0] == round(30000 / 257) and b[0, 0, 0] == 255


# ---- odd class-folder names and out-of-range options ---------------------------------------------------------
def test_class_folders_with_odd_names_get_printable_labels(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for c in (f"{ODD}A", "new\nline", "-C"):
        (data / c).mkdir(parents=True)
        for i in range(2):
            write_grey(data / c / f"{i}.png", 48, 40 + 50 * i)
    before = snapshot(data)
    _ok(aslkit("audit", data, "--out", tmp_path / "audit", "--no-landmarks", "--json"))
    r = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert r["balance"]["classes"] == ["-C", "h\\xffandA", "new\\nline"]
    assert (tmp_path / "audit" / "class_distribution.png").stat().st_size > 0
    assert snapshot(data) == before


@pytest.mark.parametrize(
    ("option", "why"),
    [
        ("lr=nan", "--lr nan: not a finite number"),
        ("batch_size=0", "--batch-size 0: must be between 1"),
        ("epochs=-1", "--epochs -1: must be between 1"),
        ("split=0.5,0.5,0.5", "split must be 2 or 3 fractions adding up to 1"),
        ("rotation_p=2", "--rotation-p 2.0: must be between 0 and 1"),
        ("holdout=nobody", "this data names no signers"),
    ],
)
def test_train_refuses_out_of_range_settings_in_one_line(option: str, why: str, tmp_path: Path, capsys) -> None:
    from conftest import write_shapes_npz

    from aslkit.cli import main

    npz = write_shapes_npz(tmp_path / "lm.npz", per_class=6)
    assert main(["train", str(npz), "--out", str(tmp_path / "run"), "--model", "landmark-mlp-tiny", option]) == 1
    err = capsys.readouterr().err
    assert why in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "x.jpg", "--workers", "-5"],
        ["extract", "data", "--out", "o", "--workers", "-1"],
        ["audit", "data", "--folds", "-2"],
        ["detect", "x.jpg", "--conf", "nan"],
        ["evaluate-detection", "data", "--iou", "2"],
        ["evaluate-detection", "data", "--conf", "-1"],
        ["make-spelling-video", "A", "--data", "d", "--out", "v.mp4", "--hold", "-1"],
        ["augment", "data", "--preview", "p.png", "--per-image", "1000000"],
        ["benchmark", "--model", "words", "--clips", "0"],
        ["benchmark", "--max-frames", "0"],
    ],
)
def test_out_of_range_options_are_usage_errors(args: list[str], capsys) -> None:
    from aslkit.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.startswith("aslkit: error: argument --") and err.count("\n") == 1
