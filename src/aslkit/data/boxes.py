"""Box-annotated image sets (hand boxes with their letter), in one internal form, read from and written
to the formats people have: a CSV of corners, YOLO, COCO JSON and Pascal VOC XML.

Files are matched to images by file name. Reading never stops on one bad row: rows for missing
images, boxes outside the image (clipped), zero-area boxes and unknown classes are reported in
``problems`` and left out. Nothing here writes into the source set.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aslkit.data.images import is_image_path
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label, sort_labels

FORMATS = ("csv", "yolo", "coco", "voc")


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

    def counts(self) -> dict[str, int]:
        c = Counter(b.label for im in self.images for b in im.boxes)
        return {lab: c[lab] for lab in self.classes if c[lab]}

    @property
    def n_boxes(self) -> int:
        return sum(len(im.boxes) for im in self.images)


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except (OSError, UnidentifiedImageError, ValueError):
        return None


class _Builder:
    """Collects boxes per image with the checks every format shares."""

    def __init__(self, root: Path, fmt: str) -> None:
        self.root, self.fmt = root, fmt
        self.images: dict[Path, BoxImage] = {}
        self.problems: list[tuple[str, str]] = []
        self.unreadable: list[Path] = []
        self.classes: set[str] = set()

    def image(self, path: Path, where: str, width: int | None = None, height: int | None = None) -> BoxImage | None:
        if path in self.images:
            return self.images[path]
        if not path.is_file():
            self.problems.append((where, f"image {path.name} not found"))
            return None
        if not width or not height:
            size = _image_size(path)
            if size is None:
                self.problems.append((where, f"image {path.name} cannot be read"))
                if path not in self.unreadable:
                    self.unreadable.append(path)
                return None
            width, height = size
        self.images[path] = BoxImage(path, int(width), int(height))
        return self.images[path]

    def box(self, im: BoxImage, label: str, xyxy: tuple[float, float, float, float], where: str) -> None:
        x0, y0, x1, y1 = xyxy
        if x1 <= x0 or y1 <= y0:
            self.problems.append((where, f"zero-area or inverted box {xyxy} in {im.path.name}"))
            return
        cx0, cy0 = min(max(x0, 0.0), im.width), min(max(y0, 0.0), im.height)
        cx1, cy1 = min(max(x1, 0.0), im.width), min(max(y1, 0.0), im.height)
        if cx1 - cx0 <= 0 or cy1 - cy0 <= 0:
            self.problems.append((where, f"box {xyxy} lies outside {im.path.name} ({im.width}x{im.height})"))
            return
        if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
            self.problems.append((where, f"box {xyxy} crosses the edge of {im.path.name}; clipped"))
        lab = canonical_label(label)
        self.classes.add(lab)
        im.boxes.append(Box(lab, (cx0, cy0, cx1, cy1)))

    def done(self, classes: list[str] | None = None) -> BoxSet:
        names = sort_labels(set(classes or []) | self.classes)
        imgs = sorted(self.images.values(), key=lambda im: str(im.path))
        if not imgs:
            why = f" (first problem: {self.problems[0][1]})" if self.problems else ""
            raise DatasetError(f"{self.root}: no annotated images could be read{why}")
        return BoxSet(self.root, imgs, names, self.problems, self.fmt, self.unreadable)


CORNER_COLUMNS = ("filename", "class", "xmin", "ymin", "xmax", "ymax")


def read_corner_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV of corners, keys lower-cased and values stripped; DatasetError (one line) for an
    unreadable file, no rows, or missing columns."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            raw = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read CSV ({exc})") from None
    if not raw:
        raise DatasetError(f"{path}: no rows")
    have = {(c or "").strip().lower() for c in raw[0]}
    missing = sorted(set(CORNER_COLUMNS) - have)
    if missing:
        raise DatasetError(
            f"{path}: missing columns {missing}; expected filename,[width,height,]class,xmin,ymin,xmax,ymax"
        )
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in raw]


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
            xyxy = tuple(float(r[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            w = int(float(r["width"])) if r.get("width") else None
            h = int(float(r["height"])) if r.get("height") else None
        except ValueError:
            b.problems.append((where, "a corner, width or height is not a number"))
            continue
        if not r["class"]:
            b.problems.append((where, "empty class"))
            continue
        im = b.image(img_dir / r["filename"], where, w, h)
        if im is not None:
            b.box(im, r["class"], xyxy, where)  # type: ignore[arg-type]
    return b.done()


def _yaml_names(path: Path) -> list[str]:
    """The ``names`` of a YOLO data.yaml (a list, inline or one per line, or an id: name mapping)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read YAML ({exc})") from None
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    raise DatasetError(f"{path}: no `names` list of classes")


