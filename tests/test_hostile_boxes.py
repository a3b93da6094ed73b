"""Hostile box sets (GitHub issue 15, items 5 and 13): annotations that name files outside the set, numbers
that are not finite, wrong JSON types, decompression bombs, FIFOs and odd sizes. Every one is a reported
problem row or a one-line error, never an unexpected error (exit 3) or a hang; nothing outside the set is
linked or copied into an output, and the source set is never changed.

The sets are tiny synthetic PNGs; the few tests that need MediaPipe (evaluate-detection, evaluate, train)
use one or two images each."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import png_header_only, snapshot
from PIL import Image

from aslkit.cli import main

HEADER = "filename,width,height,class,xmin,ymin,xmax,ymax"
UNSIZED = "filename,class,xmin,ymin,xmax,ymax"
GOOD_ROW = "good.png,64,48,A,5,5,40,40"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A test that blocks (reading a FIFO) fails after 60 s instead of hanging the suite."""

    def boom(signum, frame):  # noqa: ARG001
        raise TimeoutError("blocked for 60 s (reading a FIFO?)")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def png(path: Path, size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (120, 90, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A readable image outside every set: it must never be linked, copied, read or scored."""
    return png(tmp_path / "outside" / "secret.png", (64, 48), (1, 2, 3))


def csv_set(root: Path, rows: list[str], header: str = HEADER) -> Path:
    """root/annotations.csv with images/good.png (64x48); returns the CSV's path."""
    png(root / "images" / "good.png")
    (root / "annotations.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return root / "annotations.csv"


def coco_set(root: Path, doc: dict) -> Path:
    png(root / "images" / "good.png")
    (root / "ann.json").write_text(json.dumps(doc), encoding="utf-8")
    return root / "ann.json"


def good_coco() -> dict:
    return {
        "images": [{"id": 1, "file_name": "good.png", "width": 64, "height": 48}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 30]}],
        "categories": [{"id": 1, "name": "A"}],
    }


def voc_xml(filename: str | None, size: str | None = "<size><width>64</width><height>48</height></size>",
            name: str = "A", bndbox: tuple = (5, 5, 40, 40)) -> str:  # fmt: skip
    fn = f"<filename>{filename}</filename>" if filename is not None else ""
    box = "".join(f"<{k}>{v}</{k}>" for k, v in zip(("xmin", "ymin", "xmax", "ymax"), bndbox, strict=True))
    return f"<annotation>{fn}{size or ''}<object><name>{name}</name><bndbox>{box}</bndbox></object></annotation>"


def voc_set(root: Path, xmls: dict[str, str]) -> Path:
    png(root / "JPEGImages" / "good.png")
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "good.xml").write_text(voc_xml("good.png"))
    for stem, text in xmls.items():
        (root / "Annotations" / f"{stem}.xml").write_text(text)
    return root


