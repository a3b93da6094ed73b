"""Hostile inputs: every aslkit command over a corpus of bad files, folders, box sets, clips, models and
options, each run as its own process; one table of what happened.

    .venv/bin/python benchmarks/hostile_inputs.py [--jobs 2] [--only SUBSTRING] [--timeout 90]
                                                  [--report NEW_DIR] [--workdir NEW_DIR] [--list]

The corpus is built in a fresh temporary folder (or --workdir, kept afterwards): one folder per case,
``cases/<case>/data`` (its inputs) and ``cases/<case>/out`` (the command's working folder, where its outputs
go). Real photos and clips are copied from ../shared/data into that folder (never into the repository);
everything else is made here (tiny PIL images, cv2 videos, crafted PNG/npy/JSON/XML/YAML/safetensors).

Each case runs ``python -m aslkit.cli ARGS`` with ASLKIT_CACHE_DIR in the work folder and OMP_NUM_THREADS=1.
Its inputs are snapshotted before and after (type, size, mtime, sha256; links are not followed and a FIFO
is never opened). A case counts as:

- a traceback: exit 3 (``aslkit: unexpected error``) or "Traceback" anywhere in stderr;
- a hang: still running after --timeout seconds (the process group is killed);
- a crash: killed by a signal, an exit status >= 128 other than 130, or killed here for taking more than
  --max-rss-gb of memory (all its processes; exit column "mem") or writing 200 MB of output ("out"),
  before it takes the machine's memory or disk;
- a changed input: a file or folder of its inputs added, removed or modified.

Prints one table (case, input, command, exit, message = the last stderr line, changed), the failures under
it, then the four counts. Every case also names the exit codes it accepts (usually 0 or 1; 1 or 2 where
nothing can be done); any other exit, a pickle that ran (the crafted ones print a marker), or a process
still running 3 s after the command ended is listed as a failure too. Exit status 1 when any of the four
counts is above 0. About 330 cases; 3 minutes with --jobs 2 on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import io
import json
import os
import pickle
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
WEIGHTS = REPO / "src" / "aslkit" / "weights"
MARKER = "HOSTILE-PICKLE-EXECUTED"  # printed by the crafted pickles if anything unpickles them
OK = (0,)  # good input (weird name, valid but odd content, a positive control)
OK01 = (0, 1)  # a bad input alone: a one-line error; with good files beside it: 0
ERR = (1, 2)  # nothing usable: an error (1) or a usage error (2)
PNG_SIG = b"\x89PNG\r\n\x1a\n"
Arg = str | bytes | Path


class _Marker:
    """Unpickling this prints MARKER (and does nothing else): proof that a loader ran pickle."""

    def __reduce__(self):
        return (print, (MARKER,))


# ---------------------------------------------------------------------------------------------------------
# raw material


@functools.cache
def real_photo(letter: str = "a", k: int = 0) -> bytes:
    """A real Massey photo (a hand on black, JPEG); a grey 64x64 JPEG without the shared data."""
    folder = SHARED / "massey-letters" / letter.lower()
    if folder.is_dir():
        files = sorted(p for p in folder.iterdir() if p.is_file())
        if files:
            return files[k % len(files)].read_bytes()
    return image_bytes("JPEG", value=40 + 20 * k)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 64), mode: str = "L", value: int = 128) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, value).save(buf, fmt)
    return buf.getvalue()


@functools.cache
def photo_as(fmt: str, mode: str = "RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(real_photo("b", 0))).convert(mode).save(buf, fmt)
    return buf.getvalue()


@functools.cache
def photo_png16() -> bytes:
    """A real photo as a 16-bit RGB PNG."""
    import cv2

    arr = cv2.imdecode(np.frombuffer(real_photo("b", 1), np.uint8), cv2.IMREAD_COLOR)
    ok, enc = cv2.imencode(".png", arr.astype(np.uint16) * 257)
    assert ok
    return enc.tobytes()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_header_png(w: int = 100_000, h: int = 100_000) -> bytes:
    """A PNG whose header claims w x h RGB pixels, with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return PNG_SIG + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 256)) + _chunk(b"IEND", b"")


@functools.cache
def bomb_png(side: int = 12_000) -> bytes:
    """A valid grey PNG of side x side pixels (144 MP, over the 64 MP limit) in about 150 KB."""
    co = zlib.compressobj(9)
    row = b"\0" * (side + 1)
    data = b"".join(co.compress(row) for _ in range(side)) + co.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return PNG_SIG + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def scrambled(data: bytes, seed: int = 0) -> bytes:
    """The first and last 600 bytes kept, the middle random."""
    rng = np.random.default_rng(seed)
    mid = rng.integers(0, 256, max(0, len(data) - 1200), dtype=np.uint8).tobytes()
    return data[:600] + mid + data[-600:]


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def random_bytes(n: int, seed: int = 1) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


@functools.cache
def detection_rows() -> tuple[tuple[str, int, int, str, int, int, int, int], ...]:
    """Two rows (one A, one B) of asl-letters-detection/valid/annotations.csv whose photos exist."""
    csv_path = SHARED / "asl-letters-detection" / "valid" / "annotations.csv"
    rows: list[tuple] = []
    if csv_path.is_file():
        with open(csv_path, newline="") as f:
            for r in csv.DictReader(f):
                if r["class"] in ("A", "B") and r["class"] not in {x[3] for x in rows}:
                    vals = [int(float(r[k])) for k in ("width", "height", "xmin", "ymin", "xmax", "ymax")]
                    rows.append((r["filename"], vals[0], vals[1], r["class"], *vals[2:]))
    if len(rows) < 2:
        rows = [("a1.jpg", 64, 64, "A", 8, 8, 56, 56), ("b1.jpg", 64, 64, "B", 4, 4, 60, 60)]
    return tuple(rows[:2])


@functools.cache
def detection_photo(name: str) -> bytes:
    p = SHARED / "asl-letters-detection" / "valid" / "images" / name
    return p.read_bytes() if p.is_file() else image_bytes("JPEG", mode="RGB", value=(90, 80, 70))


@functools.cache
def _word_sequences() -> np.ndarray:
    p = SHARED / "sign-sequences" / "words-pose-hands.npz"
    if p.is_file():
        with np.load(p) as z:
            return np.asarray(z["sequences"][:8], np.float32)
    return np.random.default_rng(0).random((8, 20, 258), dtype=np.float32)


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npy_header_only(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 64


@functools.cache
def small_landmark_npz() -> bytes:
    """60 rows (20 each of A, B, C) of hand-landmarks-letters/frames.npz; random points without it."""
    p = SHARED / "hand-landmarks-letters" / "frames.npz"
    if p.is_file():
        with np.load(p) as z:
            lab = z["label"]
            idx = np.concatenate([np.flatnonzero(lab == c)[::10][:20] for c in ("A", "B", "C")])
            return npz_bytes(landmarks=z["landmarks"][idx], label=lab[idx])
    rng = np.random.default_rng(0)
    return npz_bytes(landmarks=rng.random((60, 21, 3), dtype=np.float32), label=np.repeat(["A", "B", "C"], 20))


@functools.cache
def real_word_video() -> bytes:
    folder = SHARED / "word-videos" / "hello"
    files = sorted(folder.glob("*.mp4")) if folder.is_dir() else []
    return files[0].read_bytes() if files else b""


# ---------------------------------------------------------------------------------------------------------
# a case's folder


def _p(rel: Arg) -> str:
    return os.fsdecode(rel)


@dataclass(frozen=True)
class Link:
    target: str


FIFO, DIR, LOOP = object(), object(), object()  # corpus entries that are not files: a FIFO, a folder, a link loop
Content = bytes | Callable[[], bytes] | Link | object


class Ctx:
    """Where one case builds its inputs (``data``, snapshotted) and runs (``out``, also its working folder)."""

    def __init__(self, data: Path, out: Path) -> None:
        self.data, self.out, self.cwd = data, out, out
        self.watch_root = False  # also compare the names in / (cases that pass --out /)

    def d(self, rel: Arg) -> Path:
        return self.data / _p(rel)

    def o(self, rel: Arg) -> Path:
        return self.out / _p(rel)

    def path(self, rel: Arg) -> Path:
        p = self.d(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write(self, rel: Arg, content: bytes | str) -> Path:
        p = self.path(rel)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return p

    def folder(self, rel: Arg) -> Path:
        p = self.path(rel)
        p.mkdir(parents=True, exist_ok=True)
        return p

    def fifo(self, rel: Arg) -> Path:
        p = self.path(rel)
        os.mkfifo(p)
        return p

    def link(self, rel: Arg, target: str | Path) -> Path:
        p = self.path(rel)
        os.symlink(target, p)
        return p

    def photo(self, rel: Arg = "a.jpg", letter: str = "a", k: int = 0) -> Path:
        return self.write(rel, real_photo(letter, k))

    def video(self, rel: Arg, frames: int = 12, size: int = 96) -> Path:
        """A tiny synthetic video: MJPG in .avi, mp4v otherwise."""
        import cv2

        p = self.path(rel)
        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if p.suffix.lower() == ".avi" else "mp4v"))
        w = cv2.VideoWriter(str(p), fourcc, 10.0, (size, size))
        for i in range(frames):
            w.write(np.full((size, size, 3), (20 * i) % 255, np.uint8))
        w.release()
        return p

    def classes(self, letters: str = "abc", per: int = 3, rel: str = "set") -> Path:
        """Class folders A/, B/, ... of real photos."""
        for letter in letters:
            for k in range(per):
                self.photo(f"{rel}/{letter.upper()}/{letter}{k}.jpg", letter, k)
        return self.d(rel)

    def place(self, rel: str, content: Content) -> Path:
        """One corpus entry: bytes (or a function giving them), FIFO, DIR, LOOP or Link(target)."""
        if content is FIFO:
            return self.fifo(rel)
        if content is DIR:
            self.write(f"{rel}/inner.txt", "x")
            return self.d(rel)
        if content is LOOP:
            self.link(f"{rel}.2", Path(rel).name)
            return self.link(rel, Path(rel).name + ".2")
        if isinstance(content, Link):
            return self.link(rel, content.target)
        if callable(content):
            content = content()
        return self.write(rel, content)

    def model(self, base: str = "letters", json_edit=None, tensors_edit=None, raw_json=None, raw_tensors=None) -> Path:
        """A copy of a shipped model as model/model.json + model.safetensors, corrupted by the edits."""
        d = self.folder("model")
        if raw_json is not None:
            (d / "model.json").write_bytes(raw_json)
        else:
            doc = json.loads((WEIGHTS / f"{base}.json").read_text())
            if json_edit is not None:
                doc = json_edit(doc) or doc
            (d / "model.json").write_text(json.dumps(doc))
        tensors = (WEIGHTS / f"{base}.safetensors").read_bytes()
        if tensors_edit is not None:
            from safetensors.numpy import load, save

            t = load(tensors)
            tensors_edit(t)
            tensors = save(t)
        if raw_tensors is not None:
            tensors = raw_tensors(tensors)
        (d / "model.safetensors").write_bytes(tensors)
        return d


