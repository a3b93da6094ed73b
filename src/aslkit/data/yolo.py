"""Where a YOLO set's images and label files are, in the layouts people have, found the way Ultralytics finds them.

One ``data.yaml`` (class ``names``, and where each split's images are) serves three layouts:

- flat: ``images/`` and ``labels/`` beside data.yaml, with no splits named (or ``train: images``, ``val: images``);
- Ultralytics: ``path`` (the dataset root) with ``train: images/train``, ``val: images/val`` [, ``test``];
- a Roboflow export: data.yaml at the root, ``{train,valid,test}/{images,labels}``, named in the yaml as
  ``train: ../train/images``, ``val: ../valid/images``.

A split is a folder of images (searched through its sub-folders), a .txt file listing images (one a line,
relative to the list's folder), or a list of those. The dataset root is ``path``: a relative one is taken
from data.yaml's folder (then, as Ultralytics does, from the working folder); without ``path``, data.yaml's
folder. Each split is taken from the root, and one that starts with ``../`` and is not found there is tried
without it, as Ultralytics does for Roboflow's exports. An image's label file is its path with the last
``/images/`` (below the root) turned into ``/labels/`` and the suffix into ``.txt``; in a flat set without
splits, ``labels/<stem>.txt``. A split asked for by name may be spelt as its folder is (``valid`` for ``val``).

Only paths are worked out here: reading the boxes (and every check on them) is aslkit.data.boxes's job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aslkit.data.images import is_image_path
from aslkit.errors import DatasetError
from aslkit.names import brief, regular_file_problem, shown

YAML_NAMES = ("data.yaml", "data.yml")  # what a YOLO folder's data.yaml may be called
SPLIT_KEYS = ("train", "val", "test")  # the splits a data.yaml names (Ultralytics' keys)
SPELLINGS = {  # each split's other names: the folder names of Roboflow exports and of aslkit's audit
    "train": ("train", "training"),
    "val": ("val", "valid", "validation", "dev"),
    "test": ("test", "testing"),
}


def spellings(name: str) -> tuple[str, ...]:
    """Every name of the split called ``name`` (``valid`` -> val, valid, validation, dev); itself if not known."""
    n = name.strip().lower()
    return next((names for names in SPELLINGS.values() if n in names), (n,))


def data_yaml(source: str | Path) -> Path | None:
    """The data.yaml of a YOLO set given as a folder or as the .yaml file itself; None when it is neither."""
    p = Path(source)
    if p.suffix.lower() in (".yaml", ".yml") and not p.is_dir():
        return p
    if p.is_dir():  # exists(), not is_file(): a FIFO called data.yaml is an error, not "no YOLO set"
        return next((p / n for n in YAML_NAMES if (p / n).exists() or (p / n).is_symlink()), None)
    return None


def read_yaml(path: Path) -> dict[str, Any]:
    """data.yaml as a mapping; DatasetError (one line) when it is not a regular UTF-8 file, not YAML, or YAML
    that is not a mapping of keys (a list, a number, a string)."""
    import yaml

    why = regular_file_problem(path)
    if why:
        raise DatasetError(f"{shown(path)}: {why}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{shown(path)}: cannot read YAML (not UTF-8 text)") from None
    except OSError as exc:
        raise DatasetError(f"{shown(path)}: cannot read YAML ({exc.strerror or exc})") from None
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise DatasetError(f"{shown(path)}: cannot read YAML ({' '.join(str(exc).split())})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DatasetError(
            f"{shown(path)}: not a YOLO data.yaml: expected keys such as names, path, train and val, "
            f"got {'a list' if isinstance(doc, list) else brief(doc)}"
        )
    return doc


@dataclass
class YoloLayout:
    """A YOLO set's data.yaml, its dataset root (which bounds the set) and the sources of each split it
    names, in data.yaml's order (none: a flat set)."""

    yaml: Path
    doc: dict[str, Any]
    root: Path
    splits: dict[str, list[str]]

    def split_key(self, name: str) -> str:
        """The data.yaml key of the split the user calls ``name``; DatasetError naming the splits there are."""
        if not self.splits:
            raise DatasetError(
                f"{shown(self.yaml)}: --split {shown(name)}: this set has no splits (its data.yaml names no "
                "train, val or test); leave out --split"
            )
        for key in self.splits:
            if key in spellings(name):
                return key
        raise DatasetError(f"{shown(self.yaml)}: no split {shown(name)!r}; its splits: {self.splits_text()}")

    def splits_text(self) -> str:
        """The splits by name, as a user may give them: ``train, val (or valid), test``."""
        return ", ".join(f"{k} (or valid)" if k == "val" else k for k in self.splits)