def yolo_set(root: Path, labels: dict[str, str], names: str = "names: [A, B]\n") -> Path:
    png(root / "images" / "good.png")
    (root / "labels").mkdir(parents=True)
    (root / "data.yaml").write_text(names)
    (root / "labels" / "good.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    for stem, text in labels.items():
        (root / "labels" / f"{stem}.txt").write_text(text)
    return root


def cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    """Run the real CLI; it may succeed or refuse (0 or 1), never fail unexpectedly (3)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "unexpected error" not in err and "Traceback" not in err, err
    assert code in (0, 1), (code, err)
    return code, out, err


def one_error_line(code: int, err: str, *needles: str) -> None:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aslkit: error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def problems_of(out: Path) -> str:
    """problems.json of a converted set, as one string of `where: problem` lines."""
    return "\n".join(f"{p['where']}: {p['problem']}" for p in json.loads((out / "problems.json").read_text()))


def files_in(folder: Path) -> list[Path]:
    return [Path(d) / f for d, _, fs in os.walk(folder) for f in fs]


def assert_nothing_from(out: Path, secret: Path) -> None:
    """No file under ``out`` is the outside file (same inode) or a copy of it (same name or same bytes)."""
    st, data = secret.stat(), secret.read_bytes()
    for f in files_in(out):
        s = f.stat()
        assert (s.st_dev, s.st_ino) != (st.st_dev, st.st_ino), f"{f} is a hard link to {secret}"
        assert f.name != secret.name, f
        assert f.read_bytes() != data, f"{f} is a copy of {secret}"


def convert(capsys, src: Path, out: Path, to: str = "coco", *extra: str) -> tuple[int, str, str]:
    return cli(capsys, "convert", src, "--to", to, "--out", out, *extra)


def converted_ok(capsys, src: Path, out: Path, to: str = "coco") -> str:
    """Convert, expect success with problem rows, return problems.json as text."""
    code, _, err = convert(capsys, src, out, to)
    assert code == 0, err
    return problems_of(out)


# ---------------------------------------------------------------------------------------------
# item 5: names that lead outside the set are refused; convert copies unless --link
# ---------------------------------------------------------------------------------------------
def _escape_name(kind: str, root: Path, secret: Path) -> str:
    """An image name (as an annotation would give it) that leads to ``secret``, outside ``root``."""
    if kind == "dotdot":
        return os.path.relpath(secret, root / "images")
    if kind == "absolute":
        return str(secret)
    if kind == "link":
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "images" / "evil.png").symlink_to(secret)
        return "evil.png"
    if kind == "folder-link":
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "images" / "sub").symlink_to(secret.parent, target_is_directory=True)
        return "sub/secret.png"
    raise AssertionError(kind)


ESCAPES = ["dotdot", "absolute", "link", "folder-link"]


@pytest.mark.parametrize("sized", [True, False], ids=["with-size", "without-size"])
@pytest.mark.parametrize("kind", ESCAPES)
def test_convert_refuses_csv_names_outside_the_set(tmp_path, capsys, secret, kind: str, sized: bool) -> None:
    root = tmp_path / "set"
    name = _escape_name(kind, root, secret)
    if sized:
        path = csv_set(root, [GOOD_ROW, f"{name},64,48,B,5,5,40,40"])
    else:
        path = csv_set(root, ["good.png,A,5,5,40,40", f"{name},B,5,5,40,40"], header=UNSIZED)
    before, secret_before = snapshot(root), snapshot(secret.parent)
    out = tmp_path / "out"
    probs = converted_ok(capsys, path, out)
    assert "outside the dataset folder" in probs, probs
    assert sorted(f.name for f in (out / "images").iterdir()) == ["good.png"]
    assert_nothing_from(out, secret)
    assert snapshot(root) == before and snapshot(secret.parent) == secret_before


@pytest.mark.parametrize("kind", ESCAPES)
def test_convert_refuses_coco_file_names_outside_the_set(tmp_path, capsys, secret, kind: str) -> None:
    root = tmp_path / "set"
    doc = good_coco()
    doc["images"].append({"id": 2, "file_name": _escape_name(kind, root, secret), "width": 64, "height": 48})
    doc["annotations"].append({"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 30, 30]})
    path = coco_set(root, doc)
    before = snapshot(root)
    out = tmp_path / "out"
    probs = converted_ok(capsys, path, out, "csv")
    assert "outside the dataset folder" in probs, probs
    assert_nothing_from(out, secret)
    assert snapshot(root) == before


@pytest.mark.parametrize("kind", [*ESCAPES, "fallback"])
def test_convert_refuses_voc_filenames_outside_the_set(tmp_path, capsys, secret, kind: str) -> None:
    """``fallback``: no <filename>, so VOC looks for the XML's stem, here a link to the outside file."""
    root = tmp_path / "set"
    if kind == "fallback":
        (root / "JPEGImages").mkdir(parents=True)
        (root / "JPEGImages" / "evil").symlink_to(secret)
        xml = voc_xml(None)
    else:
        name = _escape_name(kind, root, secret)
        if kind in ("link", "folder-link"):  # the images/ folder of the helper: make it the VOC one
            (root / "images").rename(root / "JPEGImages")
        xml = voc_xml(name if kind != "dotdot" else os.path.relpath(secret, root / "JPEGImages"))
    voc_set(root, {"evil": xml})
    before = snapshot(root)
    out = tmp_path / "out"
    probs = converted_ok(capsys, root, out, "yolo")
    assert "outside the dataset folder" in probs, probs
    assert sorted(f.name for f in (out / "images").iterdir()) == ["good.png"]
    assert_nothing_from(out, secret)
    assert snapshot(root) == before


def test_convert_yolo_refuses_image_links_outside_the_set(tmp_path, capsys, secret) -> None:
    root = yolo_set(tmp_path / "set", {"evil": "1 0.5 0.5 0.4 0.4\n"})
    (root / "images" / "evil.png").symlink_to(secret)
    before = snapshot(root)
    out = tmp_path / "out"
    probs = converted_ok(capsys, root, out, "coco")
    assert "outside the dataset folder" in probs, probs
    assert_nothing_from(out, secret)
    assert snapshot(root) == before


def test_convert_copies_by_default_and_hard_links_only_with_link(tmp_path, capsys) -> None:
    """A link that stays inside the set is fine; the output never shares an inode unless --link asks."""
    path = csv_set(tmp_path / "set", [GOOD_ROW, "alias.png,64,48,B,5,5,40,40"])
    (tmp_path / "set" / "images" / "alias.png").symlink_to("good.png")
    src = (tmp_path / "set" / "images" / "good.png").stat()
    code, _, err = convert(capsys, path, tmp_path / "copied")
    assert code == 0, err
    names = sorted(f.name for f in (tmp_path / "copied" / "images").iterdir())
    assert names == ["alias.png", "good.png"]
    for f in (tmp_path / "copied" / "images").iterdir():
        assert not f.is_symlink() and f.stat().st_ino != src.st_ino, "copied, not linked"
    code, _, err = convert(capsys, path, tmp_path / "linked", "coco", "--link")
    assert code == 0, err
    assert (tmp_path / "linked" / "images" / "good.png").stat().st_ino == src.st_ino


# ---------------------------------------------------------------------------------------------
# item 13: numbers that are not finite
# ---------------------------------------------------------------------------------------------
def strict_json(path: Path):
    """Parse JSON refusing NaN and Infinity (what other COCO tools do)."""

    def refuse(name: str):
        raise AssertionError(f"{path} holds {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize(
    "row",
    [
        "good.png,64,48,B,nan,5,40,40",
        "good.png,64,48,B,5,5,inf,40",
        "good.png,64,48,B,5,-inf,40,40",
        "good.png,64,48,B,5,5,40,1e999",
        "good.png,nan,48,B,5,5,40,40",
        "good.png,64,inf,B,5,5,40,40",
    ],
)
def test_csv_non_finite_numbers_are_problem_rows(tmp_path, capsys, row: str) -> None:
    path = csv_set(tmp_path / "set", [GOOD_ROW, row])
    out = tmp_path / "out"
    probs = converted_ok(capsys, path, out)
    assert "not finite" in probs, probs
    doc = strict_json(out / "annotations.json")
    assert len(doc["annotations"]) == 1 and doc["images"][0]["width"] == 64


@pytest.mark.parametrize("line", ["0 nan 0.5 0.4 0.4", "0 0.5 0.5 inf 0.4", "1 0.5 0.5 0.4 -inf"])
def test_yolo_non_finite_values_are_problem_rows(tmp_path, capsys, line: str) -> None:
    root = yolo_set(tmp_path / "set", {"good": f"0 0.5 0.5 0.4 0.4\n{line}\n"})
    out = tmp_path / "out"
    probs = converted_ok(capsys, root, out)
    assert "not finite" in probs, probs
    assert len(strict_json(out / "annotations.json")["annotations"]) == 1


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_coco_non_finite_bbox_is_a_problem_row(tmp_path, capsys, bad: float) -> None:
    doc = good_coco()
    doc["annotations"].append({"id": 2, "image_id": 1, "category_id": 1, "bbox": [5, bad, 30, 30]})
    out = tmp_path / "out"
    probs = converted_ok(capsys, coco_set(tmp_path / "set", doc), out)
    assert "annotation 2" in probs and "not finite" in probs, probs
    assert len(strict_json(out / "annotations.json")["annotations"]) == 1


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        (voc_xml("good.png", bndbox=("nan", 5, 40, 40)), "not finite"),
        (voc_xml("good.png", bndbox=(5, 5, "inf", 40)), "not finite"),
        (voc_xml("good.png", size="<size><width>inf</width><height>48</height></size>"), "not finite"),
        (voc_xml("good.png", size="<size><width>abc</width><height>48</height></size>"), "not a number"),
        (voc_xml("good.png", size="<size><width>-64</width><height>48</height></size>"), "not a positive"),
    ],
)
def test_voc_bad_numbers_are_problem_rows(tmp_path, capsys, xml: str, needle: str) -> None:
    root = voc_set(tmp_path / "set", {"bad": xml})
    out = tmp_path / "out"
    probs = converted_ok(capsys, root, out)
    assert "bad.xml" in probs and needle in probs, probs
    doc = strict_json(out / "annotations.json")
    assert len(doc["annotations"]) == 1 and all(im["width"] == 64 for im in doc["images"])


