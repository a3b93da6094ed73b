"""YOLO sets in the layouts people have (issue 20, item 1): Ultralytics' ``images/{train,val}`` with ``path``,
a Roboflow export's ``{train,valid,test}/{images,labels}`` with ``../train/images`` in data.yaml, splits listed
in .txt files, and the flat set aslkit writes. Every box command takes a split by name (``--split valid``);
a wrong split, a data.yaml that is not a mapping, a ``path`` that leads nowhere and bad label rows are one
clear line or a problem row, never a traceback.

The sets are a few tiny noise images (distinct, so the audit sees no copies unless one is planted); the
commands that would run MediaPipe get its result stubbed (no hands), since only what was read is checked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aslkit.cli import main
from aslkit.data.boxes import load_boxes
from aslkit.data.dataset import load_dataset
from aslkit.errors import DatasetError
from aslkit.landmarks.extractor import HandsResult

W, H = 40, 20  # every image: 40 x 20 pixels, so a box's corners in pixels are easy to check


def noise_png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)
    return path


def label(path: Path, *rows: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r + "\n" for r in rows))


def ultralytics_set(root: Path) -> Path:
    """``path: .`` + images/{train,val} + labels/{train,val}; names as a mapping. train: t1 (A), t2 (B and A,
    side by side), t3 (no label file: a negative); val: v1 (B)."""
    (root).mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\ntest:\nnames:\n  0: A\n  1: B\n")
    for i, name in enumerate(("t1", "t2", "t3")):
        noise_png(root / "images" / "train" / f"{name}.png", i)
    noise_png(root / "images" / "val" / "v1.png", 10)
    label(root / "labels" / "train" / "t1.txt", "0 0.5 0.5 0.5 0.5")
    label(root / "labels" / "train" / "t2.txt", "1 0.25 0.5 0.5 1.0", "0 0.75 0.5 0.5 1.0")
    label(root / "labels" / "val" / "v1.txt", "1 0.5 0.5 0.25 0.5")
    return root


def roboflow_set(root: Path) -> Path:
    """A Roboflow export: data.yaml at the root naming ``../train/images`` etc. (resolved without the ``../``),
    names as a list. train: a1, a2 (A), b1 (B); valid: a3 (A), b2 (B); test: b3 (B)."""
    root.mkdir(parents=True)
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['A', 'B']\n"
    )
    files = {"train": ["a1", "a2", "b1"], "valid": ["a3", "b2"], "test": ["b3"]}
    seed = 20
    for split, stems in files.items():
        for stem in stems:
            noise_png(root / split / "images" / f"{stem}.jpg", seed)
            seed += 1
            cid = 0 if stem.startswith("a") else 1
            label(root / split / "labels" / f"{stem}.txt", f"{cid} 0.5 0.5 0.5 0.5")
    return root


def boxes_of(bs) -> dict[str, list[tuple]]:
    return {im.path.name: sorted((b.label, *np.round(b.xyxy, 2)) for b in im.boxes) for im in bs.images}


def cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected error" not in err, err
    return code, out, err


def one_error_line(code: int, err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("aslkit: error: "), (code, err)
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------------------------
# reading the layouts
# ---------------------------------------------------------------------------------------------
def test_ultralytics_layout_reads_each_split_by_name(tmp_path: Path) -> None:
    root = ultralytics_set(tmp_path / "ds")
    train = load_boxes(root, split="train")
    assert boxes_of(train) == {
        "t1.png": [("A", 10, 5, 30, 15)],
        "t2.png": [("A", 20, 0, 40, 20), ("B", 0, 0, 20, 20)],
        "t3.png": [],  # no label file: kept as a negative
    }
    assert train.splits == ["train"] and train.source_format == "yolo" and train.classes == ["A", "B"]
    for name in ("val", "valid", "VALID", "validation"):  # Roboflow's folder name finds Ultralytics' key
        val = load_boxes(root, split=name)
        assert boxes_of(val) == {"v1.png": [("B", 15, 5, 25, 15)]} and val.splits == ["val"]
    every = load_boxes(root / "data.yaml")  # the yaml itself is the set too
    assert sorted(boxes_of(every)) == ["t1.png", "t2.png", "t3.png", "v1.png"] and every.n_boxes == 4
    assert every.splits == ["train", "val"], "an empty `test:` is no split"
    assert not every.problems


def test_roboflow_export_resolves_dotdot_and_reads_valid_and_test(tmp_path: Path) -> None:
    root = roboflow_set(tmp_path / "export")
    valid = {"a3.jpg": [("A", 10, 5, 30, 15)], "b2.jpg": [("B", 10, 5, 30, 15)]}
    assert boxes_of(load_boxes(root, split="valid")) == valid
    assert sorted(boxes_of(load_boxes(root, split="test"))) == ["b3.jpg"]
    every = load_boxes(root)
    assert every.splits == ["train", "val", "test"] and len(every.images) == 6 and every.counts() == {"A": 3, "B": 3}
    assert all("/labels/" not in str(im.path) for im in every.images)


def test_splits_as_list_files_and_lists_of_folders(tmp_path: Path) -> None:
    """``train: train.txt`` (lines relative to the list's folder, ``./`` or not; a comment; a line that is no
    image is a problem row) and ``val: [folder, folder]``."""
    root = ultralytics_set(tmp_path / "ds")
    noise_png(root / "images" / "extra" / "e1.png", 30)
    label(root / "labels" / "extra" / "e1.txt", "0 0.5 0.5 1 1")
    (root / "train.txt").write_text("./images/train/t1.png\n# the second photo\nimages/train/t2.png\nnotes.doc\n\n")
    (root / "data.yaml").write_text("train: train.txt\nval: [images/val, images/extra]\nnames: [A, B]\n")
    train = load_boxes(root, split="train")
    assert sorted(boxes_of(train)) == ["t1.png", "t2.png"] and train.n_boxes == 3
    assert [(w, why) for w, why in train.problems] == [("train.txt:4", "notes.doc is not an image file name")]
    val = load_boxes(root, split="val")
    assert boxes_of(val) == {"e1.png": [("A", 0, 0, 40, 20)], "v1.png": [("B", 15, 5, 25, 15)]}


def test_path_is_taken_from_the_yaml_folder(tmp_path: Path) -> None:
    """A data.yaml outside the set (as Ultralytics keeps them) whose ``path`` is relative to its own folder,
    or absolute; the set's images are then bounded by that folder."""
    root = ultralytics_set(tmp_path / "datasets" / "asl")
    (tmp_path / "cfg").mkdir()
    for path in ("../datasets/asl", str(root)):
        yaml = tmp_path / "cfg" / "asl.yaml"
        yaml.write_text(f"path: {path}\ntrain: images/train\nval: images/val\nnames: [A, B]\n")
        bs = load_boxes(yaml, split="val")
        assert boxes_of(bs) == {"v1.png": [("B", 15, 5, 25, 15)]} and bs.root == root