# ---------------------------------------------------------------------------------------------------------
# the corpus


@dataclass
class Case:
    name: str  # TASK/what
    what: str
    expect: tuple[int, ...]
    make: Callable[[Ctx], list[Arg]]

    @property
    def task(self) -> str:
        return self.name.split("/")[0]


# fmt: off
# Files: name, what, exit codes when given alone, file name, content ---------------------------------------
PHOTOS: list[tuple[str, str, tuple[int, ...], str, Content]] = [
    ("truncated-jpeg", "real photo cut in half", OK01, "cut.jpg", lambda: half(real_photo())),
    ("corrupt-jpeg", "real photo, middle random", OK01, "bad.jpg", lambda: scrambled(real_photo())),
    ("jpeg-garbage", "JPEG magic + 4 KB random", OK01, "g.jpg", lambda: b"\xff\xd8\xff\xe0" + random_bytes(4096)),
    ("truncated-png", "PNG photo cut in half", OK01, "cut.png", lambda: half(photo_as("PNG"))),
    ("corrupt-png", "PNG signature + random", OK01, "bad.png", lambda: PNG_SIG + random_bytes(4096)),
    ("text-as-jpg", "text named .jpg", OK01, "t.jpg", b"hello, not a photo\n"),
    ("empty-jpg", "0-byte .jpg", OK01, "e.jpg", b""),
    ("empty-png", "0-byte .png", OK01, "e.png", b""),
    ("bomb-header-png", "PNG header 100000x100000", OK01, "bomb.png", lambda: bomb_header_png()),
    ("bomb-png", "valid 12000x12000 PNG (144 MP)", OK01, "big.png", lambda: bomb_png()),
    ("png-16bit", "16-bit RGB PNG of a photo", OK, "deep.png", lambda: photo_png16()),
    ("one-pixel-png", "1x1 PNG", OK01, "px.png", lambda: image_bytes(size=(1, 1))),
    ("cmyk-jpeg", "CMYK JPEG of a photo", OK, "cmyk.jpg", lambda: photo_as("JPEG", "CMYK")),
    ("png-named-jpg", "PNG photo named .jpg", OK, "p.jpg", lambda: photo_as("PNG")),
    ("fifo-jpg", "FIFO named x.jpg", OK01, "x.jpg", FIFO),
    ("dir-jpg", "folder named x.jpg", OK01, "x.jpg", DIR),
    ("broken-link-jpg", "broken symlink .jpg", OK01, "gone.jpg", Link("no-such-file.jpg")),
    ("link-loop-jpg", "symlink loop .jpg", OK01, "loop.jpg", LOOP),
    ("devzero-jpg", "z.jpg -> /dev/zero", OK01, "z.jpg", Link("/dev/zero")),
    ("link-etc-jpg", "h.jpg -> /etc/hostname", OK01, "h.jpg", Link("/etc/hostname")),
    ("non-utf8-name", "photo named b'h\\xffand.jpg'", OK, _p(b"h\xffand.jpg"), lambda: real_photo()),
    ("newline-name", "photo named 'a\\nb.jpg'", OK, "a\nb.jpg", lambda: real_photo()),
    ("tab-name", "photo named 'a\\tb.jpg'", OK, "a\tb.jpg", lambda: real_photo()),
    ("dash-name", "photo named '-x.jpg'", OK, "-x.jpg", lambda: real_photo()),
    ("unicode-name", "photo named 'mão ✋ foto 1.jpg'", OK, "mão ✋ foto 1.jpg", lambda: real_photo()),
    ("long-name", "photo with a 250-byte name", OK, "✋" * 82 + ".jpg", lambda: real_photo()),
]
PHOTO = {p[0]: p for p in PHOTOS}


def bad_photo(c: Ctx, kind: str, d: str = "in") -> Path:
    _, _, _, name, content = PHOTO[kind]
    return c.place(f"{d}/{name}", content)


def every_photo(c: Ctx, d: str, kinds: list[str] | None = None) -> list[Path]:
    """Every photo kind (or ``kinds``), each in its own sub-folder of ``d`` so that names never clash."""
    return [bad_photo(c, k, f"{d}/{i:02d}") for i, k in enumerate(kinds or PHOTO)]


def _nan_clip() -> np.ndarray:
    a = _word_sequences()[1].copy()
    a[::2] = np.nan
    a[1, :10] = np.inf
    return a


CLIPS: list[tuple[str, str, str, Content]] = [  # (--model words) name, what, file name, content
    ("npy-zero-length", "(0, 258) .npy", "zero.npy", lambda: npy_bytes(np.zeros((0, 258), "f4"))),
    ("npy-empty-file", "0-byte .npy", "empty.npy", b""),
    ("npy-truncated", ".npy cut in half", "cut.npy", lambda: half(npy_bytes(_word_sequences()[0]))),
    ("npy-object-pickle", "object-dtype .npy (a pickle)", "obj.npy", lambda: npy_bytes(np.array([_Marker()]), True)),
    ("npy-width-7", "(30, 7) .npy", "w7.npy", lambda: npy_bytes(np.ones((30, 7), "f4"))),
    ("npy-nan-frames", "(20, 258) with NaN and inf frames", "nan.npy", lambda: npy_bytes(_nan_clip())),
    ("npy-3d", "(1, 20, 258) .npy", "3d.npy", lambda: npy_bytes(_word_sequences()[:1])),
    ("npy-complex", "complex (20, 258) .npy", "cx.npy", lambda: npy_bytes(_word_sequences()[2].astype(np.complex64))),
    ("npy-huge-header", ".npy header claiming (10**12, 258)", "huge.npy", lambda: npy_header_only((10**12, 258))),
    ("npy-fifo", "FIFO named take.npy", "take.npy", FIFO),
    ("mp4-truncated", "real word video cut to 1/3", "cut.mp4", lambda: real_word_video()[:100_000]),
    ("mp4-garbage", "ftyp header + random .mp4", "bad.mp4", lambda: b"\0\0\0\x18ftypmp42isom" + random_bytes(8000)),
    ("mp4-empty", "0-byte .mp4", "empty.mp4", b""),
    ("mp4-text", "text named .mp4", "t.mp4", b"not a video\n"),
    ("mp4-fifo", "FIFO named clip.mp4", "clip.mp4", FIFO),
    ("mp4-dir", "folder named clip.mp4", "clip.mp4", DIR),
]
CLIP = {x[0]: x for x in CLIPS}


def bad_clip(c: Ctx, kind: str, d: str = "in") -> Path:
    _, _, name, content = CLIP[kind]
    return c.place(f"{d}/{name}", content)


def good_clip(c: Ctx, rel: str = "clip.npy", k: int = 0) -> Path:
    return c.write(rel, npy_bytes(_word_sequences()[k % 8]))


def clip_npz(c: Ctx, rel: str = "s.npz", **arrays) -> Path:
    return c.write(rel, npz_bytes(**arrays))


def _pickled_labels_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, sequences=_word_sequences()[:4], label=np.array([_Marker()] * 4, dtype=object))
    return buf.getvalue()


_seqs, _hello = _word_sequences, lambda n: np.array(["hello"] * n)
NPZS: list[tuple[str, str, tuple[int, ...], Callable[[Ctx], Path]]] = [  # clip sets for evaluate/train/benchmark
    ("npz-missing-keys", "npz without sequences", ERR, lambda c: clip_npz(c, x=np.ones(3))),
    ("npz-object-labels", "npz whose labels are a pickle", ERR, lambda c: c.write("s.npz", _pickled_labels_npz())),
    ("npz-length-mismatch", "npz 8 clips, 3 labels", ERR, lambda c: clip_npz(c, sequences=_seqs(), label=_hello(3))),
    ("npz-zero-clips", "npz (0, 20, 258)", ERR, lambda c: clip_npz(c, sequences=_seqs()[:0], label=_hello(0))),
    ("npz-nan", "npz of NaN clips", OK01, lambda c: clip_npz(c, sequences=_seqs()[:4] * np.nan, label=_hello(4))),
    ("npz-truncated", "npz cut in half", ERR, lambda c: c.write("s.npz", half(npz_bytes(sequences=_seqs())))),
    ("npz-empty-file", "0-byte .npz", ERR, lambda c: c.write("s.npz", b"")),
]
NPZ = {x[0]: x for x in NPZS}