def test_voc_without_size_reads_the_image(tmp_path, capsys) -> None:
    root = voc_set(tmp_path / "set", {})
    (root / "Annotations" / "good.xml").write_text(voc_xml("good.png", size=None))
    out = tmp_path / "out"
    code, _, err = convert(capsys, root, out)
    assert code == 0, err
    doc = strict_json(out / "annotations.json")
    assert doc["images"][0]["width"] == 64 and doc["images"][0]["height"] == 48 and len(doc["annotations"]) == 1


# ---------------------------------------------------------------------------------------------
# item 13: sizes out of range, empty class names
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("big.png,1000000,1000000,B,5,5,40,40", "too large"),
        ("big.png,-64,48,B,5,5,40,40", "not a positive"),
        ("big.png,64,-48,B,5,5,40,40", "not a positive"),
    ],
)
def test_csv_huge_or_negative_size_is_a_problem_row(tmp_path, capsys, row: str, needle: str) -> None:
    path = csv_set(tmp_path / "set", [GOOD_ROW, row])
    png(tmp_path / "set" / "images" / "big.png")
    out = tmp_path / "out"
    probs = converted_ok(capsys, path, out)
    assert needle in probs, probs
    doc = strict_json(out / "annotations.json")
    assert [(im["file_name"], im["width"], im["height"]) for im in doc["images"]] == [("good.png", 64, 48)]


@pytest.mark.parametrize(("width", "needle"), [(10**9, "too large"), (-64, "not a positive"), ("64", "not a number")])
def test_coco_bad_size_is_a_problem_row(tmp_path, capsys, width, needle: str) -> None:
    doc = good_coco()
    png(tmp_path / "set" / "images" / "big.png")
    doc["images"].append({"id": 2, "file_name": "big.png", "width": width, "height": 48})
    out = tmp_path / "out"
    probs = converted_ok(capsys, coco_set(tmp_path / "set", doc), out)
    assert "image 2" in probs and needle in probs, probs
    assert [im["file_name"] for im in strict_json(out / "annotations.json")["images"]] == ["good.png"]


@pytest.mark.parametrize("fmt", ["csv", "voc", "coco", "yolo"])
@pytest.mark.parametrize("name", ["", "   "], ids=["empty", "blank"])
def test_empty_class_names_are_problem_rows(tmp_path, capsys, fmt: str, name: str) -> None:
    root = tmp_path / "set"
    if fmt == "csv":
        src = csv_set(root, [GOOD_ROW, f"good.png,64,48,{name},40,5,60,40"])
    elif fmt == "voc":
        src = voc_set(root, {"bad": voc_xml("good.png", name=name, bndbox=(40, 5, 60, 40))})
    elif fmt == "coco":
        doc = good_coco()
        doc["categories"].append({"id": 2, "name": name})
        doc["annotations"].append({"id": 2, "image_id": 1, "category_id": 2, "bbox": [40, 5, 20, 35]})
        src = coco_set(root, doc)
    else:
        src = yolo_set(root, {"good": "0 0.5 0.5 0.4 0.4\n1 0.8 0.5 0.3 0.7\n"}, f"names: [A, '{name}']\n")
    out = tmp_path / "out"
    probs = converted_ok(capsys, src, out)
    assert "empty" in probs, probs
    doc = strict_json(out / "annotations.json")
    assert [c["name"] for c in doc["categories"]] == ["A"] and len(doc["annotations"]) == 1