def test_relative_paths_from_inside_the_set_and_no_images_folder_above_it(tmp_path: Path, monkeypatch) -> None:
    """Run from inside the set (``aslkit convert data.yaml``, ``.``): the label of images/val/v1.png is still
    labels/val/v1.txt. A set kept under a folder called images/ whose own images lie beside their labels
    (``train: pics``) finds pics/x.txt, not a labels/ folder made from the ``images`` above it."""
    root = ultralytics_set(tmp_path / "ds")
    monkeypatch.chdir(root)
    assert boxes_of(load_boxes("data.yaml", split="val")) == {"v1.png": [("B", 15, 5, 25, 15)]}
    assert load_boxes(".", split="train").n_boxes == 3
    nested = tmp_path / "images" / "set"
    noise_png(nested / "pics" / "x.png", 5)
    label(nested / "pics" / "x.txt", "1 0.5 0.5 0.5 0.5")
    (nested / "data.yaml").write_text("train: pics\nnames: [A, B]\n")
    assert boxes_of(load_boxes(nested, split="train")) == {"x.png": [("B", 10, 5, 30, 15)]}


def test_flat_layouts_still_read_and_never_twice(tmp_path: Path) -> None:
    """The flat set aslkit writes (``train: images``, ``val: images``: one folder, each image read once) and
    the older one whose data.yaml names no splits."""
    root = tmp_path / "flat"
    noise_png(root / "images" / "x.png", 1)
    noise_png(root / "images" / "y.png", 2)
    label(root / "labels" / "x.txt", "0 0.5 0.5 0.5 0.5")
    label(root / "labels" / "y.txt", "1 0.5 0.5 0.5 0.5", "0 0.1 0.1 0.2 0.2")
    (root / "data.yaml").write_text("path: .\ntrain: images\nval: images\nnc: 2\nnames: [A, B]\n")
    both = load_boxes(root)
    assert both.n_boxes == 3 and len(both.images) == 2, "an image in two splits is read once"
    assert load_boxes(root, split="val").n_boxes == 3
    (root / "data.yaml").write_text("names: [A, B]\n")
    plain = load_boxes(root)
    assert boxes_of(plain) == boxes_of(both) and plain.splits == []
    with pytest.raises(DatasetError, match="has no splits"):
        load_boxes(root, split="val")


