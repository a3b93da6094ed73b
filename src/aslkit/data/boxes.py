"""Box-annotated image sets (hand boxes with their letter), in one internal form, read from and written
to the formats people have: a CSV of corners, YOLO, COCO JSON and Pascal VOC XML.

Files are matched to images by file name. Reading never stops on one bad row: rows for missing or
unreadable images, names that lead outside the set's folder, numbers that are not finite, sizes out of
range, boxes outside the image (clipped), zero-area boxes, empty or unknown classes and entries of the
wrong type are reported in ``problems`` and left out; a file that is not the format at all is one
DatasetError. Only regular files are opened (a FIFO would block). Nothing here writes into the source set.

The set's folder (``set_root``: the folder of annotations.csv or of the COCO .json, the VOC folder; for
YOLO, the dataset root its data.yaml names, see aslkit.data.yolo) bounds it: an image an annotation names
must resolve inside it, through any link, so a hostile annotation (``../../etc/hostname``, an absolute path,
a link to elsewhere) never brings an outside file into a conversion.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import stat
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aslkit.data.csv_rows import read_csv_rows
from aslkit.data.images import MAX_PIXELS
from aslkit.data.yolo import (
    SPELLINGS,
    YoloLayout,
    data_yaml,
    label_file,
    orphan_labels,
    read_layout,
    spellings,
    split_images,
)
from aslkit.errors import AslkitError, DatasetError, ImageError
from aslkit.labels import canonical_label, sort_labels
from aslkit.names import brief, regular_file_problem, shown
from aslkit.outputs import check_new_folder, new_folder, safe_component

FORMATS = ("csv", "yolo", "coco", "voc")
PROBLEMS_FILE = "problems.json"  # what a conversion left out; never taken for a COCO file


def _coco_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.glob("*.json") if f.name != PROBLEMS_FILE)


@dataclass
class Box:
    """One box: class label (canonical spelling) and corners in pixels."""

    label: str
    xyxy: tuple[float, float, float, float]


@dataclass
class BoxImage:
    path: Path
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)


@dataclass
class BoxSet:
    """Images with their boxes; ``problems`` lists (where, why) for everything left out on reading."""

    root: Path
    images: list[BoxImage]
    classes: list[str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    source_format: str = ""
    unreadable: list[Path] = field(default_factory=list)  # annotated images that cannot be decoded (also in problems)
    unreadable_why: dict[Path, str] = field(default_factory=dict)  # why each of them cannot be read
    splits: list[str] = field(default_factory=list)  # the splits read, by name (YOLO sets and folders of splits)

    def counts(self) -> dict[str, int]:
        c = Counter(b.label for im in self.images for b in im.boxes)
        return {lab: c[lab] for lab in self.classes if c[lab]}

    @property
    def n_boxes(self) -> int:
        return sum(len(im.boxes) for im in self.images)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (N, M) of xyxy boxes a (N, 4) and b (M, 4): how the detector merges its boxes, and how
    evaluation and the audit match them to the annotated ones."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-12)


# ---------------------------------------------------------------------------------------------
# values from untrusted files
# ---------------------------------------------------------------------------------------------
def label_problem(name: str) -> str | None:
    """Why ``name`` cannot be a class name (empty, blank, or holding control characters), or None."""
    if not name.strip():
        return "an empty class name"
    if not name.strip().isprintable():
        return f"a class name with control characters ({brief(name)})"
    return None


def _number(value: object, what: str, text: bool = True) -> float:
    """``value`` as a finite float; ValueError (its message names ``what``) for anything else: text that is
    not a number (or any text, when ``text`` is False: JSON numbers are numbers), NaN, inf, true/false, null."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not text):
        raise ValueError(f"{what} {brief(value)} is not a number")
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} {brief(value)} is not a number")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{what} is empty, not a number")
    if isinstance(value, str) and "_" in value:  # Python reads 1_0 as 10; no annotation tool writes that
        raise ValueError(f"{what} {brief(value)} is not a number")
    try:
        f = float(value)
    except OverflowError:  # an integer too large for a float
        f = math.inf
    except ValueError:
        raise ValueError(f"{what} {brief(value)} is not a number") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} {brief(value)} is not finite")
    return f


def _dimension(value: object, what: str, text: bool = True) -> int | None:
    """A declared width or height in pixels; None when not given (absent, empty or 0: the size is read from
    the image); ValueError when it is not a finite positive number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    f = _number(value, what, text)
    if f == 0:
        return None
    if f < 1:
        raise ValueError(f"{what} {brief(value)} is not a positive number of pixels")
    return int(f)


def _is_id(value: object) -> bool:
    """A usable COCO id: a number or text (hashable, comparable), not true/false/null/NaN or a list."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, str))


def _text_file(path: Path, what: str) -> str:
    """The text of an annotation file; DatasetError (one line) when it is not a regular UTF-8 file."""
    why = regular_file_problem(path)
    if why:
        raise DatasetError(f"{shown(path)}: {why}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{shown(path)}: cannot read {what} (not UTF-8 text)") from None
    except OSError as exc:
        raise DatasetError(f"{shown(path)}: cannot read {what} ({exc.strerror or exc})") from None