@pytest.mark.parametrize("fmt", ["csv", "coco"])
def test_class_names_with_control_characters_are_problem_rows(tmp_path, capsys, fmt: str) -> None:
    root = tmp_path / "set"
    if fmt == "csv":
        src = csv_set(root, [GOOD_ROW, "good.png,64,48,\x01,40,5,60,40"])
    else:
        doc = good_coco()
        doc["categories"].append({"id": 2, "name": "B\x1b[31m"})
        doc["annotations"].append({"id": 2, "image_id": 1, "category_id": 2, "bbox": [40, 5, 20, 35]})
        src = coco_set(root, doc)
    out = tmp_path / "out"
    probs = converted_ok(capsys, src, out)
    assert "control characters" in probs, probs
    assert [c["name"] for c in strict_json(out / "annotations.json")["categories"]] == ["A"]


@pytest.mark.parametrize(
    ("name", "needle"),
    [("a\x00b.png", "NUL"), ("", "empty image file name"), ("dir.png", "is a folder"), (".", "is a folder")],
)
def test_csv_odd_image_names_are_problem_rows(tmp_path, capsys, name: str, needle: str) -> None:
    path = csv_set(tmp_path / "set", [GOOD_ROW, f"{name},64,48,B,5,5,40,40"])
    (tmp_path / "set" / "images" / "dir.png").mkdir()
    probs = converted_ok(capsys, path, tmp_path / "out")
    assert needle in probs, probs


# ---------------------------------------------------------------------------------------------
# item 13: COCO and YOLO files with fields of the wrong type
# ---------------------------------------------------------------------------------------------
def _set(key: str, value) -> Callable[[dict], None]:
    """Append an entry to doc[key] (the good one stays)."""
    return lambda doc: doc[key].append(value)


COCO_BAD_ENTRIES = {
    "image-not-object": (_set("images", 5), "images[1]"),
    "file-name-number": (_set("images", {"id": 2, "file_name": 7, "width": 64, "height": 48}), "file_name"),
    "file-name-missing": (_set("images", {"id": 2, "width": 64, "height": 48}), "file_name"),
    "image-id-list": (_set("images", {"id": [2], "file_name": "good.png"}), "id"),
    "width-string": (_set("images", {"id": 2, "file_name": "good.png", "width": "64", "height": 48}), "width"),
    "bbox-strings": (_set("annotations", {"id": 2, "image_id": 1, "category_id": 1, "bbox": ["5", "5", "9", "x"]}),
                     "bbox"),
    "bbox-text": (_set("annotations", {"id": 2, "image_id": 1, "category_id": 1, "bbox": "5 5 9 9"}), "bbox"),
    "annotation-not-object": (_set("annotations", [1, 2]), "annotations[1]"),
    "image-id-object": (_set("annotations", {"id": 2, "image_id": {"a": 1}, "category_id": 1, "bbox": [1, 1, 9, 9]}),
                        "image id"),
    "category-id-list": (_set("annotations", {"id": 2, "image_id": 1, "category_id": [1], "bbox": [1, 1, 9, 9]}),
                         "category id"),
    "category-not-object": (_set("categories", "B"), "categories[1]"),
    "category-without-id": (_set("categories", {"name": "B"}), "categories[1]"),
    "category-without-name": (_set("categories", {"id": 2}), "categories[1]"),
    "category-id-list-entry": (_set("categories", {"id": [2], "name": "B"}), "categories[1]"),
    "file-name-nul": (_set("images", {"id": 2, "file_name": "a\x00b.png"}), "NUL"),
    "bbox-bool": (_set("annotations", {"id": 2, "image_id": 1, "category_id": 1, "bbox": [True, 1, 9, 9]}), "bbox"),
    "bbox-five": (_set("annotations", {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9, 9]}), "bbox"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(COCO_BAD_ENTRIES))
def test_coco_entries_of_the_wrong_type_are_problem_rows(tmp_path, capsys, case: str) -> None:
    change, where = COCO_BAD_ENTRIES[case]
    doc = good_coco()
    change(doc)
    root = tmp_path / "set"
    src = coco_set(root, doc)
    before = snapshot(root)
    out = tmp_path / "out"
    probs = converted_ok(capsys, src, out)
    assert where in probs, probs
    back = strict_json(out / "annotations.json")
    assert len(back["annotations"]) == 1 and back["images"][0]["file_name"] == "good.png"
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"images": {"1": "good.png"}, "annotations": [], "categories": []}, "`images`"),
        ({"images": [], "annotations": "none", "categories": []}, "`annotations`"),
        ({"images": [], "annotations": [], "categories": {"1": "A"}}, "`categories`"),
        ([1, 2, 3], "not COCO"),
        ({"images": None, "annotations": None, "categories": None}, "not COCO"),
    ],
)
def test_files_that_are_not_coco_are_one_line_errors(tmp_path, capsys, doc, needle: str) -> None:
    src = coco_set(tmp_path / "set", {})
    src.write_text(json.dumps(doc))
    code, _, err = convert(capsys, src, tmp_path / "out")
    one_error_line(code, err, needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("names", "needle"),
    [
        ("names: {a: A, b: B}\n", "names"),
        ("names: {0: A, true: B}\n", "names"),
        ("names: {0: A, null: B}\n", "names"),
        ("names: {0: A, -1: B}\n", "names"),
        ("names: {0: A, 1.5: B}\n", "names"),
    ],
)
def test_yolo_names_with_keys_that_are_not_class_ids_are_one_line_errors(tmp_path, capsys, names, needle) -> None:
    root = yolo_set(tmp_path / "set", {}, names)
    code, _, err = convert(capsys, root, tmp_path / "out")
    one_error_line(code, err, needle, "data.yaml")