def _entries(yaml_path: Path, doc: dict[str, Any]) -> dict[str, list[str]]:
    """Each split key of data.yaml with a value -> its sources as written (an empty value: no such split)."""
    out: dict[str, list[str]] = {}
    for key in SPLIT_KEYS:
        v = doc.get(key)
        if v is None or v == "" or v == []:
            continue
        values = v if isinstance(v, list) else [v]
        if not all(isinstance(x, str) and x.strip() and "\x00" not in x for x in values):
            raise DatasetError(
                f"{shown(yaml_path)}: `{key}` is {brief(v)}, not a folder of images, a .txt list of images or a "
                "list of those"
            )
        out[key] = [x.strip() for x in values]
    return out


def _dataset_root(yaml_path: Path, doc: dict[str, Any]) -> Path:
    """``path`` from data.yaml's folder (then from the working folder, as Ultralytics does); data.yaml's folder
    without one. DatasetError when it is no folder."""
    raw = doc.get("path")
    if raw is None or raw == "":
        return yaml_path.parent
    if not isinstance(raw, str) or "\x00" in raw:
        raise DatasetError(f"{shown(yaml_path)}: `path` is {brief(raw)}, not a folder")
    p = Path(raw)
    tried = [p] if p.is_absolute() else [yaml_path.parent / p, Path.cwd() / p]
    for c in tried:
        if c.is_dir():
            return Path(os.path.normpath(c))
    where = " or ".join(shown(os.path.normpath(c)) for c in tried)
    raise DatasetError(f"{shown(yaml_path)}: `path: {shown(raw)}` is no folder (looked for {where})")


def read_layout(source: str | Path) -> YoloLayout:
    """The layout of the YOLO set at ``source`` (its folder or its data.yaml); DatasetError (one line) when
    there is no data.yaml, it is not a mapping, a split is not a path, or ``path`` leads nowhere."""
    y = data_yaml(source)
    if y is None:
        raise DatasetError(f"{shown(source)}: no data.yaml here (a YOLO set's folder, or its .yaml file)")
    doc = read_yaml(y)
    splits = _entries(y, doc)
    root = _dataset_root(y, doc) if splits else y.parent  # a flat set's `path` was never used: leave it be
    return YoloLayout(y, doc, Path(os.path.normpath(root)), splits)


def _source(root: Path, entry: str) -> Path:
    p = root / entry
    if not (p.exists() or p.is_symlink()) and entry.startswith("../"):  # Roboflow's `../train/images`
        p = root / entry[3:]
    return Path(os.path.normpath(p))


def _image_files(folder: Path) -> list[Path]:
    """Image files (regular, or links to them) in ``folder`` and its sub-folders, never following a linked
    folder; a FIFO named x.jpg is no image."""
    found: list[Path] = []

    def failed(exc: OSError) -> None:
        raise DatasetError(f"{shown(exc.filename or folder)}: cannot list this folder ({exc.strerror or exc})")

    for d, dirs, files in os.walk(folder, onerror=failed):
        dirs.sort()
        found += [Path(d) / f for f in sorted(files) if is_image_path(Path(f)) and (Path(d) / f).is_file()]
    return found


def _listed_images(list_file: Path, problems: list[tuple[str, str]]) -> list[Path]:
    """The images a .txt list names, one a line (blank lines and # comments skipped), a relative one from the
    list's folder; a line that is no image file name is a problem row."""
    why = regular_file_problem(list_file)
    if why:
        raise DatasetError(f"{shown(list_file)}: {why}")
    try:
        text = list_file.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        raise DatasetError(f"{shown(list_file)}: cannot read this list of images ({why})") from None
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        p = Path(name)
        if "\x00" in name or not is_image_path(p):
            problems.append((f"{list_file.name}:{i}", f"{brief(name)} is not an image file name"))
            continue
        out.append(Path(os.path.normpath(p if p.is_absolute() else list_file.parent / p)))
    return out


