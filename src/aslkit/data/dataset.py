"""Labelled image sets: folder-per-class (``DATA/<label>/*.jpg``) or a box CSV (``annotations.csv``).

Labels are mapped to canonical spellings (see aslkit.labels); files are only ever read.
A box CSV (``filename,[width,height,]class,xmin,ymin,xmax,ymax``, one row per box, files in
``images/`` or beside the CSV) turns each box into one sample cropped around the hand, which lets
detection sets train the letter recognizer too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aslkit.data.boxes import read_corner_rows
from aslkit.data.images import is_image_path
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label, sort_labels

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
    if not subdirs:
        loose = [p for p in root.iterdir() if p.is_file() and is_image_path(p)]
        hint = f" ({len(loose)} loose images: put them in one sub-folder per class)" if loose else ""
        raise DatasetError(f"{root}: no class sub-folders found; expected DATA/<label>/*.jpg{hint}")
    samples = []
    for d in subdirs:
        label = canonical_label(d.name)
        for p in sorted(d.rglob("*")):
            if p.is_file() and is_image_path(p) and not any(x.startswith(".") for x in p.relative_to(d).parts):
                samples.append(Sample(p, label, d.name))
    return samples


def _read_box_csv(csv_path: Path, margin: float = BOX_MARGIN) -> list[Sample]:
    root = csv_path.parent
    img_dir = root / "images" if (root / "images").is_dir() else root
    rows = read_corner_rows(csv_path)
    samples = []
    for r in rows:
        try:
            x0, y0, x1, y1 = (float(r[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        except ValueError:
            continue  # a malformed row is skipped; audits (aslkit audit) report them
        if x1 <= x0 or y1 <= y0:
            continue
        mx, my = margin * (x1 - x0), margin * (y1 - y0)
        crop = (int(x0 - mx), int(y0 - my), int(x1 + mx), int(y1 + my))
        samples.append(Sample(img_dir / r["filename"], canonical_label(r["class"]), r["class"], crop))
    return samples


def load_dataset(path: str | Path) -> ImageDataset:
    """Read a labelled image set from a folder-per-class tree or a folder holding annotations.csv."""
    root = Path(path)
    if not root.exists():
        raise DatasetError(f"{root}: no such folder")
    if root.is_file():
        if root.suffix.lower() == ".csv":
            samples = _read_box_csv(root)
            root = root.parent
        else:
            raise DatasetError(f"{root}: expected a folder of class sub-folders or a box CSV, got a file")
    elif (root / "annotations.csv").is_file():
        samples = _read_box_csv(root / "annotations.csv")
    else:
        samples = _scan_folder(root)
    if not samples:
        raise DatasetError(f"{root}: no images found (looked for .jpg .jpeg .png .bmp .webp .tif)")
    return ImageDataset(root, samples)
