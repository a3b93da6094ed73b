"""`aslkit detect`: boxes with letters on real photos and a video, annotated copies, JSON rows, the
bulk-analysis summary, and the refusals that keep the user's folders as they were."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_bad_files, shared_dir, snapshot, write_grey
from test_video import _clip

from aslkit.cli import main
from aslkit.data.boxes import box_iou
from aslkit.detect import _ranges

LETTERS = ("B", "C", "L", "V", "W", "Y")  # one valid-split photo each; the split was never trained on


def _yolo_box(label_file: Path, w: int, h: int) -> np.ndarray:
    _, cx, cy, bw, bh = map(float, label_file.read_text().split()[:5])
    return np.array([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    """A folder of links to six valid-split photos, and each one's annotated box."""
    valid = shared_dir("asl-letters-detection", "valid")
    d = tmp_path_factory.mktemp("photos") / "in"
    d.mkdir()
    boxes = {}
    for letter in LETTERS:
        img = sorted((valid / "images").glob(f"{letter}*.jpg"))[0]
        (d / img.name).symlink_to(img)
        boxes[img.name] = _yolo_box(valid / "labels" / f"{img.stem}.txt", 416, 416)
    return d, boxes


def _rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_frame_ranges_are_compact() -> None:
    assert _ranges([7, 0, 1, 2, 5, 8]) == "0-2,5,7-8"
    assert _ranges([16, 18, 20, 36], step=2) == "16-20,36"
    assert _ranges([]) == ""


def test_detect_finds_the_annotated_hand_and_letter(photos, tmp_path: Path, capsys, real_cache: Path) -> None:
    folder, truth = photos
    before = snapshot(folder)
    out = tmp_path / "out"
    assert main(["detect", str(folder), "--json", "--out", str(out), "--cache-dir", str(real_cache)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert len(rows) == len(LETTERS) and all(r["frame"] is None and "error" not in r for r in rows)
    right = 0
    for r in rows:
        name = Path(r["path"]).name
        gt = truth[name]
        boxes = [b for b in r["boxes"] if b["label"] == name[0]]
        confs = [b["confidence"] for b in r["boxes"]]
        assert all(c >= 0.5 for c in confs) and confs == sorted(confs, reverse=True)
        if boxes and box_iou(np.array([boxes[0]["xyxy"]]), gt[None])[0, 0] >= 0.5:
            right += 1
    assert right >= len(LETTERS) - 1, f"only {right} of {len(LETTERS)} photos got their letter in the right place"
    assert _rows((out / "detections.jsonl").read_text()) == rows
    for name in truth:
        drawn, orig = cv2.imread(str(out / name)), cv2.imread(str(folder / name))
        assert drawn.shape == orig.shape and np.abs(drawn.astype(int) - orig).max() > 100, "boxes drawn on a copy"
    s = json.loads((out / "summary.json").read_text())
    assert s["photos"] == s["frames"] == len(LETTERS) and s["videos"] == 0
    assert s["boxes"] == sum(len(r["boxes"]) for r in rows) == sum(c["boxes"] for c in s["per_class"].values())
    assert "| letter | boxes |" in (out / "summary.md").read_text()
    assert snapshot(folder) == before, "the input folder was changed"


def test_detect_class_filter_bad_files_and_no_hand(photos, tmp_path: Path, capsys, real_cache: Path) -> None:
    folder, _ = photos
    bad = make_bad_files(tmp_path / "bad")
    grey = write_grey(tmp_path / "grey.png")
    args = ["detect", str(folder), str(bad["truncated_jpeg"]), str(grey), "--classes", "V,W", "--json"]
    assert main([*args, "--cache-dir", str(real_cache), "--out", str(tmp_path / "runs" / "o")]) == 0
    rows = _rows(capsys.readouterr().out)
    assert {b["label"] for r in rows for b in r["boxes"]} <= {"V", "W"}
    assert sum(bool(r["boxes"]) for r in rows) >= 1
    errors = [r for r in rows if "error" in r]
    assert len(errors) == 1 and errors[0]["path"].endswith("cut.jpg")
    s = json.loads((tmp_path / "runs" / "o" / "summary.json").read_text())
    assert s["no_hand"]["frames"] == 1 and s["no_hand"]["where"] == [{"path": str(grey)}]
    other = {Path(w["path"]).name[0] for w in s["other_letters"]["where"]}
    assert s["other_letters"]["frames"] >= 1 and not other & {"V", "W"}, "photos of other letters: not unsure ones"
    assert not {Path(w["path"]).name[0] for w in s["low_confidence"]["where"]} & other
    assert "Hand found, its letter is not in --classes" in (tmp_path / "runs" / "o" / "summary.md").read_text()
    assert len(s["errors"]) == 1
    assert main(["detect", str(bad["truncated_jpeg"]), str(bad["text_as_jpg"])]) == 1
    assert "none of the 2 input(s) could be read" in capsys.readouterr().err


def test_detect_video_writes_an_annotated_copy(tmp_path: Path, capsys) -> None:
    photo = sorted((shared_dir("asl-alphabet-photos") / "B").glob("*.jpg"))[0]
    img = cv2.resize(cv2.imread(str(photo)), (320, 320))
    clip = _clip(tmp_path / "clip.mp4", [img] * 6 + [np.full_like(img, 127)] * 4)
    out = tmp_path / "runs" / "out"
    assert main(["detect", str(clip), "--json", "--out", str(out), "--no-cache"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [r["frame"] for r in rows] == list(range(10)) and rows[1]["time"] == pytest.approx(0.1)
    assert all(r["hands"] >= 1 for r in rows[:6]) and all(r["hands"] == 0 for r in rows[6:])
    assert sum(b["label"] == "B" for r in rows[:6] for b in r["boxes"][:1]) >= 5
    cap = cv2.VideoCapture(str(out / "clip.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    cap.release()
    s = json.loads((out / "summary.json").read_text())
    assert s["videos"] == 1 and s["frames"] == 10
    assert s["no_hand"]["where"] == [{"path": str(clip), "frames": 4, "frame_ranges": "6-9"}]


def test_detect_refuses_an_out_folder_in_the_input_or_not_empty(photos, tmp_path: Path, capsys) -> None:
    folder, _ = photos
    before = snapshot(folder)
    assert main(["detect", str(folder), "--out", str(folder / "results")]) == 1
    assert "inside the input folder" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert main(["detect", str(folder), "--out", str(full)]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert (full / "keep.txt").read_text() == "mine" and snapshot(folder) == before