# Box sets -------------------------------------------------------------------------------------------------
CSV_HEADER = "filename,width,height,class,xmin,ymin,xmax,ymax"
TRAVERSE = "../../../../etc/hostname"


def good_rows() -> list[str]:
    return [",".join(map(str, r)) for r in detection_rows()]


def row(k: int, **change) -> str:
    """Row k of the good rows, with some columns changed (``class_`` for class)."""
    d = dict(zip(CSV_HEADER.split(","), detection_rows()[k], strict=True))
    d.update({key.rstrip("_"): v for key, v in change.items()})
    return ",".join(map(str, d.values()))


def box_images(c: Ctx, sub: str = "images") -> Path:
    for r in detection_rows():
        c.write(f"set/{sub}/{r[0]}", detection_photo(r[0]))
    return c.d("set")


def box_csv(c: Ctx, rows: list[str] | None = None, header: str = CSV_HEADER, extra: dict | None = None) -> Path:
    """set/annotations.csv (the good rows, then ``rows``) + set/images/ (+ ``extra`` entries there)."""
    for name, content in (extra or {}).items():
        c.place(f"set/images/{name}", content)
    c.write("set/annotations.csv", "\n".join([header, *good_rows(), *(rows or [])]) + "\n")
    return box_images(c)


def box_csv_raw(c: Ctx, content: Content) -> Path:
    box_images(c)
    c.place("set/annotations.csv", content)
    return c.d("set")


def coco(c: Ctx, images: list | None = None, anns: list | None = None, cats: list | None = None, doc=None) -> Path:
    """set/annotations.json: the good boxes plus ``images``/``anns`` (or ``doc`` as it is) + set/images/."""
    if doc is None:
        ims, boxes = [], []
        for i, (name, w, h, cls, x0, y0, x1, y1) in enumerate(detection_rows()):
            ims.append({"id": i + 1, "file_name": name, "width": w, "height": h})
            bbox = [x0, y0, x1 - x0, y1 - y0]
            boxes.append({"id": i + 1, "image_id": i + 1, "category_id": ord(cls) - 65, "bbox": bbox})
        cats = (cats or []) + [{"id": i, "name": chr(65 + i)} for i in range(26)]
        doc = {"images": ims + (images or []), "annotations": boxes + (anns or []), "categories": cats}
    box_images(c)
    return c.write("set/annotations.json", doc if isinstance(doc, str) else json.dumps(doc))


def yolo(c: Ctx, yaml_text: str = "names: [" + ", ".join(map(chr, range(65, 91))) + "]\n", bad: str = "") -> Path:
    """set/data.yaml + set/labels/*.txt (``bad`` lines appended to the first) + set/images/."""
    for i, (name, w, h, cls, x0, y0, x1, y1) in enumerate(detection_rows()):
        line = f"{ord(cls) - 65} {(x0 + x1) / 2 / w} {(y0 + y1) / 2 / h} {(x1 - x0) / w} {(y1 - y0) / h}\n"
        c.write(f"set/labels/{Path(name).stem}.txt", line + (bad if i == 0 else ""))
    c.write("set/data.yaml", yaml_text)
    return box_images(c)


def voc_xml(filename: str, w: object = 416, h: object = 416, objects=(("A", 1, 1, 50, 50),), prolog: str = "") -> str:
    objs = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{x}</xmax><ymax>{y}</ymax></bndbox>"
        "</object>"
        for n, a, b, x, y in objects
    )
    size = f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
    return f"{prolog}<annotation><filename>{filename}</filename>{size}{objs}</annotation>"


def voc(c: Ctx, **extra: str) -> Path:
    """set/Annotations/*.xml (the good boxes + ``extra`` files) + set/JPEGImages/."""
    for name, _, _, cls, x0, y0, x1, y1 in detection_rows():
        c.write(f"set/Annotations/{Path(name).stem}.xml", voc_xml(name, objects=[(cls, x0, y0, x1, y1)]))
    for stem, text in extra.items():
        c.write(f"set/Annotations/{stem}.xml", text)
    return box_images(c, "JPEGImages")


LAUGHS = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
) + "]>"
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY ext SYSTEM "file:///etc/hostname">]>'
YAML_BOMB = "".join(
    f"{k}: &{k} [" + ", ".join([f"*{chr(ord(k) - 1)}" if k > "a" else '"lol"'] * 9) + "]\n" for k in "abcdefghi"
) + "names: *i\n"
_R = detection_rows

BOXES: list[tuple[str, str, tuple[int, ...], Callable[[Ctx], Path]]] = [
    ("csv-wrong-columns", "CSV with columns file,label,x,y", ERR,
     lambda c: box_csv_raw(c, f"file,label,x,y\n{_R()[0][0]},A,1,2\n")),
    ("csv-bad-numbers", "CSV corners NaN, inf, -5, 1e308, abc, empty", OK01, lambda c: box_csv(c, [
        row(0, xmin="nan"), row(0, xmax="inf"), row(1, xmin=-5, ymin=-5), row(1, xmax="1e308", ymax="1e308"),
        row(0, ymin="abc"), row(0, ymax=""), row(1, xmin=300, xmax=10)])),
    ("csv-huge-dims", "CSV width/height 10**12, -1, nan", OK01,
     lambda c: box_csv(c, [row(0, width=10**12, height=10**12), row(1, width=-1), row(1, height="nan")])),
    ("csv-unknown-labels", "CSV classes FOO, emoji", OK01,
     lambda c: box_csv(c, [row(0, class_="FOO"), row(1, class_="✋")])),
    ("csv-empty-class", "CSV empty and blank class", OK01,
     lambda c: box_csv(c, [row(0, class_=""), row(1, class_=" ")])),
    ("csv-traversal", f"CSV names {TRAVERSE}, /etc/hostname", OK01, lambda c: box_csv(c, [
        row(0, filename=TRAVERSE), row(0, filename="/etc/hostname"), row(1, filename="images/../../../x.jpg")])),
    ("csv-only-traversal", "CSV whose only row is /etc/hostname", ERR,
     lambda c: box_csv_raw(c, f"{CSV_HEADER}\n{row(0, filename='/etc/hostname')}\n")),
    ("csv-bomb-no-size", "CSV without width/height listing bomb PNGs", OK01,
     lambda c: (c.write("set/images/bomb.png", bomb_header_png()), c.write("set/images/big.png", bomb_png()),
                box_csv_raw(c, "filename,class,xmin,ymin,xmax,ymax\n" + "".join(
                    f"{r[0]},{r[3]},{r[4]},{r[5]},{r[6]},{r[7]}\n" for r in _R()) + "bomb.png,A,1,1,50,50\n"
                    "big.png,B,1,1,50,50\n"))[2]),
    ("csv-fifo", "annotations.csv is a FIFO", ERR, lambda c: box_csv_raw(c, FIFO)),
    ("csv-fifo-image", "CSV listing a FIFO x.jpg", OK01,
     lambda c: box_csv(c, ["x.jpg,416,416,A,1,1,50,50"], extra={"x.jpg": FIFO})),
    ("csv-devzero-image", "CSV listing z.jpg -> /dev/zero", OK01,
     lambda c: box_csv(c, ["z.jpg,416,416,A,1,1,50,50"], extra={"z.jpg": Link("/dev/zero")})),
    ("csv-link-loop-image", "CSV listing a symlink loop", OK01,
     lambda c: box_csv(c, ["l.jpg,416,416,A,1,1,50,50"], extra={"l.jpg": LOOP})),
    ("csv-empty", "0-byte annotations.csv", ERR, lambda c: box_csv_raw(c, b"")),
    ("csv-binary", "annotations.csv of random bytes", ERR, lambda c: box_csv_raw(c, lambda: random_bytes(3000))),
    ("coco-traversal", f"COCO file_name {TRAVERSE}, /etc/hostname", OK01, lambda c: coco(
        c, [{"id": 10, "file_name": TRAVERSE, "width": 9, "height": 9}, {"id": 11, "file_name": "/etc/hostname"}],
        [{"id": 10, "image_id": 10, "category_id": 0, "bbox": [1, 1, 5, 5]}])),
    ("coco-wrong-types", "COCO ids lists, bbox strings, width 'abc'", OK01, lambda c: coco(
        c,
        [{"id": [1], "file_name": "x.jpg"}, {"id": 20, "file_name": 5}, "not an object",
         {"id": 21, "file_name": _R()[0][0], "width": "abc"}, {"id": 22, "file_name": _R()[1][0], "width": 1e300}],
        [{"id": 30, "image_id": 1, "category_id": 0, "bbox": "1,2,3,4"}, [1, 2],
         {"id": 31, "image_id": 1, "category_id": {"x": 1}, "bbox": [1, 2, 3, 4]},
         {"id": 32, "image_id": 2, "category_id": 1, "bbox": ["a", None, 3, 4]},
         {"id": 33, "image_id": 2, "category_id": 1, "bbox": [1, 2, float("nan"), 1e400]}],
        [{"id": None, "name": 3}, {"id": 99, "name": []}, "x"])),
    ("coco-not-coco", "COCO `images` is a dict", ERR,
     lambda c: coco(c, doc={"images": {"a": 1}, "annotations": [], "categories": []})),
    ("coco-json-list", "COCO .json that is a list", ERR, lambda c: coco(c, doc=[1, 2, 3])),
    ("coco-deep-nesting", "COCO .json nested 100000 deep", ERR, lambda c: coco(c, doc="[" * 100_000)),
    ("yolo-names-dict", "YOLO names dict with keys a, b", ERR, lambda c: yolo(c, "names:\n  a: A\n  b: B\n")),
    ("yolo-bad-labels", "YOLO rows nan, id 99, -1, text, w 1e9", OK01, lambda c: yolo(
        c, bad="0 nan 0.5 0.5 0.5\n99 0.5 0.5 0.2 0.2\n-1 0.5 0.5 0.2 0.2\nabc\n0 0.5 0.5 1e9 1e9\n")),
    ("yolo-yaml-bomb", "YOLO data.yaml alias bomb", OK01 + (2,), lambda c: yolo(c, YAML_BOMB)),
    ("voc-billion-laughs", "VOC XML billion laughs", OK01, lambda c: voc(c, lol=voc_xml("&lol9;", prolog=LAUGHS))),
    ("voc-external-entity", "VOC XML external entity file:///etc/hostname", OK01,
     lambda c: voc(c, ext=voc_xml("&ext;", objects=[("&ext;", 1, 1, 50, 50)], prolog=EXTERNAL))),
    ("voc-traversal", f"VOC filename {TRAVERSE}", OK01, lambda c: voc(c, trav=voc_xml(TRAVERSE))),
    ("voc-bad-numbers", "VOC bndbox nan, inf, size -1", OK01, lambda c: voc(
        c, nan=voc_xml(_R()[0][0], objects=[("A", "nan", 1, "inf", 50)]), neg=voc_xml(_R()[1][0], -1, "abc"))),
]
BOX = {x[0]: x for x in BOXES}


