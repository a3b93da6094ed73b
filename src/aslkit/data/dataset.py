"""Labelled image sets: folder-per-class (``DATA/<label>/*.jpg``), a box CSV (``annotations.csv``) or a
YOLO set (its folder or data.yaml, in any layout aslkit.data.yolo finds; its splits can be chosen by name).

Labels are mapped to canonical spellings (see aslkit.labels); files are only ever read.
A box CSV (``filename,[width,height,]class,xmin,ymin,xmax,ymax``, one row per box, files in
``images/`` or beside the CSV) or a YOLO set turns each box into one sample cropped around the hand,
which lets detection sets train the letter recognizer too.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aslkit.data.boxes import (
    corner_values,
    image_path,
    label_problem,
    outside_problem,
    read_corner_rows,
    read_yolo,
)
from aslkit.data.images import is_image_path
from aslkit.data.yolo import data_yaml
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label, sort_labels
from aslkit.names import regular_file_problem, shown

BOX_MARGIN = 0.3  # crop this fraction of the box size around each side: MediaPipe needs some wrist/context


@dataclass(frozen=True)
class Sample:
    """One labelled image (optionally a crop of it)."""

    path: Path
    label: str
    raw_label: str
    crop: tuple[int, int, int, int] | None = None


@dataclass
class ImageDataset:
    """Samples plus where they came from; ``labels`` is the sorted canonical class list."""

    root: Path
    samples: list[Sample]
    skipped: list[str] = field(default_factory=list)  # box rows left out on reading, each "where: why"

    @property
    def labels(self) -> list[str]:
        return sort_labels({s.label for s in self.samples})

    def counts(self) -> dict[str, int]:
        c = Counter(s.label for s in self.samples)
        return {lab: c[lab] for lab in self.labels}

    def __len__(self) -> int:
        return len(self.samples)


def _scan_folder(root: Path) -> list[Sample]:
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    loose = [p for p in root.iterdir() if p.is_file() and is_image_path(p)]
    hint = f" ({len(loose)} loose images: put them in one sub-folder per class)" if loose else ""
    if not subdirs:
        raise DatasetError(f"{root}: no class sub-folders found; expected DATA/<label>/*.jpg{hint}")
    samples = []
    for d in subdirs:
        label = canonical_label(d.name)
        for p in sorted(d.rglob("*")):
            # not only regular files: a FIFO or broken link named like a photo is read as unreadable (its reader
            # never opens it) and counted, not skipped without a word
            if is_image_path(p) and not p.is_dir() and not any(x.startswith(".") for x in p.relative_to(d).parts):
                samples.append(Sample(p, label, d.name))
    if not samples and loose:
        raise DatasetError(f"{root}: its class sub-folders hold no images; expected DATA/<label>/*.jpg{hint}")
    return samples


def _read_box_csv(csv_path: Path, margin: float = BOX_MARGIN) -> tuple[list[Sample], list[str]]:
    """One sample per box, and "where: why" for each row that cannot give one (left out): a corner, width or
    height that is not a finite number, an empty or inverted box, an empty class, and an image name that
    leads outside the set's folder (``..``, an absolute path, a link to elsewhere: such a file is never
    read). A missing image, or one that is not a regular file (a FIFO), is kept: reading it gives an
    ImageError (without blocking), so evaluation lists it as unreadable."""
    root = csv_path.parent
    img_dir = root / "images" if (root / "images").is_dir() else root
    rows = read_corner_rows(csv_path)
    real_root = Path(os.path.realpath(root))
    samples: list[Sample] = []
    skipped: list[str] = []
    for n, r in enumerate(rows, start=2):  # the header is line 1
        where = f"{csv_path.name} line {n} ({shown(r['filename'])[:80]})"
        try:
            (x0, y0, x1, y1), _, _ = corner_values(r)
        except ValueError as exc:
            skipped.append(f"{where}: {exc}")
            continue
        crop = _crop((x0, y0, x1, y1), margin)
        path, why = image_path(img_dir, r["filename"])
        if x1 <= x0 or y1 <= y0:
            why = "an empty or inverted box"
        elif crop is None:  # corners near the float limit
            why = "corners too large to crop"
        why = label_problem(r["class"]) or why or (outside_problem(root, path, real_root) if path else None)
        if why is not None or path is None or crop is None:
            skipped.append(f"{where}: {why}")
            continue
        samples.append(Sample(path, canonical_label(r["class"]), r["class"], crop))
    return samples, skipped


def _crop(xyxy: tuple[float, float, float, float], margin: float) -> tuple[int, int, int, int] | None:
    """The box widened by ``margin`` of its size on each side, in whole pixels; None when not finite."""
    x0, y0, x1, y1 = xyxy
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    crop_f = (x0 - mx, y0 - my, x1 + mx, y1 + my)
    if not all(math.isfinite(v) for v in crop_f):
        return None
    return int(crop_f[0]), int(crop_f[1]), int(crop_f[2]), int(crop_f[3])


def _read_yolo_boxes(source: Path, splits: tuple[str, ...], margin: float = BOX_MARGIN) -> tuple[list[Sample], Path]:
    """One sample per box of the YOLO set at ``source`` (only the splits named, when any; each image once),
    and the set's root (data.yaml's ``path``, which may lie beside data.yaml's folder: outputs stay out of it).
    Rows that cannot give a box, and images that cannot be read, are left out (``aslkit audit`` and
    ``aslkit convert`` report each)."""
    sets = [read_yolo(source, name) for name in splits] if splits else [read_yolo(source)]
    samples: list[Sample] = []
    seen: set[Path] = set()
    for bs in sets:
        for im in bs.images:
            if im.path in seen:
                continue
            seen.add(im.path)
            for b in im.boxes:
                crop = _crop(b.xyxy, margin)
                if crop is not None:
                    samples.append(Sample(im.path, b.label, b.label, crop))
    return samples, sets[0].root


def load_dataset(path: str | Path, split: str | tuple[str, ...] | None = None) -> ImageDataset:
    """Read a labelled image set from a folder-per-class tree, a folder holding annotations.csv, or a YOLO
    set (its folder or data.yaml; annotations.csv first where a folder has both). ``split``: only these
    splits of a YOLO set, by name (``valid`` or ``train,val``)."""
    root = Path(path)
    skipped: list[str] = []
    names = tuple(n for n in (split.split(",") if isinstance(split, str) else split or ()) if n)
    if not root.exists():
        raise DatasetError(f"{root}: no such folder")
    yaml_file = data_yaml(root)
    if names and yaml_file is None:
        raise DatasetError(
            f"{shown(root)}: --split {','.join(names)} names splits of a YOLO set, and this is none (no data.yaml)"
        )
    if yaml_file is not None and (names or yaml_file == root or not (root / "annotations.csv").exists()):
        samples, root = _read_yolo_boxes(root, names)
    elif not root.is_dir() and root.suffix.lower() == ".csv":  # a FIFO named x.csv: one line from read_corner_rows
        samples, skipped = _read_box_csv(root)
        root = root.parent
    elif root.is_file():
        raise DatasetError(f"{root}: expected a folder of class sub-folders or a box CSV, got a file")
    elif not root.is_dir():
        raise DatasetError(f"{shown(root)}: {regular_file_problem(root) or 'not a folder'}")
    elif (root / "annotations.csv").exists():  # not only is_file(): a FIFO there is an error, not class folders
        samples, skipped = _read_box_csv(root / "annotations.csv")
    else:
        samples = _scan_folder(root)
    if not samples and skipped:  # every box refused: say why, not "no images"
        raise DatasetError(f"{shown(root)}: no usable box ({len(skipped)} row(s) left out; first: {skipped[0]})")
    if not samples:
        raise DatasetError(f"{root}: no images found (looked for .jpg .jpeg .png .bmp .webp .tif)")
    return ImageDataset(root, samples, skipped)