def test_a_folder_of_split_sets_takes_split_by_name(tmp_path: Path) -> None:
    """``DATA/train``, ``DATA/valid`` (each a set, like the shared detection set): ``--split val`` finds valid/."""
    for split, seed in (("train", 1), ("valid", 2)):
        noise_png(tmp_path / "sets" / split / "images" / f"{split}.png", seed)
        label(tmp_path / "sets" / split / "labels" / f"{split}.txt", "0 0.5 0.5 0.5 0.5")
        (tmp_path / "sets" / split / "data.yaml").write_text("names: [A]\n")
    bs = load_boxes(tmp_path / "sets", split="val")
    assert sorted(boxes_of(bs)) == ["valid.png"] and bs.splits == ["valid"]
    with pytest.raises(DatasetError, match="no split 'test'; its splits: train, valid"):
        load_boxes(tmp_path / "sets", split="test")


# ---------------------------------------------------------------------------------------------
# the commands
# ---------------------------------------------------------------------------------------------
def test_convert_split_valid_of_a_roboflow_export(tmp_path: Path, capsys) -> None:
    root = roboflow_set(tmp_path / "export")
    code, out, err = cli(capsys, "convert", root, "--split", "valid", "--to", "coco", "--out", tmp_path / "coco")
    assert code == 0, err
    assert out.splitlines()[0] == f"{root} (yolo, split val): 2 images, 2 boxes, 2 classes"
    doc = json.loads((tmp_path / "coco" / "annotations.json").read_text())
    assert sorted(i["file_name"] for i in doc["images"]) == ["a3.jpg", "b2.jpg"]
    assert [a["bbox"] for a in doc["annotations"]] == [[10, 5, 20, 10]] * 2
    code, out, err = cli(capsys, "convert", root, "--to", "csv", "--out", tmp_path / "all")
    assert code == 0, err
    assert "splits train, val, test): 6 images, 6 boxes" in out
    code, _, err = cli(capsys, "convert", root, "--split", "dev2", "--to", "csv", "--out", tmp_path / "x")
    one_error_line(code, err, "no split 'dev2'", "its splits: train, val (or valid), test")
    assert not (tmp_path / "x").exists()


def test_convert_split_of_an_ultralytics_layout_round_trips(tmp_path: Path, capsys) -> None:
    root = ultralytics_set(tmp_path / "ds")
    code, _, err = cli(capsys, "convert", root, "--split", "train", "--to", "yolo", "--out", tmp_path / "flat")
    assert code == 0, err
    assert boxes_of(load_boxes(tmp_path / "flat")) == boxes_of(load_boxes(root, split="train"))