# ---------------------------------------------------------------------------------------------
# where images may come from
# ---------------------------------------------------------------------------------------------
def set_root(source: str | Path) -> Path:
    """The folder a box set lives in, which bounds it: the folder given, or the folder of the file given
    (annotations.csv, a COCO .json)."""
    p = Path(source)
    if not p.exists() and not p.is_symlink():  # said as such, not as an --out "inside the set ." (its parent)
        raise DatasetError(f"{shown(p)}: no such file or folder")
    return p if p.is_dir() else p.parent


def set_roots(source: str | Path) -> list[Path]:
    """Every folder a box set reads from, which outputs stay out of: ``set_root``, and a YOLO data.yaml's
    ``path`` when it leads elsewhere (``path: ../set``)."""
    roots = [set_root(source)]
    if data_yaml(source) is not None:
        with contextlib.suppress(DatasetError):  # a broken data.yaml is said by whatever reads it next
            roots.append(read_layout(source).root)
    return roots


def _real(path: Path) -> Path | None:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return None


def outside_problem(root: Path, path: Path, real_root: Path | None = None) -> str | None:
    """Why ``path`` may not be used as an image of the set in ``root``, or None: it must resolve (through
    every link) to a place inside the set's folder."""
    real_root = real_root or _real(root)
    real = _real(path)
    if real is None or real_root is None:
        return f"image {shown(path)} cannot be resolved; refused"
    if real == real_root:
        return f"image {shown(path)} is the dataset folder itself, not an image file"
    if real_root not in real.parents:
        how = "a link to a file" if real != Path(os.path.abspath(path)) else "a file"
        return f"image {shown(path)} is {how} outside the dataset folder {shown(root)}; refused"
    return None


def image_path(img_dir: Path, name: object) -> tuple[Path | None, str | None]:
    """(img_dir / name, None), or (None, why) when ``name`` cannot be an image file name at all."""
    if not isinstance(name, str):
        return None, f"the image file name {brief(name)} is not text"
    if not name.strip():
        return None, "empty image file name"
    if "\x00" in name:
        return None, f"the image file name {brief(name)} holds a NUL character"
    return img_dir / name, None


