"""Labelled image sets: folder-per-class and box CSV; bad layouts give one clear DatasetError."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_dir, snapshot
from PIL import Image

from aslkit.data.dataset import BOX_MARGIN, load_dataset
from aslkit.errors import AslkitError, DatasetError


def _img(path: Path, size: tuple[int, int] = (32, 32)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 80, 40)).save(path)
    return path


def test_folder_per_class_with_canonical_labels(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _img(root / "del" / "1.jpg")
    _img(root / "del" / "2.PNG")
    _img(root / "a" / "x.jpeg")
    _img(root / "a" / "nested" / "deeper.jpg")  # sub-folders of a class belong to that class
    _img(root / "Nothing" / "n.bmp")
    _img(root / "hello" / "h.webp")
    (root / "a" / "readme.txt").write_text("not an image")
    _img(root / "a" / ".hidden.jpg")
    _img(root / "a" / ".thumbs" / "t.jpg")
    _img(root / ".git" / "junk.jpg")  # hidden class folder
    before = snapshot(root)
    ds = load_dataset(root)
    assert ds.labels == ["A", "Del", "Nothing", "hello"]
    assert ds.counts() == {"A": 2, "Del": 2, "Nothing": 1, "hello": 1}
    assert len(ds) == 6
    raw = {s.raw_label for s in ds.samples}
    assert raw == {"a", "del", "Nothing", "hello"}, "raw folder names are kept alongside canonical labels"
    assert all(s.crop is None for s in ds.samples)
    assert snapshot(root) == before, "loading a dataset only reads"


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset(tmp_path / "missing")


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no class sub-folders"):
        load_dataset(tmp_path / "empty")


def test_loose_images_without_class_folders_get_a_hint(tmp_path: Path) -> None:
    for i in range(3):
        _img(tmp_path / "loose" / f"{i}.jpg")
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path / "loose")
    assert "3 loose images" in str(info.value) and "\n" not in str(info.value)


def test_class_folders_without_images(tmp_path: Path) -> None:
    (tmp_path / "d" / "A").mkdir(parents=True)
    (tmp_path / "d" / "B").mkdir()
    (tmp_path / "d" / "B" / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="no images found"):
        load_dataset(tmp_path / "d")


def test_a_plain_file_is_not_a_dataset(tmp_path: Path) -> None:
    f = _img(tmp_path / "photo.jpg")
    with pytest.raises(DatasetError, match="got a file") as info:
        load_dataset(f)
    assert isinstance(info.value, AslkitError)


def _write_csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_box_csv_with_images_folder(tmp_path: Path) -> None:
    root = tmp_path / "boxes"
    _img(root / "images" / "p1.jpg", (200, 100))
    _img(root / "images" / "p2.jpg", (200, 100))
    _write_csv(
        root / "annotations.csv",
        "filename,width,height,class,xmin,ymin,xmax,ymax\n"
        "p1.jpg,200,100,a,50,20,150,70\n"
        "p2.jpg,200,100,Del,10,10,60,40\n"
        "p2.jpg,200,100,B,not,a,number,!\n"  # malformed rows are skipped
        "p2.jpg,200,100,C,60,40,10,10\n",  # empty box: skipped
    )
    ds = load_dataset(root)
    assert [s.label for s in ds.samples] == ["A", "Del"]
    s = ds.samples[0]
    assert s.path == root / "images" / "p1.jpg"
    mx, my = BOX_MARGIN * 100, BOX_MARGIN * 50
    assert s.crop == (int(50 - mx), int(20 - my), int(150 + mx), int(70 + my))
    assert load_dataset(root / "annotations.csv").labels == ["A", "Del"], "the CSV path itself works too"
    assert [w.split(":")[0] for w in ds.skipped] == [
        "annotations.csv line 4 (p2.jpg)",
        "annotations.csv line 5 (p2.jpg)",
    ]
    assert "xmin" in ds.skipped[0] and "empty or inverted box" in ds.skipped[1], "each row left out says why"


def test_box_csv_whose_every_row_is_refused_says_why(tmp_path: Path) -> None:
    root = tmp_path / "boxes"
    _img(root / "images" / "p1.jpg", (200, 100))
    _write_csv(
        root / "annotations.csv", "filename,class,xmin,ymin,xmax,ymax\np1.jpg,A,10,10,10,90\n/etc/hostname,A,1,1,9,9\n"
    )
    with pytest.raises(DatasetError, match=r"no usable box \(2 row\(s\) left out; first: annotations.csv line 2"):
        load_dataset(root)


def test_box_csv_beside_images_and_bom(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    _img(root / "x.jpg")
    _write_csv(root / "annotations.csv", "\ufeffFilename,Class,XMin,YMin,XMax,YMax\nx.jpg,space,1,2,20,30\n")
    ds = load_dataset(root)
    assert ds.samples[0].path == root / "x.jpg" and ds.labels == ["Space"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no rows"),
        ("filename,class,xmin\nx.jpg,a,1\n", "missing columns"),
        ("filename,class,xmin,ymin,xmax,ymax\n", "no rows"),
    ],
)
def test_bad_box_csv(tmp_path: Path, text: str, match: str) -> None:
    csv_path = _write_csv(tmp_path / "c" / "annotations.csv", text)
    with pytest.raises(DatasetError, match=match):
        load_dataset(csv_path)


def test_real_detection_csv_reads_every_box() -> None:
    root = shared_dir("asl-letters-detection", "valid")
    csv_path = root / "annotations.csv"
    if not csv_path.is_file():
        pytest.skip(f"real data not available: {csv_path} is absent")
    n_rows = sum(1 for line in csv_path.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip())
    ds = load_dataset(root)
    assert len(ds) == n_rows
    assert set(ds.labels) <= {chr(c) for c in range(ord("A"), ord("Z") + 1)}
    assert all(s.path.is_file() for s in ds.samples[:20])
    assert all(s.crop is not None and s.crop[2] > s.crop[0] and s.crop[3] > s.crop[1] for s in ds.samples)


def test_real_folder_sets_share_label_spelling() -> None:
    kaggle = shared_dir("asl-alphabet-kaggle")
    photos = shared_dir("asl-alphabet-photos")
    a, b = load_dataset(kaggle), load_dataset(photos)
    assert a.labels == b.labels, "del/Del, nothing/Nothing, space/Space map to one spelling"
    assert len(a.labels) == 29


def test_loose_photos_beside_an_empty_sub_folder_say_where_they_go(tmp_path: Path) -> None:
    _img(tmp_path / "set" / "a.jpg")
    (tmp_path / "set" / "misc").mkdir()
    with pytest.raises(DatasetError, match=r"class sub-folders hold no images.*1 loose images: put them"):
        load_dataset(tmp_path / "set")