@pytest.fixture
def no_mediapipe(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """evaluate-detection without MediaPipe: every readable image has no hand. Returns the image names
    MediaPipe was asked for, per call."""
    import aslkit.evaluation.detection as detection

    asked: list[list[str]] = []

    def hands_for(bs, cache_dir="default", workers=None, progress=True, mirror=False):  # noqa: ARG001
        if not mirror:
            asked.append([im.path.name for im in bs.images])
        return [HandsResult(im.width, im.height, []) for im in bs.images]

    monkeypatch.setattr(detection, "hands_for", hands_for)
    return asked


@pytest.mark.parametrize(("layout", "split", "names"), [
    ("ultralytics", "val", ["v1.png"]),
    ("roboflow", "valid", ["a3.jpg", "b2.jpg"]),
    ("roboflow", "test", ["b3.jpg"]),
])  # fmt: skip
def test_evaluate_detection_split(tmp_path: Path, capsys, no_mediapipe, layout: str, split: str, names) -> None:
    root = (ultralytics_set if layout == "ultralytics" else roboflow_set)(tmp_path / "ds")
    code, out, err = cli(capsys, "evaluate-detection", root, "--split", split, "--json", "--no-cache")
    assert code == 0, err
    m = json.loads(out)
    assert no_mediapipe == [names], "only the split's images are read"
    assert m["images"] == m["ground_truth_boxes"] == len(names) and m["recall"] == 0.0
    assert m["splits"] == [{"valid": "val"}.get(split, split)] and m["format"] == "yolo"
    code, out, err = cli(capsys, "evaluate-detection", root, "--split", split, "--no-cache")
    assert code == 0 and f"(yolo, split {m['splits'][0]}), {len(names)} images" in out.splitlines()[0]


def test_evaluate_detection_wrong_split_is_one_line(tmp_path: Path, capsys, no_mediapipe) -> None:
    root = ultralytics_set(tmp_path / "ds")
    code, _, err = cli(capsys, "evaluate-detection", root, "--split", "test", "--no-cache")
    one_error_line(code, err, "no split 'test'", "its splits: train, val (or valid)")
    assert no_mediapipe == []


def test_audit_one_split_and_leakage_across_a_roboflow_export(tmp_path: Path, capsys) -> None:
    root = roboflow_set(tmp_path / "export")
    args = ("--no-landmarks", "--json", "--out")
    code, out, err = cli(capsys, "audit", root, "--split", "valid", *args, tmp_path / "r1")
    assert code == 0, err
    r = json.loads(out)
    assert r["images"] == 2 and r["splits"] == {"val": 2} and r["kind"] == "boxes (yolo)"
    assert (tmp_path / "r1" / "report.md").is_file()
    shutil.copyfile(root / "train" / "images" / "a1.jpg", root / "test" / "images" / "a1copy.jpg")  # a leak
    code, out, err = cli(capsys, "audit", root, *args, tmp_path / "r2")
    assert code == 0, err
    r = json.loads(out)
    assert r["splits"] == {"train": 3, "val": 2, "test": 2}
    assert {tuple(sorted(g["splits"])) for g in r["leakage"]} == {("test", "train")}, "the copy, and only it"
    assert [sorted(Path(p).name for p in g["paths"]) for g in r["exact_duplicates"]] == [["a1.jpg", "a1copy.jpg"]]
    code, _, err = cli(capsys, "audit", root, "--split", "holdout", "--no-landmarks", "--out", tmp_path / "r3")
    one_error_line(code, err, "no split 'holdout'", "train, val (or valid), test")


def test_audit_of_a_flat_set_with_train_and_val_the_same_folder_finds_no_leak(tmp_path: Path, capsys) -> None:
    root = tmp_path / "flat"
    for i in range(3):
        noise_png(root / "images" / f"x{i}.png", i)
        label(root / "labels" / f"x{i}.txt", f"{i % 2} 0.5 0.5 0.5 0.5")
    (root / "data.yaml").write_text("path: .\ntrain: images\nval: images\nnames: [A, B]\n")
    code, out, err = cli(capsys, "audit", root, "--no-landmarks", "--json", "--out", tmp_path / "r")
    assert code == 0, err
    r = json.loads(out)
    assert r["images"] == 3 and r["splits"] == {"all": 3} and r["leakage"] == []


TRAIN_FAST = ["--model", "cnn-small", "--epochs", "1", "--batch-size", "4", "--image-size", "16", "--quiet"]


def test_train_takes_the_sets_own_splits_by_name(tmp_path: Path, capsys) -> None:
    """``--split train,val``: every box of the train split trains, every box of val validates (3 and 1 here),
    whatever the ratios would have drawn; the split names are kept for --resume."""
    root = ultralytics_set(tmp_path / "ds")
    code, out, err = cli(capsys, "train", root, "--split", "train,valid", "--out", tmp_path / "run", *TRAIN_FAST)
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["split_sizes"] == {"train": 3, "valid": 1, "test": 0}
    assert config["train"]["split"] == "train,valid" and config["labels"] == ["A", "B"]


def test_train_reads_one_split_and_refuses_split_names_without_a_yolo_set(tmp_path: Path, capsys) -> None:
    root = roboflow_set(tmp_path / "export")
    valid = load_dataset(root, "valid")
    assert sorted((s.path.name, s.label) for s in valid.samples) == [("a3.jpg", "A"), ("b2.jpg", "B")]
    assert sorted(s.crop for s in valid.samples)[0] == (4, 2, 36, 18), "the box widened by 0.3 on each side"
    assert len(load_dataset(root)) == 6 and len(load_dataset(root, ("train", "test"))) == 4
    folders = tmp_path / "folders"
    for lab in "AB":
        noise_png(folders / lab / "p.png", ord(lab))
    code, _, err = cli(capsys, "train", folders, "--split", "valid", "--out", tmp_path / "run", *TRAIN_FAST)
    one_error_line(code, err, "--split valid", "not a YOLO set")
    code, _, err = cli(capsys, "train", root, "--split", "train,holdout", "--out", tmp_path / "run2", *TRAIN_FAST)
    one_error_line(code, err, "no split 'holdout'", "its splits: train, val (or valid), test")
    assert not (tmp_path / "run2" / "model.json").exists()


# ---------------------------------------------------------------------------------------------
# bad input: one line or a problem row, never a traceback
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("yaml", "needles"), [
    ("- train\n- val\n", ["not a YOLO data.yaml", "got a list"]),
    ("just some text\n", ["not a YOLO data.yaml", "just some text"]),
    ("path: nowhere\ntrain: images/train\nval: images/val\nnames: [A, B]\n", ["`path: nowhere` is no folder"]),
    ("path: 7\ntrain: images/train\nnames: [A, B]\n", ["`path` is 7, not a folder"]),
    ("train: {a: 1}\nnames: [A, B]\n", ["`train` is", "not a folder of images"]),
    ("train: images/train\nval: images/holdout\nnames: [A, B]\n", ["`val: images/holdout` is not found"]),
    ("train: images/train\nval: images/val\n", ["no `names` list of classes"]),
    ("names: [A, B\n", ["cannot read YAML"]),
])  # fmt: skip
def test_bad_data_yaml_is_one_line(tmp_path: Path, capsys, yaml: str, needles: list[str]) -> None:
    root = ultralytics_set(tmp_path / "ds")
    (root / "data.yaml").write_text(yaml)
    split = ["--split", "val"] if "holdout" in yaml else []
    code, _, err = cli(capsys, "convert", root, *split, "--to", "csv", "--out", tmp_path / "out")
    one_error_line(code, err, "data.yaml", *needles)
    assert not (tmp_path / "out").exists()