def split_images(lay: YoloLayout, key: str | None, strict: bool = True) -> tuple[list[Path], list[tuple[str, str]]]:
    """The image files of split ``key`` (None: the one set of a flat layout), in order, and the problems met
    (list lines that name no image). A source that is missing or unreadable is a DatasetError when ``strict``
    (the split was asked for by name), else a problem row and that source is left out."""
    problems: list[tuple[str, str]] = []
    if key is None:
        img_dir = lay.root / "images" if (lay.root / "images").is_dir() else lay.root
        try:
            listed = sorted(img_dir.iterdir())
        except OSError as exc:
            raise DatasetError(f"{shown(img_dir)}: cannot list this folder ({exc.strerror or exc})") from None
        by_stem: dict[str, Path] = {}  # a.jpg and a.png would share labels/a.txt: the first is the image
        for f in listed:
            if is_image_path(f) and f.is_file():
                by_stem.setdefault(f.stem, f)
        return list(by_stem.values()), problems
    images: list[Path] = []
    for entry in lay.splits[key]:
        src = _source(lay.root, entry)
        try:
            if src.is_dir():
                images += _image_files(src)
            elif src.exists() or src.is_symlink():
                images += _listed_images(src, problems)
            else:
                raise DatasetError(f"{shown(lay.yaml)}: `{key}: {shown(entry)}` is not found ({shown(src)})")
        except DatasetError as exc:
            if strict:
                raise
            problems.append((lay.yaml.name, f"{exc}; left out of split {key}"))
    return images, problems


def label_file(lay: YoloLayout, image: Path) -> Path:
    """The label file of ``image``: Ultralytics' rule (the last ``/images/`` below the root -> ``/labels/``,
    suffix -> ``.txt``; beside the image when there is none); a flat set's ``labels/<stem>.txt``."""
    if not lay.splits:
        return lay.root / "labels" / f"{image.stem}.txt"
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    try:  # only the part below the root is looked at: an `images` folder above the set is none of its business
        s = os.sep + str(image.relative_to(lay.root))
    except ValueError:
        return Path(sb.join(str(image).rsplit(sa, 1))).with_suffix(".txt")
    return lay.root / Path(sb.join(s.rsplit(sa, 1))[1:]).with_suffix(".txt")


def _label_files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for d, dirs, files in os.walk(folder):
        dirs.sort()
        found += [Path(d) / f for f in sorted(files) if f.lower().endswith(".txt")]
    return found


def orphan_labels(lay: YoloLayout, key: str | None, images: list[Path]) -> list[Path]:
    """Label files that no image of the split has (its image is missing, or is not a regular file): in a flat
    set's labels/, or in the folders ``label_file`` maps the split's image folders to (not when that is the
    image folder itself: a .txt beside images may be anything)."""
    if key is None:
        lab = lay.root / "labels"
        stems = {p.stem for p in images}
        return [t for t in sorted(lab.glob("*.txt")) if t.stem not in stems] if lab.is_dir() else []
    expected = {label_file(lay, p) for p in images}
    orphans: list[Path] = []
    for src in (_source(lay.root, e) for e in lay.splits[key]):
        folder = label_file(lay, src / "x.jpg").parent
        if src.is_dir() and folder != src and folder.is_dir():
            orphans += [t for t in _label_files(folder) if t not in expected]
    return orphans


def distinct_splits(lay: YoloLayout) -> list[str]:
    """The split keys whose images are not exactly those of an earlier split (a flat set's ``train: images``
    and ``val: images`` are one set, not a leak between two)."""
    seen: list[set[Path]] = []
    keys = []
    for key in lay.splits:
        imgs = set(split_images(lay, key, strict=False)[0])
        if imgs and imgs not in seen:
            keys.append(key)
            seen.append(imgs)
    return keys


def image_splits(source: str | Path, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Image path (as text) -> the name (as given) of the split in ``names`` it belongs to, for a run that
    takes its train, valid and test sides from the set's own splits; DatasetError when an image is in two of
    them (its boxes would be trained and tested on)."""
    lay = read_layout(source)
    out: dict[str, str] = {}
    for name in names:
        key = lay.split_key(name)
        for p in split_images(lay, key)[0]:
            before = out.setdefault(str(p), name)
            if before != name:
                raise DatasetError(
                    f"{shown(lay.yaml)}: splits {before} and {name} hold the same image {shown(p.name)}; give one "
                    "split name to divide it by ratios instead"
                )
    return out