def test_yolo_names_mapping_is_read_by_id(tmp_path, capsys) -> None:
    """``{0: A, 2: C}``: class id 2 is C (the mapping's id, not its position)."""
    root = yolo_set(tmp_path / "set", {"good": "2 0.5 0.5 0.4 0.4\n1 0.5 0.5 0.2 0.2\n"}, "names: {0: A, 2: C}\n")
    out = tmp_path / "out"
    probs = converted_ok(capsys, root, out)
    assert "class id 1" in probs, probs
    doc = strict_json(out / "annotations.json")
    cats = {c["id"]: c["name"] for c in doc["categories"]}
    assert [cats[a["category_id"]] for a in doc["annotations"]] == ["C"]


def test_yolo_data_yaml_not_utf8_is_a_one_line_error(tmp_path, capsys) -> None:
    root = yolo_set(tmp_path / "set", {})
    (root / "data.yaml").write_bytes(b"names: [\xff\xfe]\n")
    code, _, err = convert(capsys, root, tmp_path / "out")
    one_error_line(code, err, "data.yaml")


# ---------------------------------------------------------------------------------------------
# item 13: decompression bombs
# ---------------------------------------------------------------------------------------------
def _bomb_set(root: Path) -> Path:
    """A CSV without width/height naming a PNG whose header claims 100000 x 100000 pixels, and one of 9000 x 9000."""
    path = csv_set(root, ["good.png,A,5,5,40,40", "bomb.png,B,5,5,40,40", "big.png,B,5,5,40,40"], header=UNSIZED)
    (root / "images" / "bomb.png").write_bytes(png_header_only(100_000, 100_000))
    Image.new("1", (9000, 9000), 1).save(root / "images" / "big.png")
    return path


def test_convert_reports_a_decompression_bomb(tmp_path, capsys) -> None:
    path = _bomb_set(tmp_path / "set")
    before = snapshot(tmp_path / "set")
    out = tmp_path / "out"
    probs = converted_ok(capsys, path, out)
    assert "bomb.png" in probs and "big.png" in probs and probs.count("too large") == 2, probs
    assert [im["file_name"] for im in strict_json(out / "annotations.json")["images"]] == ["good.png"]
    assert snapshot(tmp_path / "set") == before


# ---------------------------------------------------------------------------------------------
# item 13: FIFOs never block
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv-sized", "csv-unsized", "coco", "voc", "yolo"])
def test_a_fifo_named_as_an_image_is_a_problem_row(tmp_path, capsys, fmt: str) -> None:
    root = tmp_path / "set"
    if fmt == "csv-sized":
        src = csv_set(root, [GOOD_ROW, "pipe.png,64,48,B,5,5,40,40"])
        fifo = root / "images" / "pipe.png"
    elif fmt == "csv-unsized":
        src = csv_set(root, ["good.png,A,5,5,40,40", "pipe.png,B,5,5,40,40"], header=UNSIZED)
        fifo = root / "images" / "pipe.png"
    elif fmt == "coco":
        doc = good_coco()
        doc["images"].append({"id": 2, "file_name": "pipe.png"})
        src = coco_set(root, doc)
        fifo = root / "images" / "pipe.png"
    elif fmt == "voc":
        src = voc_set(root, {"pipe": voc_xml("pipe.png", size=None)})
        fifo = root / "JPEGImages" / "pipe.png"
    else:
        src = yolo_set(root, {"pipe": "0 0.5 0.5 0.4 0.4\n"})
        fifo = root / "images" / "pipe.png"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    probs = converted_ok(capsys, src, out)
    assert "pipe" in probs, probs
    if fmt != "yolo":  # YOLO finds images by listing regular files: the FIFO is just "no image named pipe.*"
        assert "FIFO" in probs, probs
    assert [f.name for f in (out / "images").iterdir()] == ["good.png"]


@pytest.mark.parametrize("which", ["csv-file", "csv-in-folder", "coco", "data.yaml"])
def test_an_annotation_file_that_is_a_fifo_is_a_one_line_error(tmp_path, capsys, which: str) -> None:
    root = tmp_path / "set"
    png(root / "images" / "good.png")
    if which == "csv-file":
        os.mkfifo(root / "boxes.csv")
        src = root / "boxes.csv"
    elif which == "csv-in-folder":
        os.mkfifo(root / "annotations.csv")
        src = root
    elif which == "coco":
        os.mkfifo(root / "ann.json")
        src = root
    else:
        (root / "labels").mkdir()
        os.mkfifo(root / "data.yaml")
        src = root
    code, _, err = convert(capsys, src, tmp_path / "out")
    one_error_line(code, err, "FIFO")