def _image_size(path: Path) -> tuple[int, int]:
    """Width and height from the image header; ImageError (with the reason) when it cannot be read or
    holds more pixels than aslkit decodes (MAX_PIXELS, the decompression-bomb guard)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = int(im.width), int(im.height)
    except Image.DecompressionBombError:
        raise ImageError("image too large (decompression-bomb guard)") from None
    except Exception:  # noqa: BLE001 - a hostile file can make PIL's parsers raise nearly anything
        raise ImageError("cannot be read as an image") from None
    if w < 1 or h < 1:
        raise ImageError(f"cannot be read as an image ({w}x{h} pixels)")
    if w * h > MAX_PIXELS:
        raise ImageError(f"image too large ({w}x{h} = {w * h / 1e6:.0f} MP; limit {MAX_PIXELS / 1e6:.0f} MP)")
    return w, h


class _Builder:
    """Collects boxes per image with the checks every format shares."""

    def __init__(self, root: Path, fmt: str) -> None:
        self.root, self.fmt = root, fmt
        self.real_root = _real(root)
        self.images: dict[Path, BoxImage] = {}
        self.problems: list[tuple[str, str]] = []
        self.unreadable: list[Path] = []
        self.unreadable_why: dict[Path, str] = {}
        self.classes: set[str] = set()

    def problem(self, where: str, why: str) -> None:
        self.problems.append((shown(where), why))

    def named(
        self, img_dir: Path, name: object, where: str, width: int | None = None, height: int | None = None
    ) -> BoxImage | None:
        """The image an annotation names (relative to ``img_dir``), or None with a problem row."""
        path, why = image_path(img_dir, name)
        if path is None:
            self.problem(where, why or "no image file name")
            return None
        return self.image(path, where, width, height)

    def image(self, path: Path, where: str, width: int | None = None, height: int | None = None) -> BoxImage | None:
        if path in self.images:
            return self.images[path]
        why = outside_problem(self.root, path, self.real_root)
        if why:
            self.problem(where, why)
            return None
        try:  # as the row wrote it (sub/x.jpg), not only its last part, which may be another file that exists
            name = shown(path.relative_to(self.root).as_posix())
        except ValueError:
            name = shown(path.name)
        why = regular_file_problem(path)
        if why:
            self.problem(where, f"image {name} not found" if why == "no such file" else f"image {name} {why}")
            return None
        if width and height and width * height > MAX_PIXELS:
            self.problem(where, f"image {name} declares {width}x{height} pixels, more than the "
                                f"{MAX_PIXELS / 1e6:.0f} MP aslkit reads (image too large)")  # fmt: skip
            return None
        try:  # the header always: a declared size is checked against it, and a file that is no image is said
            real = _image_size(path)
        except ImageError as exc:
            self.problem(where, f"image {name}: {exc}")
            self._unreadable(path, str(exc))
            return None
        if width and height and (int(width), int(height)) != real:
            self.problem(where, f"image {name} is declared {int(width)}x{int(height)} but is {real[0]}x{real[1]}; "
                                "its boxes are read against its real size")  # fmt: skip
        width, height = real
        self.images[path] = BoxImage(path, int(width), int(height))
        return self.images[path]

    def _unreadable(self, path: Path, why: str) -> None:
        if path not in self.unreadable:
            self.unreadable.append(path)
            self.unreadable_why[path] = why

    def box(self, im: BoxImage, label: object, xyxy: tuple[float, float, float, float], where: str) -> None:
        name = shown(im.path.name)
        label = label.strip() if isinstance(label, str) else ""
        why = label_problem(label)
        if why:
            self.problem(where, f"a box in {name} has {why}")
            return
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in xyxy):
            self.problem(where, f"box {xyxy} in {name} has a corner that is not finite")
            return
        x0, y0, x1, y1 = xyxy
        if x1 <= x0 or y1 <= y0:
            self.problem(where, f"zero-area or inverted box {xyxy} in {name}")
            return
        cx0, cy0 = min(max(x0, 0.0), im.width), min(max(y0, 0.0), im.height)
        cx1, cy1 = min(max(x1, 0.0), im.width), min(max(y1, 0.0), im.height)
        if cx1 - cx0 <= 0 or cy1 - cy0 <= 0:
            self.problem(where, f"box {xyxy} lies outside {name} ({im.width}x{im.height})")
            return
        if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
            self.problem(where, f"box {xyxy} crosses the edge of {name}; clipped")
        lab = canonical_label(label)
        self.classes.add(lab)
        im.boxes.append(Box(lab, (float(cx0), float(cy0), float(cx1), float(cy1))))

    def done(self, classes: list[str] | None = None) -> BoxSet:
        names = sort_labels({c for c in (classes or []) if c} | self.classes)
        imgs = sorted(self.images.values(), key=lambda im: str(im.path))
        if not imgs:
            why = f" (first problem: {self.problems[0][1]})" if self.problems else ""
            raise DatasetError(f"{shown(self.root)}: no annotated images could be read{why}")
        if self.problems and not any(im.boxes for im in imgs):  # every box was refused: say why, not "0 boxes"
            where, why = self.problems[0]
            raise DatasetError(
                f"{shown(self.root)}: no usable box ({len(self.problems)} problem(s); first: {where}: {why})"
            )
        return BoxSet(self.root, imgs, names, self.problems, self.fmt, self.unreadable, self.unreadable_why)


# ---------------------------------------------------------------------------------------------
# the four formats
# ---------------------------------------------------------------------------------------------
CORNER_COLUMNS = ("filename", "class", "xmin", "ymin", "xmax", "ymax")


def read_corner_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV of corners, keys lower-cased and values stripped; DatasetError (one line) for a
    file that is not a regular file or cannot be read, no rows, or missing columns."""
    return read_csv_rows(path, CORNER_COLUMNS, "filename,[width,height,]class,xmin,ymin,xmax,ymax")


def corner_values(row: dict[str, str]) -> tuple[tuple[float, float, float, float], int | None, int | None]:
    """(corners, width, height) of a CSV row; ValueError (saying which value) for a corner that is not a
    finite number or a width/height that is not a finite positive number."""
    xyxy = tuple(_number(row[k], k) for k in ("xmin", "ymin", "xmax", "ymax"))
    return xyxy, _dimension(row.get("width"), "width"), _dimension(row.get("height"), "height")  # type: ignore[return-value]


def read_csv(path: str | Path) -> BoxSet:
    """``filename,width,height,class,xmin,ymin,xmax,ymax`` (width/height optional), images in
    ``images/`` beside the CSV or beside it directly."""
    p = Path(path)
    root = p.parent
    img_dir = root / "images" if (root / "images").is_dir() else root
    rows = read_corner_rows(p)
    b = _Builder(root, "csv")
    for i, r in enumerate(rows, start=2):
        where = f"{p.name}:{i}"
        try:
            xyxy, w, h = corner_values(r)
        except ValueError as exc:
            b.problem(where, str(exc))
            continue
        if not r["class"]:
            b.problem(where, "empty class")
            continue
        im = b.named(img_dir, r["filename"], where, w, h)
        if im is not None:
            b.box(im, r["class"], xyxy, where)
    return b.done()