def test_missing_split_source_is_a_problem_row_when_reading_every_split(tmp_path: Path) -> None:
    """Roboflow exports often name ``test: ../test/images`` without a test folder: reading every split leaves
    it out with a problem row; asking for it by name is an error."""
    root = roboflow_set(tmp_path / "export")
    shutil.rmtree(root / "test")
    bs = load_boxes(root)
    assert len(bs.images) == 5
    assert any("`test: ../test/images` is not found" in why for _, why in bs.problems), bs.problems
    with pytest.raises(DatasetError, match="`test: ../test/images` is not found"):
        load_boxes(root, split="test")


@pytest.mark.parametrize(("row", "why"), [
    ("0 nan 0.5 0.2 0.2", "cx nan is not finite"),
    ("1 0.5 0.5 inf 0.2", "w inf is not finite"),
    ("0 1.8 0.5 0.2 0.2", "lies outside"),
    ("0 0.5 0.5 -0.2 0.2", "zero-area or inverted box"),
    ("7 0.5 0.5 0.2 0.2", "class id 7 is not in data.yaml's 2 names"),
    ("A 0.5 0.5 0.2 0.2", "class id A is not a whole number"),
    ("0 0.5 0.5", "expected `class cx cy w h`"),
    ("0 0.5 0.5 0.2 0.2 0.9", "got 6 fields"),  # neither a box nor a polygon of three points or more
    ("0 0.5 0.5 0.2 0.2 0.1 0.1 0.3", "got 8 fields"),
    ("0 1_0 0.5 0.2 0.2", "cx 1_0 is not a number"),  # Python's float() reads 1_0 as 10
])  # fmt: skip
def test_bad_label_rows_are_problem_rows_and_a_set_of_only_bad_rows_is_one_line(
    tmp_path: Path, capsys, row: str, why: str
) -> None:
    root = roboflow_set(tmp_path / "export")
    label(root / "valid" / "labels" / "a3.txt", "0 0.5 0.5 0.5 0.5", row)
    code, out, err = cli(capsys, "convert", root, "--split", "valid", "--to", "csv", "--out", tmp_path / "out")
    assert code == 0, err
    problems = json.loads((tmp_path / "out" / "problems.json").read_text())
    assert [(p["where"], why in p["problem"]) for p in problems] == [("valid/labels/a3.txt:2", True)], problems
    assert "3 boxes" not in out and "2 images, 2 boxes" in out
    for stem in ("a3", "b2"):  # nothing usable left: one line, exit 1
        label(root / "valid" / "labels" / f"{stem}.txt", row)
    code, _, err = cli(capsys, "convert", root, "--split", "valid", "--to", "csv", "--out", tmp_path / "out2")
    one_error_line(code, err, "no usable box", why)