@pytest.mark.parametrize("which", ["voc-xml", "yolo-label"])
def test_one_annotation_file_that_is_a_fifo_is_a_problem_row(tmp_path, capsys, which: str) -> None:
    if which == "voc-xml":
        root = voc_set(tmp_path / "set", {})
        os.mkfifo(root / "Annotations" / "pipe.xml")
    else:
        root = yolo_set(tmp_path / "set", {})
        png(root / "images" / "pipe.png")
        os.mkfifo(root / "labels" / "pipe.txt")
    probs = converted_ok(capsys, root, tmp_path / "out")
    assert "pipe" in probs and "FIFO" in probs, probs


# ---------------------------------------------------------------------------------------------
# convert's output folder: new or empty, outside the source set, checked before reading
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv-file", "csv-folder", "coco-file", "yolo", "voc"])
def test_convert_out_inside_the_source_is_refused_before_reading(tmp_path, capsys, monkeypatch, fmt: str) -> None:
    import aslkit.data.boxes as boxes

    root = tmp_path / "set"
    if fmt.startswith("csv"):
        src = csv_set(root, ["good.png,A,5,5,40,40"], header=UNSIZED)
        src = src if fmt == "csv-file" else root
    elif fmt == "coco-file":
        doc = good_coco()
        del doc["images"][0]["width"]
        src = coco_set(root, doc)
    elif fmt == "yolo":
        src = yolo_set(root, {})
    else:
        src = voc_set(root, {})
        (root / "Annotations" / "good.xml").write_text(voc_xml("good.png", size=None))
    reads = []
    real = boxes._image_size
    monkeypatch.setattr(boxes, "_image_size", lambda p: reads.append(p) or real(p))
    before = snapshot(root)
    for out in (root / "converted", root / "images" / "converted"):
        code, _, err = convert(capsys, src, out)
        one_error_line(code, err, "--out", "inside")
        assert not out.exists()
    assert reads == [], "the output folder is checked before any image is read"
    assert snapshot(root) == before
    code, _, err = convert(capsys, src, tmp_path / "elsewhere")
    assert code == 0, err
    assert reads, "a good --out reads the set"