def read_yolo(root: str | Path) -> BoxSet:
    """``data.yaml`` (class names) + ``images/`` + ``labels/<stem>.txt`` rows ``class cx cy w h`` (0-1)."""
    root = Path(root)
    names = _yaml_names(root / "data.yaml")
    img_dir = root / "images" if (root / "images").is_dir() else root
    lab_dir = root / "labels"
    if not lab_dir.is_dir():
        raise DatasetError(f"{root}: no labels/ folder beside data.yaml")
    images = {f.stem: f for f in img_dir.iterdir() if f.is_file() and is_image_path(f)}
    b = _Builder(root, "yolo")
    for txt in sorted(lab_dir.glob("*.txt")):
        img = images.get(txt.stem)
        if img is None:
            b.problems.append((txt.name, f"no image named {txt.stem}.* in {img_dir}"))
            continue
        im = b.image(img, txt.name)
        if im is None:
            continue
        for i, line in enumerate(txt.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            where = f"{txt.name}:{i}"
            try:
                cid, cx, cy, w, h = int(parts[0]), *map(float, parts[1:5])
            except (ValueError, TypeError):
                b.problems.append((where, "expected `class cx cy w h`"))
                continue
            if not 0 <= cid < len(names):
                b.problems.append((where, f"class id {cid} is not in data.yaml's {len(names)} names"))
                continue
            xyxy = (
                (cx - w / 2) * im.width,
                (cy - h / 2) * im.height,
                (cx + w / 2) * im.width,
                (cy + h / 2) * im.height,
            )
            b.box(im, names[cid], xyxy, where)
    for stem, img in sorted(images.items()):  # an image without a label file has no boxes: keep it (negative)
        if not (lab_dir / f"{stem}.txt").exists():
            b.image(img, img.name)
    return b.done([canonical_label(n) for n in names])


def read_coco(path: str | Path) -> BoxSet:
    """A COCO JSON (``images``, ``annotations`` with ``bbox`` = x, y, w, h, ``categories``); images in
    ``images/`` beside it or beside it directly."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{p}: cannot read JSON ({exc})") from None
    if not isinstance(doc, dict) or not {"images", "annotations", "categories"} <= set(doc):
        raise DatasetError(f"{p}: not COCO: expected `images`, `annotations` and `categories`")
    root = p.parent
    img_dir = root / "images" if (root / "images").is_dir() else root
    cats = {c["id"]: str(c["name"]) for c in doc["categories"]}
    b = _Builder(root, "coco")
    by_id = {}
    for im in doc["images"]:
        got = b.image(img_dir / im["file_name"], f"image {im.get('id')}", im.get("width"), im.get("height"))
        if got is not None:
            by_id[im["id"]] = got
    for a in doc["annotations"]:
        where = f"annotation {a.get('id')}"
        im = by_id.get(a.get("image_id"))
        if im is None:
            b.problems.append((where, f"image id {a.get('image_id')} missing or unreadable"))
            continue
        if a.get("category_id") not in cats:
            b.problems.append((where, f"category id {a.get('category_id')} is not in categories"))
            continue
        try:
            x, y, w, h = (float(v) for v in a["bbox"])
        except (KeyError, TypeError, ValueError):
            b.problems.append((where, "bbox is not [x, y, w, h]"))
            continue
        b.box(im, cats[a["category_id"]], (x, y, x + w, y + h), where)
    return b.done([canonical_label(n) for n in cats.values()])


def read_voc(root: str | Path) -> BoxSet:
    """Pascal VOC: one XML per image (``Annotations/*.xml`` or ``*.xml``), images in ``JPEGImages/``,
    ``images/`` or beside the XML."""
    root = Path(root)
    xml_dir = root / "Annotations" if (root / "Annotations").is_dir() else root
    files = sorted(xml_dir.glob("*.xml"))
    if not files:
        raise DatasetError(f"{root}: no VOC .xml files")
    dirs = [d for d in (root / "JPEGImages", root / "images", xml_dir) if d.is_dir()]
    b = _Builder(root, "voc")
    for xf in files:
        try:
            doc = ET.parse(xf).getroot()
        except (ET.ParseError, OSError) as exc:
            b.problems.append((xf.name, f"cannot parse XML ({exc})"))
            continue
        name = (doc.findtext("filename") or "").strip()
        img = next((d / name for d in dirs if name and (d / name).is_file()), dirs[0] / (name or xf.stem))
        size = doc.find("size")
        w = int(float(size.findtext("width") or 0)) if size is not None else None
        h = int(float(size.findtext("height") or 0)) if size is not None else None
        im = b.image(img, xf.name, w, h)
        if im is None:
            continue
        for obj in doc.iter("object"):
            bb = obj.find("bndbox")
            try:
                xyxy = tuple(float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))  # type: ignore[union-attr,arg-type]
            except (AttributeError, TypeError, ValueError):
                b.problems.append((xf.name, "an object without a numeric bndbox"))
                continue
            b.box(im, (obj.findtext("name") or "").strip(), xyxy, xf.name)  # type: ignore[arg-type]
    return b.done()


def detect_format(path: str | Path) -> str:
    """Which box format a file or folder holds (csv, yolo, coco, voc); DatasetError if none."""
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() == ".csv":
            return "csv"
        if p.suffix.lower() == ".json":
            return "coco"
        raise DatasetError(f"{p}: not a box file (expected a .csv of corners or a COCO .json)")
    if not p.is_dir():
        raise DatasetError(f"{p}: no such file or folder")
    if (p / "data.yaml").is_file() and (p / "labels").is_dir():
        return "yolo"
    if (p / "annotations.csv").is_file():
        return "csv"
    if any(p.glob("*.json")):
        return "coco"
    if (p / "Annotations").is_dir() or any(p.glob("*.xml")):
        return "voc"
    raise DatasetError(f"{p}: no box annotations found (annotations.csv, data.yaml + labels/, COCO .json, VOC .xml)")


def load_boxes(path: str | Path, fmt: str | None = None) -> BoxSet:
    """Any supported box set; ``fmt`` forces a format, else it is detected."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt == "csv":
        return read_csv(p / "annotations.csv" if p.is_dir() else p)
    if fmt == "yolo":
        return read_yolo(p)
    if fmt == "coco":
        if p.is_dir():
            jsons = sorted(p.glob("*.json"))
            if len(jsons) != 1:
                raise DatasetError(f"{p}: {len(jsons)} .json files; give the COCO file itself")
            p = jsons[0]
        return read_coco(p)
    if fmt == "voc":
        return read_voc(p)
    raise DatasetError(f"unknown box format {fmt!r}; one of {', '.join(FORMATS)}")


def _place_images(bs: BoxSet, img_dir: Path) -> dict[Path, str]:
    """Each image under ``img_dir`` (hard link where possible, else a copy): the converted set stands
    alone and the source is never touched. Returns path -> file name used (made unique)."""
    import os
    import shutil

    img_dir.mkdir(parents=True, exist_ok=True)
    names: dict[Path, str] = {}
    used: set[str] = set()
    for im in bs.images:
        name = im.path.name
        k = 1
        while name in used:
            name = f"{im.path.stem}_{k}{im.path.suffix}"
            k += 1
        used.add(name)
        names[im.path] = name
        dst = img_dir / name
        if dst.exists():
            continue
        try:
            os.link(im.path, dst)
        except OSError:
            shutil.copy2(im.path, dst)
    return names


def write_boxes(bs: BoxSet, out: str | Path, fmt: str) -> Path:
    """Write the set as ``fmt`` into the new folder ``out`` (images included); returns the main file
    or folder. Refuses a folder that already holds files."""
    out = Path(out)
    if fmt not in FORMATS:
        raise DatasetError(f"unknown box format {fmt!r}; one of {', '.join(FORMATS)}")
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out}: already holds files; convert into a new folder")
    names = _place_images(bs, out / ("JPEGImages" if fmt == "voc" else "images"))
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
            f"path: .\ntrain: images\nval: images\nnc: {len(bs.classes)}\nnames: {yaml_names}\n"
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
        (out / "annotations.json").write_text(json.dumps(doc), encoding="utf-8")
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