# Models ---------------------------------------------------------------------------------------------------
def _set(**kw):
    return lambda d: d.update(kw)


def _sub(key, **kw):
    return lambda d: d[key].update(kw)


def _labels(n):
    return lambda d: d.update(labels=d["labels"][:n])


def _reshape(key, shape):
    return lambda t: t.__setitem__(key, np.zeros(shape, t[key].dtype))


def _nan_all(t: dict) -> None:
    for k, v in t.items():
        if v.dtype.kind == "f":
            t[k] = np.full_like(v, np.nan)


def _fifo_json(c: Ctx) -> Path:
    d = c.model()
    (d / "model.json").unlink()
    c.fifo("model/model.json")
    return d


_PICKLE = pickle.dumps({"members.0.net.0.weight": _Marker()}, protocol=2)
MODELS: list[tuple[str, str, tuple[int, ...], Callable[[Ctx], Path]]] = [  # letters, unless named words-
    ("labels-2m", "2,000,000 labels", ERR, lambda c: c.model(json_edit=_set(labels=list(map(str, range(2 * 10**6)))))),
    ("labels-too-few", "5 labels for 29 outputs", ERR, lambda c: c.model(json_edit=_labels(5))),
    ("labels-not-strings", "labels numbers, null, lists", ERR,
     lambda c: c.model(json_edit=_set(labels=[0, None, [1], {"a": 1}, 2.5, True, *range(23)]))),
    ("labels-duplicate", "29 x the label A", ERR, lambda c: c.model(json_edit=_set(labels=["A"] * 29))),
    ("tensor-wrong-shape", "last layer (29,192) -> (7,5)", ERR,
     lambda c: c.model(tensors_edit=_reshape("members.0.net.8.weight", (7, 5)))),
    ("tensor-missing", "a tensor missing", ERR, lambda c: c.model(tensors_edit=lambda t: t.pop("feature_std"))),
    ("tensor-nan", "every weight NaN (a valid file)", OK01, lambda c: c.model(tensors_edit=_nan_all)),
    ("safetensors-truncated", "model.safetensors cut in half", ERR, lambda c: c.model(raw_tensors=half)),
    ("safetensors-empty", "0-byte model.safetensors", ERR, lambda c: c.model(raw_tensors=lambda b: b"")),
    ("safetensors-huge-header", "safetensors header length 2**62", ERR,
     lambda c: c.model(raw_tensors=lambda b: struct.pack("<Q", 2**62) + b[8:])),
    ("pickle-safetensors", "a pickle named model.safetensors", ERR, lambda c: c.model(raw_tensors=lambda b: _PICKLE)),
    ("kwargs-huge", "kwargs hidden=10**7", ERR, lambda c: c.model(json_edit=_sub("kwargs", hidden=10**7))),
    ("in-features-string", 'in_features "354"', ERR, lambda c: c.model(json_edit=_set(in_features="354"))),
    ("in-features-huge", "in_features 10**9", ERR, lambda c: c.model(json_edit=_set(in_features=10**9))),
    ("preprocessing-not-dict", 'preprocessing "abc"', ERR, lambda c: c.model(json_edit=_set(preprocessing="abc"))),
    ("json-not-object", "model.json is [1, 2, 3]", ERR, lambda c: c.model(raw_json=b"[1, 2, 3]")),
    ("json-invalid", "model.json cut", ERR, lambda c: c.model(raw_json=b'{"format": "aslkit-model", "labels": [')),
    ("architecture-unknown", 'architecture "nope"', ERR, lambda c: c.model(json_edit=_set(architecture="nope"))),
    ("architecture-not-string", "architecture {}", ERR, lambda c: c.model(json_edit=_set(architecture={"a": 1}))),
    ("format-version-999", "format_version 999", ERR, lambda c: c.model(json_edit=_set(format_version=999))),
    ("json-fifo", "model.json is a FIFO", ERR, _fifo_json),
    ("empty-dir", "an empty folder", ERR, lambda c: c.folder("model")),
    ("words-kwargs-dim-huge", "words, kwargs dim=10**7", ERR, lambda c: c.model("words", _sub("kwargs", dim=10**7))),
    ("words-labels-too-few", "words, 3 labels for 16 outputs", ERR,
     lambda c: c.model("words", _labels(3))),
    ("words-tensor-wrong-shape", "words, head (16,384) -> (3,3)", ERR,
     lambda c: c.model("words", tensors_edit=_reshape("head.1.weight", (3, 3)))),
    ("words-safetensors-truncated", "words, model.safetensors cut", ERR,
     lambda c: c.model("words", raw_tensors=lambda b: b[:5000])),
    ("words-length-zero", "words, preprocessing length 0", ERR,
     lambda c: c.model("words", _sub("preprocessing", length=0))),
    ("words-length-huge", "words, preprocessing length 10**9", ERR,
     lambda c: c.model("words", _sub("preprocessing", length=10**9))),
    ("words-layout-unknown", 'words, layout "nope"', ERR,
     lambda c: c.model("words", _sub("preprocessing", layout="nope"))),
]
MODEL = {x[0]: x for x in MODELS}


# Class folders --------------------------------------------------------------------------------------------
def _mixed(c: Ctx) -> Path:
    c.classes("ab", 2)
    every_photo(c, "set/A", ["truncated-jpeg", "text-as-jpg", "empty-jpg", "fifo-jpg", "dir-jpg", "broken-link-jpg"])
    every_photo(c, "set/B", ["link-loop-jpg", "devzero-jpg", "bomb-header-png", "bomb-png", "png-16bit"])
    bad_photo(c, "non-utf8-name", "set/B")
    return c.d("set")


def _no_images(c: Ctx) -> Path:
    c.write("set/A/readme.txt", "no photos here")
    c.write("set/B/data.csv", "a,b\n1,2\n")
    c.write("set/B/clip.npy", npy_bytes(np.ones(3)))
    return c.d("set")


def _link_loop(c: Ctx) -> Path:
    c.classes("ab", 2)
    c.link("set/A/again", "..")
    c.link("set/B/self", ".")
    return c.d("set")


def _weird_classes(c: Ctx) -> Path:
    for rel, letter in ((b"set/\xffA", "a"), ("set/tab\tB", "b"), ("set/-C", "c"), ("set/new\nline", "a")):
        for k in range(2):
            c.photo(f"{_p(rel)}/{k}.jpg", letter, k)
    return c.d("set")


FOLDERS: list[tuple[str, str, tuple[int, ...], Callable[[Ctx], Path]]] = [
    ("empty-folder", "empty folder", ERR, lambda c: c.folder("set")),
    ("no-images", "class folders of non-images", ERR, _no_images),
    ("one-class", "one class (3 photos)", OK01, lambda c: c.classes("a", 3)),
    ("mixed", "classes of good + bad files", OK01, _mixed),
    ("missing", "missing path", ERR, lambda c: c.d("no-such-folder")),
    ("flat-photos", "photos, no class folders", OK01, lambda c: c.photo("set/a.jpg").parent),
    ("link-loop", "class folders with links to . and ..", OK01, _link_loop),
    ("weird-class-names", "classes named \\xff, tab, -C, newline", OK01, _weird_classes),
]
FOLDER = {x[0]: x for x in FOLDERS}


def _clips_mixed(c: Ctx) -> Path:
    good_clip(c, "clips/hello/g0.npy", 0)
    good_clip(c, "clips/no/g1.npy", 1)
    for i, (k, _, name, content) in enumerate(CLIPS):
        if k.startswith("npy"):
            c.place(f"clips/{('hello', 'no')[i % 2]}/{name}", content)
    return c.d("clips")


def _clip_frames(c: Ctx) -> Path:
    for t in range(3):
        c.write(f"clips/hello/take1/{t}.npy", npy_bytes(np.ones(258, "f4")))
    c.write("clips/hello/take1/3.npy", npy_bytes(np.ones(7, "f4")))
    c.fifo("clips/hello/take2/0.npy")
    c.write("clips/no/take1/0.npy", b"")
    good_clip(c, "clips/no/g.npy", 2)
    return c.d("clips")