def test_convert_out_must_be_new_or_empty(tmp_path, capsys) -> None:
    src = csv_set(tmp_path / "set", [GOOD_ROW])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = convert(capsys, src, tmp_path / "full")
    one_error_line(code, err, "already exists")
    assert [f.name for f in (tmp_path / "full").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    code, _, err = convert(capsys, src, tmp_path / "empty")
    assert code == 0 and (tmp_path / "empty" / "annotations.json").is_file()


def test_convert_that_fails_while_writing_leaves_no_output(tmp_path, capsys, monkeypatch) -> None:
    import aslkit.data.boxes as boxes

    src = csv_set(tmp_path / "set", [GOOD_ROW, "bad.png,64,48,A,1,1,2,2"])

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(boxes, "_copy_file", fail)
    code, _, err = convert(capsys, src, tmp_path / "out")
    one_error_line(code, err, "No space left")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"], "no output and no half-written staging folder"


# ---------------------------------------------------------------------------------------------
# audit (no MediaPipe): the same sets are findings, not crashes
# ---------------------------------------------------------------------------------------------
def test_audit_reports_a_decompression_bomb(tmp_path, capsys) -> None:
    _bomb_set(tmp_path / "set")
    before = snapshot(tmp_path / "set")
    code, out, err = cli(capsys, "audit", tmp_path / "set", "--no-landmarks", "--json", "--folds", "0",
                         "--out", tmp_path / "report")  # fmt: skip
    assert code == 0, err
    r = json.loads(out)
    whys = " | ".join(p["problem"] for p in r["annotation_problems"])
    assert whys.count("too large") == 2, whys
    assert {Path(u["path"]).name for u in r["unreadable"]} == {"bomb.png", "big.png"}
    assert snapshot(tmp_path / "set") == before


@pytest.mark.parametrize("case", ["non-finite", "outside", "coco-types"])
def test_audit_reports_hostile_rows(tmp_path, capsys, secret, case: str) -> None:
    root = tmp_path / "set"
    if case == "non-finite":
        csv_set(root, [GOOD_ROW, "good.png,64,48,B,nan,5,40,40"])
        needle = "not finite"
    elif case == "outside":
        csv_set(root, [GOOD_ROW, f"{os.path.relpath(secret, root / 'images')},64,48,B,5,5,40,40"])
        needle = "outside the dataset folder"
    else:
        doc = good_coco()
        COCO_BAD_ENTRIES["image-id-list"][0](doc)
        COCO_BAD_ENTRIES["bbox-strings"][0](doc)
        coco_set(root, doc)
        needle = "bbox"
    before = snapshot(root)
    code, out, err = cli(capsys, "audit", root, "--no-landmarks", "--json", "--folds", "0", "--out", tmp_path / "r")
    assert code == 0, err
    r = json.loads(out)
    whys = " | ".join(p["problem"] for p in r["annotation_problems"])
    assert needle in whys, whys
    assert r["images"] == 1 and all("secret" not in u["path"] for u in r["unreadable"])
    assert snapshot(root) == before


def test_audit_of_a_broken_coco_file_names_the_coco_problem(tmp_path, capsys) -> None:
    """The file itself: a one-line error about COCO. Its folder (which also reads as a class-folder set,
    images/ being one "class"): audited as class folders, with the COCO error as an annotation problem."""
    src = coco_set(tmp_path / "set", {})
    src.write_text(json.dumps({"images": {}, "annotations": [], "categories": []}))
    code, _, err = cli(capsys, "audit", src, "--no-landmarks", "--out", tmp_path / "r")
    one_error_line(code, err, "`images`")
    code, out, err = cli(capsys, "audit", tmp_path / "set", "--no-landmarks", "--json", "--out", tmp_path / "r2")
    assert code == 0, err
    r = json.loads(out)
    assert r["kind"] == "class folders" and "`images`" in r["annotation_problems"][0]["problem"]


# ---------------------------------------------------------------------------------------------
# evaluate-detection (MediaPipe on a few tiny images)
# ---------------------------------------------------------------------------------------------
def _evaluate_detection(capsys, data: Path, cache: Path) -> dict:
    code, out, err = cli(capsys, "evaluate-detection", data, "--json", "--cache-dir", cache, "--quiet")
    assert code == 0, err
    return json.loads(out)


def test_evaluate_detection_leaves_out_non_finite_boxes(tmp_path, capsys) -> None:
    path = csv_set(tmp_path / "set", [GOOD_ROW, "good.png,64,48,B,nan,5,40,40", "good.png,64,48,B,5,5,inf,40"])
    m = _evaluate_detection(capsys, path, tmp_path / "cache")
    assert m["images"] == 1 and m["ground_truth_boxes"] == 1 and m["problems"] == 2


def test_evaluate_detection_reports_unreadable_images(tmp_path, capsys) -> None:
    """Images with width/height given that cannot be decoded (text, a bomb header) and a bomb without a
    size: left out of the metrics and listed, not scored as misses."""
    root = tmp_path / "set"
    path = csv_set(root, [GOOD_ROW, "text.png,64,48,B,5,5,40,40", "bomb.png,64,48,B,5,5,40,40"])
    (root / "images" / "text.png").write_text("not an image\n" * 20)
    (root / "images" / "bomb.png").write_bytes(png_header_only(100_000, 100_000))
    with open(path, "a") as f:  # a row without width/height (the size is read from the file)
        f.write("bomb2.png,,,B,5,5,40,40\n")
    (root / "images" / "bomb2.png").write_bytes(png_header_only(100_000, 100_000))
    before = snapshot(root)
    m = _evaluate_detection(capsys, path, tmp_path / "cache")
    assert m["images"] == 1 and m["ground_truth_boxes"] == 1
    assert {Path(u["path"]).name for u in m["unreadable"]} == {"text.png", "bomb.png", "bomb2.png"}
    assert all(u["error"] for u in m["unreadable"])
    assert snapshot(root) == before


def test_evaluate_detection_with_nothing_readable_is_one_line(tmp_path, capsys) -> None:
    root = tmp_path / "set"
    png(root / "images" / "text.png")
    (root / "images" / "text.png").write_text("not an image\n")
    (root / "annotations.csv").write_text(f"{HEADER}\ntext.png,64,48,B,5,5,40,40\n")
    code, _, err = cli(capsys, "evaluate-detection", root, "--cache-dir", tmp_path / "cache", "--quiet")
    one_error_line(code, err, "could be read")
    # --classes with no ground-truth box of them: no mAP of 0, but why there is none
    png(root / "images" / "text.png")  # a real image now, 64x48 as declared
    code, _, err = cli(capsys, "evaluate-detection", root, "--classes", "Z", "--cache-dir", tmp_path / "cache")
    one_error_line(code, err, "no box of Z to score; its boxes are of B")


# ---------------------------------------------------------------------------------------------
# evaluate and train on a box CSV (data/dataset.py crops each box)
# ---------------------------------------------------------------------------------------------
def _crop_set(root: Path, extra_rows: list[str]) -> Path:
    """Two readable images of class B (a known letter of the synthetic model) plus ``extra_rows``."""
    png(root / "images" / "one.png", (96, 96))
    png(root / "images" / "two.png", (96, 96), (30, 60, 90))
    rows = ["one.png,96,96,B,10,10,80,80", "two.png,96,96,L,10,10,80,80", *extra_rows]
    (root / "annotations.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    return root


CROP_ROWS = {
    "non-finite": ["one.png,96,96,B,nan,10,80,80", "two.png,96,96,B,10,10,inf,80", "one.png,96,96,V,-1e308,0,1e308,9"],
    "outside": None,  # filled in with the secret's relative path
    "empty-class": ["one.png,96,96, ,10,10,80,80"],
}


@pytest.mark.parametrize("case", list(CROP_ROWS))
def test_evaluate_on_a_box_csv_with_hostile_rows(tmp_path, capsys, synthetic_model_dir, secret, case: str) -> None:
    root = tmp_path / "set"
    rows = CROP_ROWS[case] or [f"{os.path.relpath(secret, root / 'images')},64,48,B,5,5,60,40"]
    _crop_set(root, rows)
    before = snapshot(root)
    code, out, err = cli(capsys, "evaluate", root, "--model", synthetic_model_dir, "--json",
                         "--cache-dir", tmp_path / "cache", "--quiet")  # fmt: skip
    assert code == 0, err
    m = json.loads(out)
    assert m["n"] == 2, "only the two good rows are evaluated"
    left_out = m.pop("box_rows_left_out")
    assert len(left_out) == len(rows), "each hostile row is said to be left out"
    assert "secret" not in json.dumps(m), "the file outside the set is never read or scored"
    if case == "outside":
        assert "outside the dataset folder" in left_out[0] and left_out[0].endswith("refused")
    assert snapshot(root) == before


def test_train_on_a_box_csv_with_non_finite_rows(tmp_path, capsys) -> None:
    root = _crop_set(tmp_path / "set", CROP_ROWS["non-finite"])
    before = snapshot(root)
    cli(capsys, "train", root, "--out", tmp_path / "run", "model=landmark-mlp-tiny", "epochs=1",
        "--cache-dir", tmp_path / "cache", "-q")  # fmt: skip
    assert snapshot(root) == before


def test_evaluate_on_a_fifo_csv_is_one_line(tmp_path, capsys, synthetic_model_dir) -> None:
    os.mkfifo(tmp_path / "boxes.csv")
    code, _, err = cli(capsys, "evaluate", tmp_path / "boxes.csv", "--model", synthetic_model_dir, "--quiet")
    one_error_line(code, err, "FIFO")


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "nonexist", "--to", "csv", "--out", "cv/x"],
        ["audit", "nonexist", "--out", "out/zz"],
        ["evaluate-detection", "nonexist", "--report", "out/zz"],
    ],  # fmt: skip
)
def test_a_mistyped_set_in_the_current_folder_is_said_to_be_missing(tmp_path, capsys, monkeypatch, argv) -> None:
    """Its folder (".") was taken for the set, so the output was said to be inside it."""
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *argv)
    assert code == 1 and err.strip() == "aslkit: error: nonexist: no such file or folder", err