def _class_id(key: object) -> int | None:
    """A YOLO class id from a ``names`` mapping key (an integer, or text holding one), else None."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key >= 0 else None
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    return None


def _yaml_names(path: Path, doc: dict) -> dict[int, str]:
    """Class id -> name from the ``names`` of a YOLO data.yaml (a list, inline or one per line, or an
    id: name mapping); a name that is empty, blank or not text is "" (its boxes become problem rows)."""
    names = doc.get("names")
    if isinstance(names, dict) and names:
        pairs = []
        for k, v in names.items():
            cid = _class_id(k)
            if cid is None:
                raise DatasetError(
                    f"{shown(path)}: `names` maps class ids 0, 1, 2, ... to names; {brief(k)} is not a class id"
                )
            pairs.append((cid, v))
        if len({cid for cid, _ in pairs}) != len(pairs):
            raise DatasetError(f"{shown(path)}: `names` gives one class id twice")
    elif isinstance(names, list) and names:
        pairs = list(enumerate(names))
    else:
        raise DatasetError(f"{shown(path)}: no `names` list of classes")
    nc = doc.get("nc")
    if nc is not None and nc != len(pairs):  # as Ultralytics refuses it: which of the two is wrong is not ours to say
        raise DatasetError(f"{shown(path)}: `nc: {brief(nc)}` but {len(pairs)} names; make them agree")
    out = {}
    for cid, v in pairs:  # a name that is not text or a number, or not a usable class name: "" (left out)
        name = str(v).strip() if isinstance(v, (str, int, float)) and not isinstance(v, bool) else ""
        out[cid] = "" if label_problem(name) else name
    spelled = Counter(canonical_label(n) for n in out.values() if n)
    twice = sorted(n for n, k in spelled.items() if k > 1)
    if twice:  # two ids, one class: their boxes would merge without a word
        ids = [cid for cid, n in sorted(out.items()) if n and canonical_label(n) == twice[0]]
        raise DatasetError(f"{shown(path)}: `names` gives {twice[0]} to class ids {', '.join(map(str, ids))}")
    return out


def _yolo_row(b: _Builder, im: BoxImage, line: str, where: str, names: dict[int, str]) -> None:
    """One ``class cx cy w h`` row (fractions of the image) as a box of ``im``, or a segmentation row
    ``class x1 y1 x2 y2 x3 y3 ...`` as its polygon's bounding box (as Ultralytics reads one for detection), or a
    problem row saying why not."""
    parts = line.split()
    polygon = len(parts) > 6 and len(parts) % 2 == 1  # three points or more
    if len(parts) != 5 and not polygon:
        b.problem(where, f"expected `class cx cy w h` or a polygon `class x1 y1 x2 y2 x3 y3 ...`, got {len(parts)} "
                         "fields")  # fmt: skip
        return
    try:
        cid = int(parts[0])
    except ValueError:
        b.problem(where, f"expected `class cx cy w h`: class id {brief(parts[0])} is not a whole number")
        return
    try:
        if polygon:
            xs = [_number(v, "x") for v in parts[1::2]]
            ys = [_number(v, "y") for v in parts[2::2]]
            cx, cy, w, h = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)
        else:
            cx, cy, w, h = (_number(v, k) for v, k in zip(parts[1:5], ("cx", "cy", "w", "h"), strict=True))
    except ValueError as exc:
        b.problem(where, f"expected `class cx cy w h`: {exc}")
        return
    if cid not in names:
        b.problem(where, f"class id {cid} is not in data.yaml's {len(names)} names")
        return
    if not names[cid]:
        b.problem(where, f"class id {cid} has an empty name in data.yaml")
        return
    xyxy = ((cx - w / 2) * im.width, (cy - h / 2) * im.height, (cx + w / 2) * im.width, (cy + h / 2) * im.height)
    b.box(im, names[cid], xyxy, where)


def _yolo_image(b: _Builder, lay: YoloLayout, img: Path, names: dict[int, str]) -> None:
    """An image of a YOLO set with the boxes of its label file (none, when it has no label file: a negative)."""
    txt = label_file(lay, img)
    where = _inside(lay.root, txt)
    if not (txt.exists() or txt.is_symlink()):
        b.image(img, _inside(lay.root, img))
        return
    why = regular_file_problem(txt)
    if why:
        b.problem(where, f"label file {why}")
        return
    im = b.image(img, where)
    if im is None:
        return
    try:
        text = txt.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        b.problem(where, f"cannot read the label file ({exc.strerror or exc})")
        return
    for i, line in enumerate(text.splitlines(), start=1):
        if line.split():
            _yolo_row(b, im, line, f"{where}:{i}", names)


def _inside(root: Path, path: Path) -> str:
    """``path`` as it is named in messages: relative to the set's folder when inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def read_yolo(source: str | Path, split: str | None = None) -> BoxSet:
    """A YOLO set, given as its folder or its data.yaml, in any layout aslkit.data.yolo finds (flat,
    Ultralytics, Roboflow): the split named ``split`` (``valid`` finds ``val``), else every split data.yaml
    names, each image once. Label rows are ``class cx cy w h`` (fractions of the image); an image without a
    label file has no boxes (a negative); a label file without an image is a problem row."""
    lay = read_layout(source)
    names = _yaml_names(lay.yaml, lay.doc)
    keys: list[str | None] = [lay.split_key(split)] if split is not None else [*lay.splits] or [None]
    b = _Builder(lay.root, "yolo")
    for cid, name in sorted(names.items()):
        if not name:
            b.problem(lay.yaml.name, f"class id {cid} has an empty or unusable name; its boxes are left out")
    seen: set[Path] = set()
    orphans: dict[Path, None] = {}
    for key in keys:
        images, problems = split_images(lay, key, strict=split is not None)
        for where, why in problems:
            b.problem(where, why)
        for img in images:
            if img not in seen:
                seen.add(img)
                _yolo_image(b, lay, img, names)
        orphans.update(dict.fromkeys(orphan_labels(lay, key, images)))
    for txt in orphans:
        why = regular_file_problem(txt)
        b.problem(_inside(lay.root, txt), f"label file {why}" if why and why != "no such file" else
                  f"no image for this label file (no {shown(txt.stem)}.* where its images are)")  # fmt: skip
    bs = b.done([canonical_label(n) for n in names.values() if n])
    bs.splits = [k for k in keys if k is not None]
    return bs