def _clip_videos(c: Ctx) -> Path:
    for k in ("mp4-truncated", "mp4-garbage", "mp4-text", "mp4-empty", "mp4-fifo"):
        bad_clip(c, k, f"vids/hello/{k}")
    c.video("vids/no/ok.avi")
    return c.d("vids")


def _dash_bare(c: Ctx) -> list[Arg]:
    c.photo("-x.jpg")
    c.cwd = c.data
    return ["predict", "-x.jpg"]


def _out_root(make: Callable[[Ctx], list[Arg]]) -> Callable[[Ctx], list[Arg]]:
    def with_root(c: Ctx) -> list[Arg]:
        c.watch_root = True
        return make(c)

    return with_root


def build_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, what: str, expect: tuple[int, ...], make: Callable[[Ctx], list[Arg]]) -> None:
        cases.append(Case(name, what, tuple(expect), make))

    def words_clips(c: Ctx) -> Path:
        return clip_npz(c, sequences=_seqs(), label=_hello(8))

    # controls: these must work
    add("models/control", "(none)", OK, lambda c: ["models", "--json"])
    add("predict/control-photo", "one real photo", OK, lambda c: ["predict", c.photo()])
    add("train/control-npz", "60 landmark rows, epochs=1", OK,
        lambda c: ["train", c.write("lm.npz", small_landmark_npz()), "--out", c.o("run"), "epochs=1"])
    add("predict/unknown-task", "(none)", (2,), lambda c: ["frobnicate"])

    # files
    for k, what, expect, _, _ in PHOTOS:
        add(f"predict/{k}", what, expect, lambda c, k=k: ["predict", bad_photo(c, k)])
    add("predict/dash-name-bare", "'-x.jpg' given bare, beside it", (0, 1, 2), _dash_bare)
    add("predict/batch-all-kinds", "every photo kind + 1 good", OK,
        lambda c: ["predict", c.photo("good.jpg"), *every_photo(c, "in"), "--json"])
    add("detect/folder-all-kinds", "folder: every photo kind + 1 good", OK,
        lambda c: (c.photo("in/good.jpg"), every_photo(c, "in"), ["detect", c.d("in"), "--out", c.o("det")])[2])
    for k in ("fifo-jpg", "devzero-jpg", "bomb-header-png", "bomb-png", "link-loop-jpg", "non-utf8-name"):
        add(f"detect/{k}", PHOTO[k][1], PHOTO[k][2], lambda c, k=k: ["detect", bad_photo(c, k), "--json"])
    for k in ("mp4-truncated", "mp4-fifo", "mp4-text", "mp4-empty"):
        add(f"detect/{k}", CLIP[k][1], OK01, lambda c, k=k: ["detect", bad_clip(c, k), "--json"])

    # class folders
    for k, what, expect, mk in FOLDERS:
        add(f"predict/folder-{k}", what, OK if k == "mixed" else expect, lambda c, mk=mk: ["predict", mk(c)])
        add(f"evaluate/{k}", what, expect, lambda c, mk=mk: ["evaluate", mk(c), "--report", c.o("rep")])
        add(f"train/{k}", what, expect, lambda c, mk=mk: ["train", mk(c), "--out", c.o("run"), "epochs=1"])
        add(f"audit/{k}", what, expect, lambda c, mk=mk: ["audit", mk(c), "--out", c.o("audit"), "--folds", "0"])
        add(f"extract/{k}", what, expect, lambda c, mk=mk: ["extract", mk(c), "--out", c.o("shards")])
        add(f"augment/{k}", what, expect, lambda c, mk=mk: ["augment", mk(c), "--preview", c.o("aug.png")])
    for k in ("empty-folder", "one-class", "mixed"):
        _, what, expect, mk = FOLDER[k]
        add(f"compare/{k}", what, expect,
            lambda c, mk=mk: ["compare", mk(c), "--models", "landmark-mlp-tiny", "--out", c.o("cmp")])
    add("export/data-mixed", "--data classes of good + bad files", OK01,
        lambda c: ["export", "letters", "--out", c.o("m.onnx"), "--data", _mixed(c)])

    # box sets
    for i, (k, what, expect, mk) in enumerate(BOXES):
        to = ("coco", "yolo", "voc", "csv")[i % 4]
        add(f"convert/{k}", what, expect, lambda c, mk=mk, to=to: ["convert", mk(c), "--to", to, "--out", c.o("conv")])
        add(f"evaluate-detection/{k}", what, expect, lambda c, mk=mk: ["evaluate-detection", mk(c), "--json"])
    for k in ("csv-bad-numbers", "csv-traversal", "csv-bomb-no-size", "csv-fifo-image", "coco-wrong-types",
              "voc-billion-laughs"):
        _, what, expect, mk = BOX[k]
        add(f"audit/{k}", what, expect, lambda c, mk=mk: ["audit", mk(c), "--out", c.o("audit"), "--folds", "0"])
    for k in ("csv-bad-numbers", "csv-traversal", "csv-bomb-no-size", "csv-fifo-image", "csv-devzero-image"):
        _, what, expect, mk = BOX[k]
        add(f"evaluate/{k}", what, expect, lambda c, mk=mk: ["evaluate", mk(c)])
        add(f"train/{k}", what, expect, lambda c, mk=mk: ["train", mk(c), "--out", c.o("run"), "epochs=1"])
    add("convert/out-inside-data", "--out inside the box set", ERR,
        lambda c: ["convert", box_csv(c), "--to", "coco", "--out", c.d("set/coco")])
    add("convert/out-existing-file", "--out an existing file", ERR,
        lambda c: ["convert", box_csv(c), "--to", "coco", "--out", c.write("exists.txt", "keep")])
    add("convert/out-root", "--out /", ERR, _out_root(lambda c: ["convert", box_csv(c), "--to", "yolo", "--out", "/"]))
    add("convert/from-mismatch", "--from voc on a CSV set", ERR,
        lambda c: ["convert", box_csv(c), "--from", "voc", "--to", "coco", "--out", c.o("x")])
    add("convert/link-fifo", "--link, a FIFO listed", OK01,
        lambda c: ["convert", BOX["csv-fifo-image"][3](c), "--to", "csv", "--out", c.o("conv"), "--link"])
    add("evaluate-detection/report-existing-file", "--report an existing file", ERR,
        lambda c: ["evaluate-detection", box_csv(c), "--report", c.write("exists.txt", "keep")])
    add("evaluate-detection/iou-2", "--iou 2 --conf -1", ERR,
        lambda c: ["evaluate-detection", box_csv(c), "--iou", "2", "--conf", "-1"])

    # clips
    for k, what, _, _ in CLIPS:
        add(f"predict/words-{k}", what, OK01, lambda c, k=k: ["predict", bad_clip(c, k), "--model", "words"])
    add("predict/words-avi-one-frame", "1-frame 96x96 MJPG .avi", OK01,
        lambda c: ["predict", c.video("one.avi", frames=1), "--model", "words"])
    add("predict/words-batch-all", "every clip kind + 1 good", OK,
        lambda c: ["predict", good_clip(c), *[bad_clip(c, k, f"in/{k}") for k in CLIP], "--model", "words"])
    add("evaluate/words-clips-mixed", "clip folder: every bad .npy + 2 good", OK01,
        lambda c: ["evaluate", _clips_mixed(c), "--model", "words"])
    add("evaluate/words-frame-folders", "<sign>/<take>/<frame>.npy, bad frames", OK01,
        lambda c: ["evaluate", _clip_frames(c), "--model", "words"])
    add("evaluate/words-video-folder", "video folder: bad mp4s + 1 good", OK01,
        lambda c: ["evaluate", _clip_videos(c), "--model", "words"])
    for k, what, expect, mk in NPZS:
        add(f"evaluate/words-{k}", what, expect, lambda c, mk=mk: ["evaluate", mk(c), "--model", "words"])
    for k in ("npz-nan", "npz-length-mismatch", "npz-object-labels"):
        _, what, expect, mk = NPZ[k]
        add(f"train/seq-{k}", what, expect,
            lambda c, mk=mk: ["train", mk(c), "--model", "seq-tcn", "--out", c.o("run"), "epochs=1"])
    for k in ("npz-length-mismatch", "npz-zero-clips"):
        _, what, expect, mk = NPZ[k]
        add(f"benchmark/words-{k}", what, expect, lambda c, mk=mk: ["benchmark", "--model", "words", "--data", mk(c)])
    add("benchmark/words-clips-zero", "--clips 0 --frames 0", ERR,
        lambda c: ["benchmark", "--model", "words", "--clips", "0", "--frames", "0"])

    # models
    for k, what, expect, mk in MODELS:
        first = good_clip if k.startswith("words-") else Ctx.photo
        add(f"predict/model-{k}", what, expect, lambda c, mk=mk, first=first: ["predict", first(c), "--model", mk(c)])
    for k in ("labels-2m", "labels-too-few", "labels-not-strings", "tensor-wrong-shape", "tensor-missing",
              "safetensors-truncated", "pickle-safetensors", "kwargs-huge", "in-features-string",
              "preprocessing-not-dict", "json-not-object", "words-kwargs-dim-huge", "words-length-huge",
              "words-tensor-wrong-shape"):
        _, what, expect, mk = MODEL[k]
        add(f"export/model-{k}", what, expect, lambda c, mk=mk: ["export", mk(c), "--out", c.o("m.onnx")])
    for k in ("labels-too-few", "tensor-wrong-shape", "kwargs-huge", "preprocessing-not-dict", "json-not-object",
              "pickle-safetensors"):
        _, what, expect, mk = MODEL[k]
        add(f"evaluate/model-{k}", what, expect, lambda c, mk=mk: ["evaluate", c.classes("a", 2), "--model", mk(c)])
        add(f"detect/model-{k}", what, expect, lambda c, mk=mk: ["detect", c.photo(), "--model", mk(c)])
    _, what, expect, mk = MODEL["words-length-zero"]
    add("evaluate/model-words-length-zero", what, expect,
        lambda c, mk=mk: ["evaluate", words_clips(c), "--model", mk(c)])
    add("predict/model-missing", "--model a missing folder", ERR,
        lambda c: ["predict", c.photo(), "--model", c.d("no")])
    add("predict/model-devzero", "--model /dev/zero", ERR, lambda c: ["predict", c.photo(), "--model", "/dev/zero"])
    add("predict/model-etc", "--model ../../../../etc", ERR,
        lambda c: ["predict", c.photo(), "--model", "../../../../etc"])
    add("predict/model-json-path", "--model RUN/model.json (the file)", OK01,
        lambda c: ["predict", c.photo(), "--model", c.model() / "model.json"])
    add("export/name-unknown", "export nope", ERR, lambda c: ["export", "nope", "--out", c.o("m.onnx")])
    add("export/out-existing-file", "--out an existing file", ERR,
        lambda c: ["export", "letters", "--out", c.write("exists.onnx", "keep me")])

    # options and outputs
    def train_opt(name: str, what: str, *extra: str, expect: tuple[int, ...] = ERR) -> None:
        add(f"train/{name}", what, expect,
            lambda c: ["train", c.write("lm.npz", small_landmark_npz()), "--out", c.o("run"), *extra])

    train_opt("epochs-negative", "epochs=-1", "epochs=-1")
    train_opt("epochs-text", "epochs=abc", "epochs=abc")
    train_opt("lr-nan", "lr=nan", "lr=nan", "epochs=1")
    train_opt("split-abc", "split=abc", "split=abc", "epochs=1")
    train_opt("split-sum", "split=0.5,0.5,0.5", "split=0.5,0.5,0.5", "epochs=1")
    train_opt("unknown-option", "--no-such-option 1", "--no-such-option", "1", "epochs=1")
    train_opt("batch-zero", "batch_size=0", "batch_size=0", "epochs=1")
    train_opt("model-unknown", "--model nope", "--model", "nope", "epochs=1")
    train_opt("holdout-nobody", "--holdout nobody (no signers)", "--holdout", "nobody", "epochs=1")
    add("train/resume-not-a-run", "--resume a photo folder", ERR, lambda c: ["train", "--resume", c.classes("a", 1)])
    add("train/resume-missing", "--resume a missing folder", ERR, lambda c: ["train", "--resume", c.d("nope")])
    add("train/out-inside-data", "--out inside the data", ERR,
        lambda c: ["train", c.classes("abc", 2), "--out", c.d("set/run"), "epochs=1"])
    add("train/out-root", "--out /", ERR,
        _out_root(lambda c: ["train", c.write("lm.npz", small_landmark_npz()), "--out", "/", "epochs=1"]))
    add("train/out-existing-file", "--out an existing file", ERR,
        lambda c: ["train", c.write("lm.npz", small_landmark_npz()), "--out", c.write("exists.txt", "k"), "epochs=1"])
    add("evaluate/report-existing-file", "--report an existing file", ERR,
        lambda c: ["evaluate", c.classes("a", 2), "--report", c.write("exists.txt", "keep")])
    add("evaluate/report-inside-data", "--report inside the data", ERR,
        lambda c: ["evaluate", c.classes("a", 2), "--report", c.d("set/rep")])
    add("evaluate/group-pattern-bad", "--group-pattern '('", ERR,
        lambda c: ["evaluate", c.classes("a", 2), "--group-pattern", "("])
    add("predict/top-k-negative", "--top-k -1", OK01 + (2,), lambda c: ["predict", c.photo(), "--top-k", "-1"])
    add("predict/workers-zero", "--workers 0", OK01 + (2,), lambda c: ["predict", c.photo(), "--workers", "0"])
    add("predict/workers-negative", "--workers -5", ERR, lambda c: ["predict", c.photo(), "--workers", "-5"])
    add("predict/cache-dir-is-file", "--cache-dir an existing file", OK01,
        lambda c: ["predict", c.photo(), "--cache-dir", c.write("cache.txt", "x")])
    add("predict/views-bad", "--views 3", (2,), lambda c: ["predict", c.photo(), "--views", "3"])
    add("detect/out-inside-data", "--out inside the input folder", ERR,
        lambda c: ["detect", c.classes("a", 2), "--out", c.d("set/det")])
    add("detect/out-existing-file", "--out an existing file", ERR,
        lambda c: ["detect", c.photo(), "--out", c.write("exists.txt", "keep me")])
    add("detect/conf-nan", "--conf nan", ERR, lambda c: ["detect", c.photo(), "--conf", "nan"])
    add("detect/every-zero", "--every 0", ERR, lambda c: ["detect", c.video("v.avi"), "--every", "0"])
    add("augment/preview-existing-file", "--preview an existing file", ERR,
        lambda c: ["augment", c.classes("ab", 1), "--preview", c.write("exists.png", image_bytes())])
    add("augment/preview-inside-data", "--preview inside the data", ERR,
        lambda c: ["augment", c.classes("ab", 1), "--preview", c.d("set/A/aug.png")])
    add("augment/per-image-huge", "--per-image 1000000", ERR,
        lambda c: ["augment", c.classes("ab", 1), "--preview", c.o("a.png"), "--per-image", "1000000"])
    add("augment/n-negative", "--n -3", ERR,
        lambda c: ["augment", c.classes("ab", 1), "--preview", c.o("a.png"), "--n", "-3"])
    add("augment/unknown-op", "--ops nope", ERR,
        lambda c: ["augment", c.classes("ab", 1), "--preview", c.o("a.png"), "--ops", "nope"])
    add("audit/out-existing-file", "--out an existing file", ERR,
        lambda c: ["audit", c.classes("ab", 2), "--out", c.write("exists.txt", "keep"), "--no-landmarks"])
    add("audit/out-inside-data", "--out inside the data", ERR,
        lambda c: ["audit", c.classes("ab", 2), "--out", c.d("set/audit"), "--no-landmarks"])
    add("audit/out-root", "--out /", ERR,
        _out_root(lambda c: ["audit", c.classes("ab", 2), "--out", "/", "--no-landmarks"]))
    add("audit/folds-negative", "--folds -2", ERR,
        lambda c: ["audit", c.classes("ab", 2), "--folds", "-2", "--out", c.o("a")])
    add("extract/out-inside-data", "--out inside the data", ERR,
        lambda c: ["extract", c.classes("ab", 2), "--out", c.d("set/shards")])
    add("extract/out-existing-file", "--out an existing file", ERR,
        lambda c: ["extract", c.classes("ab", 2), "--out", c.write("exists.txt", "keep")])
    add("extract/out-root", "--out /", ERR, _out_root(lambda c: ["extract", c.classes("ab", 1), "--out", "/"]))
    add("extract/workers-negative", "--workers -1", ERR,
        lambda c: ["extract", c.classes("ab", 1), "--out", c.o("s"), "--workers", "-1"])
    add("compare/out-existing-file", "--out an existing file", ERR,
        lambda c: ["compare", c.classes("ab", 2), "--models", "landmark-mlp-tiny", "--out", c.write("exists.txt", "k")])
    add("compare/test-missing", "--test other=MISSING", ERR, lambda c: [
        "compare", c.classes("ab", 2), "--models", "landmark-mlp-tiny", "--test", f"x={c.d('no')}", "--out", c.o("x")])
    add("compare/models-unknown", "--models nope", ERR,
        lambda c: ["compare", c.classes("ab", 2), "--models", "nope", "--out", c.o("cmp")])
    # found by fresh-user sessions (2026-12-02): each is one line and a non-zero exit, with nothing written
    add("evaluate/nothing-readable", "class folder of unreadable files", ERR,
        lambda c: ["evaluate", bad_photo(c, "empty-jpg", "bad/A").parent.parent, "--report", c.o("rep")])
    add("export/check-data-unreadable", "--data of unreadable files", ERR,
        lambda c: ["export", "letters", "--out", c.o("m.onnx"), "--data",
                   bad_photo(c, "text-as-jpg", "bad/A").parent.parent])  # fmt: skip
    add("train/data-twice", "the same folder twice", ERR,
        lambda c: ["train", c.classes("ab", 2), c.d("set"), "--out", c.o("run")])
    add("train/cache-inside-data", "--cache-dir inside the data", ERR,
        lambda c: ["train", c.classes("ab", 2), "--cache-dir", c.d("set/cache"), "--out", c.o("run")])
    add("train/out-empty-name", "--out ''", ERR, lambda c: ["train", c.classes("ab", 2), "--out", ""])
    # a third round (2026-12-02): settings files that never end, values that crashed or read a typo as false
    add("predict/cfg-fifo", "cfg= a FIFO", ERR, lambda c: ["predict", c.photo(), f"cfg={c.fifo('s.toml')}"])
    add("predict/cfg-dev-zero", "cfg= a link to /dev/zero", ERR,
        lambda c: ["predict", c.photo(), f"cfg={c.link('z.toml', '/dev/zero')}"])
    add("train/seed-negative", "seed=-1", ERR, lambda c: ["train", c.classes("ab", 2), "--out", c.o("run"), "seed=-1"])
    add("train/bool-typo", "class_weights=maybe", ERR,
        lambda c: ["train", c.classes("ab", 2), "--out", c.o("run"), "class_weights=maybe"])
    add("train/model-kwargs-list", "model_kwargs=[1]", ERR,
        lambda c: ["train", c.classes("ab", 2), "--out", c.o("run"), "model_kwargs=[1]"])
    add("train/model-kwargs-huge", 'model_kwargs={"hidden": 10**9}', ERR,
        lambda c: ["train", c.classes("ab", 2), "--out", c.o("run"), 'model_kwargs={"hidden": 1000000000}'])
    add("export/out-empty-name", "--out ''", ERR, lambda c: ["export", "letters", "--out", ""])
    add("compare/models-twice", "--models a,a", ERR,
        lambda c: ["compare", c.classes("ab", 2), "--models", "landmark-mlp,landmark-mlp", "--out", c.o("cmp")])
    add("transcribe/decoder-bogus", "decoder=bogus", ERR, lambda c: ["transcribe", c.video("v.mp4"), "decoder=bogus"])
    add("audit/folds-one", "--folds 1", ERR,
        lambda c: ["audit", c.classes("ab", 2), "--folds", "1", "--out", c.o("a")])
    add("evaluate-spelling/truth-without-letters", "a video named 123.mp4", ERR,
        lambda c: ["evaluate-spelling", c.video("123.mp4"), "--report", c.o("rep")])
    add("live/camera-99", "--source 99 (no such camera)", ERR, lambda c: ["live", "--source", "99", "--no-window"])
    add("live/source-missing", "--source a missing file", ERR,
        lambda c: ["live", "--source", c.d("no.mp4"), "--no-window"])
    for k in ("mp4-garbage", "mp4-empty", "mp4-fifo", "mp4-text"):
        add(f"live/source-{k}", CLIP[k][1], ERR, lambda c, k=k: ["live", "--source", bad_clip(c, k), "--no-window"])
    add("live/out-existing-file", "--out an existing file", ERR,
        lambda c: ["live", "--source", c.video("v.avi"), "--no-window", "--out", c.write("exists.mp4", "keep")])
    add("live/transcript-existing-file", "--transcript an existing file", ERR,
        lambda c: ["live", "--source", c.video("v.avi"), "--no-window", "--transcript", c.write("exists.txt", "keep")])
    add("serve/port-99999", "--port 99999", ERR, lambda c: ["serve", "--port", "99999"])
    add("serve/port-negative", "--port -1", ERR, lambda c: ["serve", "--port", "-1"])
    add("serve/port-text", "--port abc", ERR, lambda c: ["serve", "--port", "abc"])
    add("serve/host-bad", "--host 256.1.1.1", ERR, lambda c: ["serve", "--host", "256.1.1.1", "--port", "7999"])
    for k in ("mp4-garbage", "mp4-empty", "mp4-text"):
        add(f"benchmark/source-{k}", CLIP[k][1], ERR, lambda c, k=k: ["benchmark", "--source", bad_clip(c, k)])
    add("benchmark/source-missing", "--source a missing file", ERR, lambda c: ["benchmark", "--source", c.d("no.mp4")])
    add("benchmark/data-empty", "--data an empty folder", ERR, lambda c: ["benchmark", "--data", c.folder("empty")])

    def spell(name: str, what: str, word: str, *extra: str, out: Callable[[Ctx], Arg] = lambda c: c.o("v.mp4")) -> None:
        add(f"make-spelling-video/{name}", what, ERR,
            lambda c: ["make-spelling-video", word, "--data", c.classes("a", 2), "--out", out(c), *extra])

    spell("letters-missing", "HELLO with only A photos", "HELLO")
    spell("word-empty", "an empty word", "")
    spell("word-symbols", "word '../$(x)'", "../$(x)")
    spell("out-existing-file", "--out an existing file", "A", out=lambda c: c.write("exists.mp4", "keep"))
    spell("out-inside-data", "--out inside the data", "A", out=lambda c: c.d("set/A/v.mp4"))
    spell("out-txt", "--out x.txt", "A", out=lambda c: c.o("v.txt"))
    spell("fps-zero", "--fps 0", "A", "--fps", "0")
    spell("hold-negative", "--hold -1", "A", "--hold", "-1")
    return cases