def test_a_segmentation_row_is_read_as_its_polygons_bounding_box(tmp_path: Path) -> None:
    """Ultralytics' `class x1 y1 x2 y2 ...` rows (segment labels) became a box from their first four numbers."""
    root = ultralytics_set(tmp_path / "ds")
    label(root / "labels" / "val" / "v1.txt", "1 0.1 0.2 0.9 0.2 0.9 0.8 0.1 0.8")
    bs = load_boxes(root, split="val")
    (im,) = [im for im in bs.images if im.path.stem == "v1"]
    x0, y0, x1, y1 = im.boxes[0].xyxy
    assert (x0 / im.width, y0 / im.height, x1 / im.width, y1 / im.height) == pytest.approx((0.1, 0.2, 0.9, 0.8))
    assert not [p for p in bs.problems if "v1" in p[0]]


def test_a_label_file_without_its_image_is_a_problem_row(tmp_path: Path) -> None:
    root = ultralytics_set(tmp_path / "ds")
    label(root / "labels" / "val" / "gone.txt", "0 0.5 0.5 0.5 0.5")
    bs = load_boxes(root, split="val")
    assert [w for w, _ in bs.problems] == ["labels/val/gone.txt"] and "no image" in bs.problems[0][1]


@pytest.mark.parametrize(("names", "why"), [
    ("nc: 3\nnames: [A, B]\n", "`nc: 3` but 2 names; make them agree"),
    ("names: [A, A, C]\n", "`names` gives A to class ids 0, 1"),
    ("names: [a, A]\n", "`names` gives A to class ids 0, 1"),  # one label as aslkit spells it
])  # fmt: skip
def test_a_data_yaml_that_contradicts_itself_is_one_line(tmp_path: Path, names: str, why: str) -> None:
    """nc: 3 beside two names passed, and two ids of one name merged their boxes into one class silently."""
    root = ultralytics_set(tmp_path / "ds")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\n" + names)
    with pytest.raises(DatasetError, match=re.escape(why)):
        load_boxes(root)