def test_a_missing_image_is_named_with_its_folders(tmp_path) -> None:
    """Named by its last part only, `sub/good.png` read as `good.png not found` beside an existing good.png."""
    from aslkit.data.boxes import load_boxes

    root = tmp_path / "set"
    csv_set(root, ["sub/good.png,64,48,B,5,5,40,40", "good.png,64,48,B,5,5,40,40"])
    bs = load_boxes(root)
    assert [why for _, why in bs.problems] == ["image images/sub/good.png not found"]


def test_a_data_yaml_whose_path_leads_elsewhere_keeps_every_output_out_of_that_set(tmp_path: Path, capsys) -> None:
    """`path: ../real` read the images of ../real, and train wrote its run there (beside images/ labels/):
    the set given was only a data.yaml, so "outside the data" checked the wrong folder."""
    real = tmp_path / "real"
    png(real / "images" / "b.png")
    png(real / "images" / "a.png")
    (real / "labels").mkdir(parents=True)
    (real / "labels" / "b.txt").write_text("1 0.5 0.5 0.4 0.4\n")
    (real / "labels" / "a.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    pointer = tmp_path / "pointer"
    pointer.mkdir()
    (pointer / "data.yaml").write_text("path: ../real\ntrain: images\nval: images\nnames: [A, B]\n")
    before = snapshot(real)
    for argv in (["train", pointer, "--out", real / "run", "epochs=1"],
                 ["evaluate", pointer, "--report", real / "rep"],
                 ["audit", pointer, "--out", real / "aud", "--no-landmarks", "--folds", "0"],
                 ["convert", pointer, "--to", "coco", "--out", real / "conv"]):  # fmt: skip
        code, _, err = cli(capsys, *argv)
        one_error_line(code, err, "is inside the", str(real))
    assert snapshot(real) == before


def test_a_declared_size_is_checked_against_the_image(tmp_path: Path) -> None:
    """The CSV's (or VOC's, COCO's) width and height were trusted: a box of a 64x48 image declared 20x20 was
    clipped to 20x20, and an image with a size but no pixels (a text file) kept its boxes."""
    root = tmp_path / "set"
    png(root / "images" / "good.png")  # 64x48
    (root / "images" / "text.png").write_text("not an image\n")
    (root / "annotations.csv").write_text(f"{HEADER}\ngood.png,20,20,A,5,5,40,40\ntext.png,64,48,B,5,5,40,40\n")
    from aslkit.data.boxes import load_boxes

    bs = load_boxes(root)
    (im,) = bs.images
    assert (im.width, im.height) == (64, 48) and im.boxes[0].xyxy == (5.0, 5.0, 40.0, 40.0), "not clipped to 20x20"
    whys = [why for _, why in bs.problems]
    assert "image images/good.png is declared 20x20 but is 64x48; its boxes are read against its real size" in whys
    assert bs.unreadable == [root / "images" / "text.png"]


def test_convert_leaves_out_images_that_do_not_decode(tmp_path: Path, capsys) -> None:
    """A truncated JPEG has a good header: it was copied into the new set, unreported."""
    root = tmp_path / "set"
    png(root / "images" / "good.png")
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    whole = tmp_path / "whole.jpg"
    Image.fromarray(noise).save(whole, quality=95)
    data = whole.read_bytes()
    (root / "images" / "cut.jpg").write_bytes(data[: int(len(data) * 0.7)])  # the header whole, the pixels cut
    (root / "annotations.csv").write_text(f"{HEADER}\n{GOOD_ROW}\ncut.jpg,200,200,B,5,5,40,40\n")
    code, out, _ = cli(capsys, "convert", root, "--to", "yolo", "--out", tmp_path / "y")
    assert code == 0 and sorted(p.name for p in (tmp_path / "y" / "images").iterdir()) == ["good.png"]
    rows = json.loads((tmp_path / "y" / "problems.json").read_text())
    assert {"where": "images/cut.jpg", "problem": rows[0]["problem"]} == rows[0] and "truncated" in rows[0]["problem"]