def _coco_categories(doc: dict, b: _Builder) -> dict[object, str]:
    """Category id -> name of a COCO file's usable categories; each unusable one is a problem row."""
    cats: dict[object, str] = {}
    for k, c in enumerate(doc["categories"]):
        where = f"categories[{k}]"
        if not isinstance(c, dict):
            b.problem(where, f"a category is an object with id and name, not {brief(c)}")
            continue
        cid, name = c.get("id"), c.get("name")
        if not _is_id(cid):
            b.problem(where, f"category without a usable id (got {brief(cid)})")
            continue
        if not isinstance(name, (str, int, float)) or isinstance(name, bool):
            b.problem(where, f"category {brief(cid)} has no name (got {brief(name)}); its boxes are left out")
            continue
        why = label_problem(str(name))
        if why:
            b.problem(where, f"category {brief(cid)} has {why}; its boxes are left out")
            continue
        if cid in cats:
            b.problem(where, f"category id {brief(cid)} appears twice; the first is kept")
            continue
        cats[cid] = str(name).strip()
    return cats


def _coco_images(doc: dict, b: _Builder, img_dir: Path) -> dict[object, BoxImage]:
    """Image id -> image of a COCO file's readable images; each unusable entry is a problem row."""
    by_id: dict[object, BoxImage] = {}
    for k, e in enumerate(doc["images"]):
        if not isinstance(e, dict):
            b.problem(f"images[{k}]", f"an image is an object with id and file_name, not {brief(e)}")
            continue
        iid = e.get("id")
        if not _is_id(iid):
            b.problem(f"images[{k}]", f"image without a usable id (got {brief(iid)})")
            continue
        where = f"image {brief(iid)}"
        if not isinstance(e.get("file_name"), str):
            b.problem(where, f"file_name is {brief(e.get('file_name'))}, not a file name")
            continue
        try:
            w = _dimension(e.get("width"), "width", text=False)
            h = _dimension(e.get("height"), "height", text=False)
        except ValueError as exc:
            b.problem(where, str(exc))
            continue
        if iid in by_id:
            b.problem(where, f"image id {brief(iid)} appears twice; the first is kept")
            continue
        got = b.named(img_dir, e["file_name"], where, w, h)
        if got is not None:
            by_id[iid] = got
    return by_id


def _coco_boxes(doc: dict, b: _Builder, cats: dict[object, str], by_id: dict[object, BoxImage]) -> None:
    """Add each usable annotation's box (x, y, w, h -> corners) to ``b``; each unusable one is a problem row."""
    for k, a in enumerate(doc["annotations"]):
        if not isinstance(a, dict):
            b.problem(f"annotations[{k}]", f"an annotation is an object, not {brief(a)}")
            continue
        where = f"annotation {brief(a.get('id'))}" if _is_id(a.get("id")) else f"annotations[{k}]"
        iid, cid = a.get("image_id"), a.get("category_id")
        im = by_id.get(iid) if _is_id(iid) else None
        if im is None:
            b.problem(where, f"image id {brief(iid)} missing or unreadable")
            continue
        if not _is_id(cid) or cid not in cats:
            b.problem(where, f"category id {brief(cid)} is not in categories")
            continue
        bbox = a.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            b.problem(where, f"bbox {brief(bbox)} is not [x, y, w, h]")
            continue
        try:
            x, y, w, h = (_number(v, "bbox value", text=False) for v in bbox)
        except ValueError as exc:
            b.problem(where, f"bbox {brief(bbox)} is not [x, y, w, h]: {exc}")
            continue
        b.box(im, cats[cid], (x, y, x + w, y + h), where)