# fmt: on

# ---------------------------------------------------------------------------------------------------------
# snapshots


def _sha(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "not-regular"
        h = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


def snapshot(root: Path) -> dict[str, tuple]:
    """path -> (type, size, mtime, sha256 or link target); never follows links, never opens a FIFO."""
    seen: dict[str, tuple] = {}

    def walk(p: Path, rel: str) -> None:
        try:
            st = os.lstat(p)
        except OSError:
            return
        mode, perm = st.st_mode, stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(mode):
            seen[rel] = ("dir", perm)
            try:
                names = sorted(os.listdir(p))
            except OSError:
                return
            for n in names:
                walk(p / n, f"{rel}/{n}")
        elif stat.S_ISREG(mode):
            seen[rel] = ("file", perm, st.st_size, st.st_mtime_ns, _sha(p))
        elif stat.S_ISLNK(mode):
            seen[rel] = ("link", os.readlink(p))
        elif stat.S_ISFIFO(mode):
            seen[rel] = ("fifo", perm, st.st_mtime_ns)
        else:
            seen[rel] = ("other", mode)

    walk(root, ".")
    return seen


def root_names() -> set[str]:
    return set(os.listdir("/"))


# ---------------------------------------------------------------------------------------------------------
# running


def shown(text: str, limit: int | None = None) -> str:
    """Printable on one line: control characters escaped, undecodable bytes as \\xNN."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif not ch.isprintable():
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    s = "".join(out)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _session_procs(sid: int) -> dict[int, int]:
    """pid -> resident bytes of every process in session ``sid``."""
    page = os.sysconf("SC_PAGE_SIZE")
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != b"Z":  # zombies hold nothing
            found[int(d)] = int(fields[21]) * page
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return shown(f.read().replace(b"\0", b" ").decode("utf-8", "surrogateescape").strip(), 80)
    except OSError:
        return "?"


def _kill_session(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for p in _session_procs(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)


@dataclass
class Result:
    case: Case
    args: list[str] = field(default_factory=list)  # shown
    rc: int | None = None
    outcome: str = ""  # exit / hang / memory / build-error
    seconds: float = 0.0
    message: str = ""
    stderr_tail: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)  # processes still running after the command ended
    tb_in_stderr: bool = False
    pickle_ran: bool = False

    @property
    def traceback(self) -> bool:
        return self.rc == 3 or self.tb_in_stderr

    @property
    def hang(self) -> bool:
        return self.outcome == "hang"

    @property
    def crash(self) -> bool:
        if self.outcome in ("memory", "output"):
            return True
        return self.outcome == "exit" and self.rc is not None and (self.rc < 0 or (self.rc >= 128 and self.rc != 130))

    @property
    def problems(self) -> list[str]:
        out = []
        if self.outcome == "build-error":
            out.append("corpus build failed")
        if self.traceback:
            out.append("traceback")
        if self.hang:
            out.append("hang")
        if self.crash:
            out.append("crash")
        if self.changed:
            out.append("changed input")
        if self.outcome == "exit" and self.rc not in self.case.expect and not self.traceback and not self.crash:
            out.append(f"exit {self.rc}, expected {'/'.join(map(str, self.case.expect))}")
        if self.pickle_ran:
            out.append("pickle ran")
        if self.strays:
            out.append(f"{len(self.strays)} process(es) left running: {'; '.join(self.strays)}")
        return out

    @property
    def exit_text(self) -> str:
        return {"hang": "hang", "memory": "mem", "output": "out", "build-error": "build"}.get(
            self.outcome, str(self.rc)
        )


class Runner:
    def __init__(self, workdir: Path, timeout: float, max_rss: float) -> None:
        self.workdir, self.timeout, self.max_rss = workdir, timeout, max_rss
        self.env = {k: v for k, v in os.environ.items() if k not in ("ASLKIT_DEBUG", "DISPLAY", "WAYLAND_DISPLAY")}
        self.env.update(
            ASLKIT_CACHE_DIR=str(workdir / "cache"),
            OMP_NUM_THREADS="1",
            MPLBACKEND="Agg",
            TMPDIR=str(workdir / "tmp"),
            GRADIO_ANALYTICS_ENABLED="False",
        )
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        self.running: set[int] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def case_dir(self, case: Case) -> Path:
        slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in case.name.replace("/", "__"))
        return self.workdir / "cases" / slug

    def build(self, case: Case) -> tuple[Ctx, list[Arg]]:
        d = self.case_dir(case)
        ctx = Ctx(d / "data", d / "out")
        ctx.data.mkdir(parents=True)
        ctx.out.mkdir(parents=True)
        return ctx, case.make(ctx)

    def display(self, ctx: Ctx, a: Arg) -> str:
        s = os.fsdecode(a) if isinstance(a, bytes) else str(a)
        for prefix, name in ((str(ctx.data), "DATA"), (str(ctx.out), "OUT")):
            if s == prefix or s.startswith(prefix + "/"):
                s = name + s[len(prefix) :]
        return shown(s)

    def run(self, case: Case, built: tuple[Ctx, list[Arg]] | None, error: str | None) -> Result:
        res = Result(case)
        if built is None:
            res.outcome, res.message = "build-error", shown(error or "", 200)
            return res
        ctx, args = built
        res.args = [self.display(ctx, a) for a in args]
        if self.stopping:
            res.outcome, res.message = "build-error", "not run (interrupted)"
            return res
        argv = [os.fsencode(str(a)) if not isinstance(a, bytes) else a for a in args]
        before = snapshot(ctx.data)
        root_before = root_names() if ctx.watch_root else set()
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        err_path = logs / (self.case_dir(case).name + ".stderr")
        out_path = logs / (self.case_dir(case).name + ".stdout")
        t0 = time.perf_counter()
        with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
            proc = subprocess.Popen(
                [sys.executable, "-m", "aslkit.cli", *argv],
                cwd=ctx.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=fo,
                stderr=fe,
                start_new_session=True,
            )
            with self.lock:
                self.running.add(proc.pid)
            outcome = "exit"
            try:
                while proc.poll() is None:
                    if time.perf_counter() - t0 > self.timeout:
                        outcome = "hang"
                    elif sum(_session_procs(proc.pid).values()) > self.max_rss:
                        outcome = "memory"
                    elif out_path.stat().st_size + err_path.stat().st_size > 200 << 20:
                        outcome = "output"  # would fill the disk
                    if outcome != "exit":
                        _kill_session(proc.pid)
                        proc.wait()
                        break
                    time.sleep(0.2)
                grace = time.perf_counter() + 3.0  # workers that are already on their way out
                while (left := _session_procs(proc.pid)) and time.perf_counter() < grace:
                    time.sleep(0.1)
                if left:
                    res.strays = [_cmdline(p) for p in left]
                    _kill_session(proc.pid)
            finally:
                with self.lock:
                    self.running.discard(proc.pid)
        res.seconds = time.perf_counter() - t0
        res.rc, res.outcome = proc.returncode, outcome
        err = err_path.read_bytes().decode("utf-8", "backslashreplace")
        out = out_path.read_bytes()
        for prefix, name in ((str(ctx.data), "DATA"), (str(ctx.out), "OUT"), (str(self.workdir), "WORK")):
            err = err.replace(prefix, name)
        lines = [line for line in err.splitlines() if line.strip()]
        res.stderr_tail = lines[-40:]
        res.tb_in_stderr = "Traceback" in err
        res.pickle_ran = MARKER in err or MARKER.encode() in out
        last = shown(lines[-1]) if lines else "-"
        if outcome == "hang":
            res.message = f"still running after {self.timeout:g} s, killed; last stderr: {last}"
        elif outcome == "memory":
            res.message = f"killed at {self.max_rss / 2**30:g} GiB resident memory; last stderr: {last}"
        elif outcome == "output":
            res.message = f"killed after 200 MB of output; last stderr: {last}"
        else:
            res.message = last
        after = snapshot(ctx.data)
        res.changed = sorted(shown(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
        if ctx.watch_root:
            res.changed += [f"/{shown(n)} (new in /)" for n in sorted(root_names() - root_before)]
        return res

    def kill_all(self) -> None:
        with self.lock:
            pids = list(self.running)
        for pid in pids:
            _kill_session(pid)


# ---------------------------------------------------------------------------------------------------------
# the report


def _cell(s: str, width: int) -> str:
    s = shown(s, width)
    return s + " " * (width - len(s))


COLUMNS = (("case", 36), ("input", 32), ("command", 50), ("exit", 4), ("message", 72), ("changed", 7))


def _row_values(r: Result) -> list[str]:
    cmd = " ".join(r.args) if r.args else r.case.task
    changed = f"yes ({len(r.changed)})" if r.changed else "no"
    return [r.case.name, r.case.what, cmd, r.exit_text, r.message, changed]


def text_table(results: list[Result]) -> str:
    lines = ["  ".join(_cell(n, w) for n, w in COLUMNS).rstrip()]
    lines.append("  ".join("-" * w for _, w in COLUMNS))
    for r in results:
        lines.append("  ".join(_cell(v, w) for v, (_, w) in zip(_row_values(r), COLUMNS, strict=True)).rstrip())
    return "\n".join(lines)


def _md(s: str) -> str:
    return shown(s).replace("|", "\\|").replace("`", "'")


def counts(results: list[Result]) -> dict[str, int]:
    return {
        "tracebacks": sum(r.traceback for r in results),
        "hangs": sum(r.hang for r in results),
        "crashes": sum(r.crash for r in results),
        "changed_inputs": sum(bool(r.changed) for r in results),
        "other_failures": sum(
            bool(r.problems) and not (r.traceback or r.hang or r.crash or r.changed) for r in results
        ),
    }


def failure_lines(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        if r.problems:
            out.append(f"- {r.case.name} [{', '.join(r.problems)}]: aslkit {' '.join(r.args)}")
            out.append(f"    exit {r.exit_text} in {r.seconds:.1f} s: {shown(r.message, 300)}")
            for c in r.changed[:5]:
                out.append(f"    changed: {c}")
    return out


def write_report(folder: Path, results: list[Result], summary: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    md = ["# aslkit hostile inputs", "", f"`{summary['command']}`", ""]
    md += [", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary["counts"].items())]
    md += [f"{summary['cases']} cases in {summary['wall_s']} s", ""]
    md += ["| " + " | ".join(n for n, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    md += ["| " + " | ".join(_md(v) for v in _row_values(r)) + " |" for r in results]
    fails = failure_lines(results)
    if fails:
        md += ["", "## Failures", "", "```", *fails, "```"]
    (folder / "hostile_inputs.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    rows = [
        {
            "case": r.case.name,
            "task": r.case.task,
            "input": r.case.what,
            "args": r.args,
            "expected_exit": list(r.case.expect),
            "exit": r.rc,
            "outcome": r.outcome,
            "seconds": round(r.seconds, 2),
            "message": r.message,
            "stderr_tail": [shown(x) for x in r.stderr_tail[-10:]],
            "changed": r.changed,
            "traceback": r.traceback,
            "hang": r.hang,
            "crash": r.crash,
            "problems": r.problems,
        }
        for r in results
    ]
    (folder / "hostile_inputs.json").write_text(json.dumps({**summary, "results": rows}, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="run cases whose name contains this (repeatable)")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds per command before it counts as a hang")
    ap.add_argument("--jobs", type=int, default=1, help="cases run at once")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--report", type=Path, help="new folder: hostile_inputs.md and hostile_inputs.json")
    ap.add_argument("--workdir", type=Path, help="new or empty folder for the corpus (kept; default: a temp folder)")
    ap.add_argument("--max-rss-gb", type=float, default=4.0, help="memory of one command (all its processes)")
    args = ap.parse_args()
    cases = build_cases()
    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"duplicate case names: {sorted(dupes)}")
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    if args.list:
        for c in cases:
            print(f"{c.name:48s} exit {'/'.join(map(str, c.expect)):6s} {c.what}")
        print(f"{len(cases)} cases", file=sys.stderr)
        return 0
    if not cases:
        raise SystemExit("no case matches --only")
    for folder, what in ((args.report, "--report"), (args.workdir, "--workdir")):
        if folder is not None and folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise SystemExit(f"{what} {folder}: must be a new or empty folder")
    if not SHARED.is_dir():
        print(f"warning: {SHARED} not found; photos and clips are synthetic", file=sys.stderr)
    workdir = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="aslkit-hostile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return run_all(args, cases, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def run_all(args: argparse.Namespace, cases: list[Case], workdir: Path) -> int:
    runner = Runner(workdir, args.timeout, args.max_rss_gb * 2**30)
    t0 = time.perf_counter()
    built: dict[str, tuple[tuple[Ctx, list[Arg]] | None, str | None]] = {}
    for c in cases:  # the whole corpus first, one thread
        try:
            built[c.name] = (runner.build(c), None)
        except Exception as exc:  # noqa: BLE001 - reported as a build error of this case
            built[c.name] = (None, f"{type(exc).__name__}: {exc}")
    print(f"corpus: {len(cases)} cases in {workdir} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    results: dict[str, Result] = {}
    pool = ThreadPoolExecutor(max(1, args.jobs))
    try:
        futs = [pool.submit(runner.run, c, *built[c.name]) for c in cases]
        for i, fut in enumerate(as_completed(futs), 1):
            r = fut.result()
            results[r.case.name] = r
            flag = f"  <- {', '.join(r.problems)}" if r.problems else ""
            print(f"[{i}/{len(cases)}] {r.case.name}: {r.exit_text} {r.seconds:.1f}s{flag}", file=sys.stderr)
    except KeyboardInterrupt:
        runner.stopping = True
        runner.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    wall = time.perf_counter() - t0
    ordered = [results[c.name] for c in cases]
    summary = {
        "command": " ".join(["python benchmarks/hostile_inputs.py", *sys.argv[1:]]),
        "cases": len(ordered),
        "wall_s": round(wall, 1),
        "timeout_s": args.timeout,
        "counts": counts(ordered),
    }
    kept = "" if args.workdir else " (removed at the end; --workdir keeps it)"
    print(f"DATA, OUT: a case's inputs and its working folder, {workdir}/cases/<case>/data, out{kept}")
    print(text_table(ordered))
    fails = failure_lines(ordered)
    if fails:
        print("\nfailures:")
        print("\n".join(fails))
    n = summary["counts"]
    print(
        f"\n{len(ordered)} cases in {wall:.0f} s: tracebacks {n['tracebacks']}, hangs {n['hangs']}, crashes "
        f"{n['crashes']}, changed inputs {n['changed_inputs']}; other failures (unexpected exit, pickle ran, "
        f"processes left) {n['other_failures']}"
    )
    if args.report:
        write_report(args.report, ordered, summary)
        print(f"report: {args.report / 'hostile_inputs.md'}, {args.report / 'hostile_inputs.json'}")
    return 1 if any(n[k] for k in ("tracebacks", "hangs", "crashes", "changed_inputs")) else 0


if __name__ == "__main__":
    sys.exit(main())