def read_coco(path: str | Path) -> BoxSet:
    """A COCO JSON (``images``, ``annotations`` with ``bbox`` = x, y, w, h, ``categories``); images in
    ``images/`` beside it or beside it directly. An entry of the wrong type is a problem row; a file
    whose three lists are not lists is not COCO (DatasetError)."""
    p = Path(path)
    try:
        doc = json.loads(_text_file(p, "JSON"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise DatasetError(f"{shown(p)}: cannot read JSON ({exc})") from None
    if not isinstance(doc, dict) or not {"images", "annotations", "categories"} <= set(doc):
        raise DatasetError(f"{shown(p)}: not COCO: expected `images`, `annotations` and `categories`")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc[key], list):
            raise DatasetError(f"{shown(p)}: not COCO: `{key}` is {brief(type(doc[key]).__name__)}, not a list")
    root = p.parent
    img_dir = root / "images" if (root / "images").is_dir() else root
    b = _Builder(root, "coco")
    cats = _coco_categories(doc, b)
    by_id = _coco_images(doc, b, img_dir)
    _coco_boxes(doc, b, cats, by_id)
    return b.done([canonical_label(n) for n in cats.values()])


def read_voc(root: str | Path) -> BoxSet:
    """Pascal VOC: one XML per image (``Annotations/*.xml`` or ``*.xml``), images in ``JPEGImages/``,
    ``images/`` or beside the XML."""
    root = Path(root)
    xml_dir = root / "Annotations" if (root / "Annotations").is_dir() else root
    files = sorted(xml_dir.glob("*.xml"))
    if not files:
        raise DatasetError(f"{shown(root)}: no VOC .xml files")
    dirs = [d for d in (root / "JPEGImages", root / "images", xml_dir) if d.is_dir()]
    b = _Builder(root, "voc")
    for xf in files:
        why = regular_file_problem(xf)
        if why:
            b.problem(xf.name, f"annotation file {why}")
            continue
        try:
            doc = ET.parse(xf).getroot()
        except (ET.ParseError, OSError, ValueError, LookupError, RecursionError) as exc:
            b.problem(xf.name, f"cannot parse XML ({exc})")
            continue
        name = (doc.findtext("filename") or "").strip()
        where_dir = next((d for d in dirs if name and (d / name).is_file()), dirs[0])
        size = doc.find("size")
        try:
            w = _dimension(size.findtext("width"), "width") if size is not None else None
            h = _dimension(size.findtext("height"), "height") if size is not None else None
        except ValueError as exc:
            b.problem(xf.name, f"<size>: {exc}")
            continue
        im = b.named(where_dir, name or xf.stem, xf.name, w, h)
        if im is None:
            continue
        for obj in doc.iter("object"):
            bb = obj.find("bndbox")
            if bb is None:
                b.problem(xf.name, "an object without a bndbox")
                continue
            try:
                xyxy = tuple(_number(bb.findtext(k), k) for k in ("xmin", "ymin", "xmax", "ymax"))
            except ValueError as exc:
                b.problem(xf.name, f"an object's bndbox: {exc}")
                continue
            b.box(im, obj.findtext("name") or "", xyxy, xf.name)  # type: ignore[arg-type]
    return b.done()


def detect_format(path: str | Path) -> str:
    """Which box format a file or folder holds (csv, yolo, coco, voc); DatasetError if none."""
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() == ".csv":
            return "csv"
        if p.suffix.lower() == ".json":
            return "coco"
        if p.suffix.lower() in (".yaml", ".yml"):
            return "yolo"
        raise DatasetError(f"{shown(p)}: not a box file (expected a .csv of corners, a COCO .json or a YOLO data.yaml)")
    if not p.is_dir():
        why = regular_file_problem(p)
        raise DatasetError(f"{shown(p)}: {'no such file or folder' if why in (None, 'no such file') else why}")
    if data_yaml(p) is not None and ((p / "labels").is_dir() or not (p / "annotations.csv").exists()):
        return "yolo"
    if (p / "annotations.csv").exists():
        return "csv"
    if _coco_files(p):
        return "coco"
    if (p / "Annotations").is_dir() or any(p.glob("*.xml")):
        return "voc"
    raise DatasetError(
        f"{shown(p)}: no box annotations found (annotations.csv, data.yaml + labels/, COCO .json, VOC .xml)"
    )


def split_folders(root: Path) -> list[Path]:
    """The sub-folders of ``root`` named as splits are (train, val, valid, test, ...): a folder of split sets."""
    if not root.is_dir():
        return []
    named = {n for names in SPELLINGS.values() for n in names}
    return [d for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower() in named]


def _split_folder(p: Path, split: str) -> Path:
    """The folder of split ``split`` in ``p``, a folder of split sets (``valid`` finds val/ too); DatasetError
    naming the splits there are when there is none."""
    folders = split_folders(p)
    for d in folders:
        if d.name.lower() in spellings(split):
            return d
    if folders:
        raise DatasetError(f"{shown(p)}: no split {shown(split)!r}; its splits: {', '.join(d.name for d in folders)}")
    raise DatasetError(
        f"{shown(p)}: --split {shown(split)}: this is one set, not a YOLO data.yaml naming splits or a folder of "
        "split folders (train/, valid/, test/); leave out --split"
    )


def _yolo_with_splits(p: Path, fmt: str | None) -> bool:
    if fmt not in (None, "yolo") or data_yaml(p) is None:
        return False
    return bool(read_layout(p).splits) or not split_folders(p)


def load_boxes(path: str | Path, fmt: str | None = None, split: str | None = None) -> BoxSet:
    """Any supported box set; ``fmt`` forces a format, else it is detected. ``split`` (by name) reads one split:
    of a YOLO set whose data.yaml names them, or of a folder of split sets (``DATA/valid/``)."""
    p = Path(path)
    if split is not None and not _yolo_with_splits(p, fmt):
        folder = _split_folder(p, split)
        bs = load_boxes(folder, fmt)
        bs.splits = [folder.name]
        return bs
    fmt = fmt or detect_format(p)
    if fmt == "csv":
        return read_csv(p / "annotations.csv" if p.is_dir() else p)
    if fmt == "yolo":
        return read_yolo(p, split)
    if fmt == "coco":
        if p.is_dir():
            jsons = _coco_files(p)
            if len(jsons) != 1:
                raise DatasetError(f"{shown(p)}: {len(jsons)} .json files; give the COCO file itself")
            p = jsons[0]
        return read_coco(p)
    if fmt == "voc":
        return read_voc(p)
    raise DatasetError(f"unknown box format {fmt!r}; one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _copy_file(src: Path, dst: Path) -> None:
    """Copy the regular file ``src`` (no link followed at its last step, never blocking on a FIFO put in
    its place since it was checked) to the new file ``dst``."""
    fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fin:
        if not stat.S_ISREG(os.fstat(fin.fileno()).st_mode):
            raise OSError(f"{shown(src)} is no longer a regular file")
        with open(dst, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    with contextlib.suppress(OSError):  # times and mode only: a file system that refuses them keeps the copy
        shutil.copystat(src, dst)


def _place_images(bs: BoxSet, img_dir: Path, link: bool = False) -> dict[Path, str]:
    """Each image of the set under ``img_dir``: a copy, or with ``link`` a hard link (a copy where the file
    system cannot link). Only files that resolve inside the set's folder are placed (the readers
    refuse the rest; a hand-built BoxSet gets a DatasetError). Returns path -> file name used, unique
    by stem (YOLO and VOC name their label files after it)."""
    img_dir.mkdir(parents=True, exist_ok=True)
    real_root = _real(bs.root)
    names: dict[Path, str] = {}
    used: set[str] = set()
    for im in bs.images:
        why = outside_problem(bs.root, im.path, real_root) or regular_file_problem(im.path)
        if why:
            raise DatasetError(f"{shown(im.path)}: {why}")
        src = _real(im.path)
        assert src is not None  # outside_problem resolved it
        base = Path(safe_component(im.path.name))
        name, k = base.name, 1
        while Path(name).stem.lower() in used:
            name = f"{base.stem}_{k}{base.suffix}"
            k += 1
        used.add(Path(name).stem.lower())
        names[im.path] = name
        dst = img_dir / name
        try:
            if link:
                try:
                    os.link(src, dst, follow_symlinks=False)
                    continue
                except OSError:
                    pass  # another file system, or links not allowed: copy
            _copy_file(src, dst)
        except OSError as exc:
            raise AslkitError(f"cannot copy {shown(im.path)} into the output ({exc.strerror or exc})") from None
    return names


def write_boxes(
    bs: BoxSet, out: str | Path, fmt: str, link: bool = False, read_from: list[str | Path] | None = None
) -> Path:
    """Write the set as ``fmt`` into ``out``, a new or empty folder outside the set (and outside
    ``read_from``), images included (copied; hard-linked with ``link``) and ``problems.json`` when
    reading left something out. Everything is written into a staging folder that becomes ``out`` only
    when complete. Returns the main file or folder (under ``out``)."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown box format {fmt!r}; one of {', '.join(FORMATS)}")
    guarded = [bs.root, *(read_from or [])]
    with new_folder(out, guarded, flag="--out", what="the source set") as stage:
        main = _write_into(bs, stage, fmt, link)
        if bs.problems:
            rows = [{"where": w, "problem": why} for w, why in bs.problems]
            (stage / PROBLEMS_FILE).write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return Path(out) / main.relative_to(stage)


def convert_boxes(
    source: str | Path, out: str | Path, to: str, fmt: str | None = None, link: bool = False, split: str | None = None
) -> tuple[BoxSet, Path]:
    """`aslkit convert`: read the box set at ``source`` (only its split ``split``, when named) and write it as
    ``to`` into ``out``. The output folder is checked (new or empty, outside the set's folder) before anything
    is read. Returns the set read and the main file or folder written."""
    if to not in FORMATS:
        raise DatasetError(f"unknown box format {to!r}; one of {', '.join(FORMATS)}")
    guarded = [*set_roots(source), source]
    check_new_folder(out, guarded, flag="--out", what="the source set")
    bs = _decodable(load_boxes(source, fmt, split))
    return bs, write_boxes(bs, out, to, link=link, read_from=guarded)


def _decodable(bs: BoxSet) -> BoxSet:
    """The set without the images that do not decode (a truncated JPEG has a good header), each reported as
    unreadable: a converted set holds only images a trainer can read."""
    from aslkit.data.images import load_image

    keep = []
    for im in bs.images:
        try:
            load_image(im.path)
        except (ImageError, AslkitError) as exc:
            why = str(exc).split(": ", 1)[-1]
            try:
                name = shown(im.path.relative_to(bs.root).as_posix())
            except ValueError:
                name = shown(im.path.name)
            bs.problems.append((name, f"image {name}: {why}; left out"))
            bs.unreadable.append(im.path)
            bs.unreadable_why[im.path] = why
            continue
        keep.append(im)
    if not keep:
        raise DatasetError(f"{shown(bs.root)}: none of its {len(bs.images)} annotated images could be decoded")
    bs.images = keep
    return bs


def splits_note(splits: list[str] | None) -> str:
    """``, split val`` or ``, splits train, val``: which splits a set was read from, for a one-line summary."""
    if not splits:
        return ""
    return f", split{'s' if len(splits) > 1 else ''} {', '.join(splits)}"


def convert_text(
    bs: BoxSet, written: Path, source: str | Path, out: str | Path, to: str, link: bool = False, shown_problems: int = 5
) -> str:
    """What `aslkit convert` prints for ``convert_boxes``'s result: what was read, what was written, and the
    first ``shown_problems`` problems (all of them are in ``out``/problems.json)."""
    lines = [
        f"{shown(source)} ({bs.source_format}{splits_note(bs.splits)}): {len(bs.images)} images, {bs.n_boxes} boxes, "
        f"{len(bs.classes)} classes",
        f"wrote {to}: {shown(written)} (images {'hard-linked' if link else 'copied'})",
    ]
    if bs.problems:
        listed = shown(Path(out) / "problems.json")
        lines.append(f"{len(bs.problems)} problem(s) left out or fixed, listed in {listed}; first:")
        lines += [f"  {shown(w)}: {shown(why)}" for w, why in bs.problems[:shown_problems]]
    return "\n".join(lines)


def _write_into(bs: BoxSet, out: Path, fmt: str, link: bool) -> Path:
    """The annotation files and images of ``fmt`` in the (empty, staging) folder ``out``."""
    names = _place_images(bs, out / ("JPEGImages" if fmt == "voc" else "images"), link)
    if fmt == "csv":
        with open(out / "annotations.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"])
            for im in bs.images:
                for b in im.boxes:
                    w.writerow([names[im.path], im.width, im.height, b.label, *(round(v, 2) for v in b.xyxy)])
        return out / "annotations.csv"
    if fmt == "yolo":
        (out / "labels").mkdir()
        idx = {c: i for i, c in enumerate(bs.classes)}
        for im in bs.images:
            rows = []
            for b in im.boxes:
                x0, y0, x1, y1 = b.xyxy
                cx, cy = (x0 + x1) / 2 / im.width, (y0 + y1) / 2 / im.height
                rows.append(f"{idx[b.label]} {cx:.6f} {cy:.6f} {(x1 - x0) / im.width:.6f} {(y1 - y0) / im.height:.6f}")
            (out / "labels" / (Path(names[im.path]).stem + ".txt")).write_text("\n".join(rows) + ("\n" if rows else ""))
        yaml_names = json.dumps(bs.classes)  # a JSON list is valid YAML flow syntax
        (out / "data.yaml").write_text(
            f"path: .\ntrain: images\nval: images\nnc: {len(bs.classes)}\nnames: {yaml_names}\n", encoding="utf-8"
        )
        return out
    if fmt == "coco":
        cats = [{"id": i + 1, "name": c} for i, c in enumerate(bs.classes)]
        cid = {c["name"]: c["id"] for c in cats}
        images, anns = [], []
        for i, im in enumerate(bs.images, start=1):
            images.append({"id": i, "file_name": names[im.path], "width": im.width, "height": im.height})
            for b in im.boxes:
                x0, y0, x1, y1 = b.xyxy
                anns.append({"id": len(anns) + 1, "image_id": i, "category_id": cid[b.label], "iscrowd": 0,
                             "bbox": [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                             "area": round((x1 - x0) * (y1 - y0), 2)})  # fmt: skip
        doc = {"images": images, "annotations": anns, "categories": cats}
        (out / "annotations.json").write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
        return out / "annotations.json"
    (out / "Annotations").mkdir()
    for im in bs.images:
        root = ET.Element("annotation")
        ET.SubElement(root, "filename").text = names[im.path]
        size = ET.SubElement(root, "size")
        for k, v in (("width", im.width), ("height", im.height), ("depth", 3)):
            ET.SubElement(size, k).text = str(v)
        for b in im.boxes:
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = b.label
            bb = ET.SubElement(obj, "bndbox")
            for k, v in zip(("xmin", "ymin", "xmax", "ymax"), b.xyxy, strict=True):
                ET.SubElement(bb, k).text = f"{v:.2f}"
        ET.ElementTree(root).write(out / "Annotations" / (Path(names[im.path]).stem + ".xml"), encoding="utf-8")
    return out
