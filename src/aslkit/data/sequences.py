"""Landmark sequences (one clip of a sign = T frames of landmarks) for word signs and moving letters.

Sources, all read without pickle:

* a ``.npz`` with ``sequences`` (N, T, F), ``label`` (N,) and optionally ``signer`` (N,);
* a folder ``<sign>/<take>/<frame>.npy`` (one (F,) vector per frame, frames in numeric order),
  ``<sign>/<take>.npy`` holding a whole (T, F) take, or ``<sign>/<take>.pose`` (pose-format's files, mapped
  by component and point names: see data.pose_files);
* a folder of videos ``<sign>/<take>.mp4`` (.avi, .mov, ...): pose + hands landmarks are extracted
  per frame with MediaPipe Holistic and cached by file content. That takes MediaPipe, so it is read one
  layer up, in landmarks.holistic, whose ``load_sequences`` reads any of these sources.

Per-frame feature layouts are named and checked by their width (see ``LAYOUTS``): hands only (126),
pose + hands (258), and the 1662-wide holistic layout, whose face block is dropped on reading so it
becomes pose + hands. Where a hand or the pose was not found, its block is all zeros; the zeros are
turned into masks here and never fed to a model as if they were coordinates.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from aslkit.data.csv_rows import read_csv_rows
from aslkit.data.npz import number_problem, read_npy, read_npz
from aslkit.data.pose_files import CANVAS, is_pose_path, pose_from_blocks, read_pose_file, require_pose_format
from aslkit.errors import DatasetError
from aslkit.labels import canonical_label, sort_labels
from aslkit.names import shown

POSE_POINTS, HAND_POINTS, FACE_POINTS = 33, 21, 468
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
MIN_FRAMES = 5  # a sign lasts a third of a second or more: fewer frames than this are not one, at any frame rate
POSE_GLOB = ".[pP][oO][sS][eE]"  # .pose takes, whatever the case of the suffix
MAX_COORDINATE = 1e6  # landmark coordinates are image fractions or metres: anything beyond is not one


@dataclass(frozen=True)
class Layout:
    """Where each block sits in one frame's flat feature vector (slices are [start, stop))."""

    name: str
    width: int
    pose: tuple[int, int] | None  # 33 x (x, y, z, visibility)
    left: tuple[int, int]  # 21 x (x, y, z)
    right: tuple[int, int]
    face: tuple[int, int] | None = None  # dropped on reading

    def __str__(self) -> str:
        return f"{self.name} ({self.width})"


HANDS = Layout("hands", 126, None, (0, 63), (63, 126))
POSE_HANDS = Layout("pose-hands", 258, (0, 132), (132, 195), (195, 258))
# MediaPipe Holistic's common flat order: pose 33x4, face 468x3, left hand, right hand
HOLISTIC = Layout("holistic", 1662, (0, 132), (1536, 1599), (1599, 1662), face=(132, 1536))
LAYOUTS = {lay.name: lay for lay in (HANDS, POSE_HANDS, HOLISTIC)}


def layout_for(width: int) -> Layout:
    """The layout of a frame ``width`` features wide; DatasetError naming the accepted widths otherwise."""
    for lay in LAYOUTS.values():
        if lay.width == width:
            return lay
    known = ", ".join(str(lay) for lay in LAYOUTS.values())
    raise DatasetError(f"a frame of {width} features matches no known layout; expected one of: {known}")


def drop_face(frames: np.ndarray, layout: Layout) -> tuple[np.ndarray, Layout]:
    """(..., 1662) holistic frames -> (..., 258) pose + hands; other layouts are returned as they are."""
    if layout.face is None:
        return frames, layout
    pose, left, right = (frames[..., a:b] for a, b in (layout.pose, layout.left, layout.right))
    return np.concatenate([pose, left, right], axis=-1), POSE_HANDS


@dataclass
class SequenceSet:
    """Clips of per-frame features in one layout; ``signers`` is None when the source has none."""

    sequences: list[np.ndarray]  # each (T_i, layout.width) float32
    labels: list[str]
    layout: Layout
    signers: list[str] | None = None
    sources: list[str] = field(default_factory=list)  # where each clip came from, for reports
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, why) left out on reading
    # each clip's frame times in seconds, by its video's own clock (read with the landmarks); None: not videos
    times: list[np.ndarray | None] | None = None
    # each clip's camera shape (frame width / height) where known (videos); None: unknown, taken as it is
    aspects: list[float | None] | None = None

    def clip_aspect(self, i: int) -> float | None:
        """Clip ``i``'s camera shape (width / height), if its source told it."""
        return self.aspects[i] if self.aspects is not None else None

    def clip_times(self, i: int) -> np.ndarray | None:
        """Clip ``i``'s frame times as its video was read, if they were kept (else None)."""
        return self.times[i] if self.times is not None else None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> list[str]:
        return sort_labels(set(self.labels))

    def counts(self) -> dict[str, int]:
        c = Counter(self.labels)
        return {lab: c[lab] for lab in self.classes}

    @property
    def readable(self) -> np.ndarray:
        """Every clip read is usable (bad files fail on reading); the trainer's common interface."""
        return np.ones(len(self), bool)

    @property
    def paths(self) -> list[str]:
        return list(self.sources) if self.sources else [f"#{i}" for i in range(len(self))]

    def subset(self, idx) -> SequenceSet:
        idx = [int(i) for i in np.asarray(idx).ravel()]
        return SequenceSet(
            [self.sequences[i] for i in idx],
            [self.labels[i] for i in idx],
            self.layout,
            [self.signers[i] for i in idx] if self.signers is not None else None,
            [self.sources[i] for i in idx] if self.sources else [],
            list(self.errors),  # what was left out on reading stays reported
            [self.times[i] for i in idx] if self.times is not None else None,
            [self.aspects[i] for i in idx] if self.aspects is not None else None,
        )


def finite_frames(arr: np.ndarray) -> np.ndarray:
    """Frames as float32, with NaN, inf and values beyond +-MAX_COORDINATE as zeros: NaN/inf mark "not
    found" in some exports, the same as zeros here; a value no coordinate can have (1e300, which float32
    cannot even hold) is no more of a landmark, and left in it would overflow the features into NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.asarray(arr).astype(np.float32, copy=False)
        bad = ~np.isfinite(x) | (np.abs(x) > MAX_COORDINATE)
    if bad.any():
        x = np.where(bad, 0.0, x).astype(np.float32)
    return x


def read_sequence_npz(path: str | Path) -> SequenceSet:
    """A ``.npz`` of ``sequences`` (N, T, F), ``label`` (N,) and optional ``signer`` (N,)."""
    p = Path(path)
    arrays = read_npz(p, "sequence")
    missing = {"sequences", "label"} - set(arrays)
    if missing:
        raise DatasetError(
            f"{p}: missing array(s) {sorted(missing)}; expected sequences (N, T, F), label (N,), optional signer (N,)"
        )
    seq, labels = arrays["sequences"], arrays["label"]
    why = number_problem(seq.dtype)
    if why is not None:
        raise DatasetError(f"{shown(p)}: sequences must be numbers, not {why}")
    if seq.ndim != 3 or seq.shape[1] < 1:
        raise DatasetError(f"{p}: sequences must be (N, T, F), got {seq.shape}")
    if seq.shape[1] < MIN_FRAMES:  # every clip of the set has this length: none is a sign
        raise DatasetError(f"{shown(p)}: its clips have {seq.shape[1]} frame(s); a sign needs at least {MIN_FRAMES}")
    if len(labels) != len(seq):
        raise DatasetError(f"{p}: {len(seq)} sequences but {len(labels)} labels")
    signer = arrays.get("signer")
    if signer is not None and len(signer) != len(seq):
        raise DatasetError(f"{p}: {len(seq)} sequences but {len(signer)} signer entries")
    for name, arr in (("label", labels), ("signer", signer)):
        if arr is not None and arr.ndim != 1:  # (N, 1) labels read as "['hello']"
            raise DatasetError(f"{shown(p)}: {name} must be (N,), one per clip, got shape {arr.shape}")
    names = [canonical_label(str(v)) for v in labels]
    blank = [i for i, lab in enumerate(names) if not lab.strip()]
    if blank:  # a model trained on them holds an empty label, which nothing then loads
        raise DatasetError(f"{shown(p)}: {len(blank)} clip(s) have an empty label (first: clip {blank[0]})")
    nobody = [i for i, v in enumerate(signer if signer is not None else []) if not str(v).strip()]
    if nobody:  # no fold of --cv signer or --holdout can place them: they would drop out of every figure
        raise DatasetError(f"{shown(p)}: {len(nobody)} clip(s) have an empty signer (first: clip {nobody[0]})")
    frames, layout = drop_face(finite_frames(seq), layout_for(seq.shape[2]))
    if not frames.any():  # all zeros, NaN or inf: "not found" everywhere, so nothing to learn or to score
        raise DatasetError(f"{shown(p)}: no clip has a landmark in any frame (every value is 0, NaN or inf)")
    return SequenceSet(
        list(frames),
        names,
        layout,
        [str(v) for v in signer] if signer is not None else None,
        [f"{p}#{i}" for i in range(len(seq))],
    )


def _frame_key(path: Path) -> tuple[int, str]:
    m = re.search(r"(\d+)$", path.stem)
    return (int(m.group(1)) if m else -1, path.stem)


def _load_npy(path: Path) -> np.ndarray:
    return read_npy(path, "landmark")


def _read_take(take: Path) -> np.ndarray | None:
    """(T, F) raw frames of one take: a folder of per-frame (F,) .npy files, one (T, F) .npy file or a .pose
    file; None when ``take`` is none of these (another file, an empty folder); DatasetError when it cannot be
    used."""
    if take.is_dir():
        files = sorted(take.glob("*.npy"), key=_frame_key)
        if not files:
            return None
        rows = [_load_npy(f) for f in files]
        bad = next(((f, r.shape) for f, r in zip(files, rows, strict=True) if r.ndim != 1), None)
        if bad is not None:
            raise DatasetError(f"{shown(bad[0])}: a frame file must hold one feature vector, got shape {bad[1]}")
        if len({r.shape for r in rows}) != 1:
            raise DatasetError(f"{shown(take)}: frames of different widths {sorted({r.shape[0] for r in rows})}")
        arr = np.stack(rows)
    elif take.suffix.lower() == ".npy":
        arr = _load_npy(take)
        if arr.ndim != 2:
            raise DatasetError(f"{shown(take)}: a take file must be (T, F), got shape {arr.shape}")
    elif is_pose_path(take):
        arr = read_pose_file(take).frames
    else:
        return None
    if len(arr) == 0:
        raise DatasetError(f"{shown(take)}: the take has no frames (shape {arr.shape})")
    try:
        layout_for(arr.shape[1])
    except DatasetError as exc:
        raise DatasetError(f"{shown(take)}: {exc}") from None
    return arr


def has_landmark_takes(root: Path) -> bool:
    """A folder with ``<sign>/<take>`` landmark arrays or .pose files (rather than videos, or nothing)."""
    return any(root.glob("*/*.npy")) or any(root.glob("*/*/*.npy")) or any(root.glob(f"*/*{POSE_GLOB}"))


def read_sequence_folder(root: str | Path) -> SequenceSet:
    """``<sign>/<take>/<frame>.npy`` (one vector per frame), ``<sign>/<take>.npy`` ((T, F) per take) or
    ``<sign>/<take>.pose``.

    A take that cannot be used (unreadable, empty, not numbers, not (T, F), a width no layout has, a FIFO)
    is left out and listed in ``errors``, never a stop half way; takes of two different known layouts are
    an error for the whole folder, since neither is the odd one out."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{shown(root)}: no such folder")
    if any(root.glob(f"*/*{POSE_GLOB}")):
        require_pose_format()  # missing, it is one line for the folder, not the same error for every take
    seqs, labels, sources, errors = [], [], [], []
    for sign in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        try:
            takes = sorted(sign.iterdir())
        except OSError as exc:
            errors.append((str(sign), f"{shown(sign)}: cannot list this folder ({exc.strerror or exc})"))
            continue
        for take in takes:
            try:
                arr = _read_take(take)
            except DatasetError as exc:
                errors.append((str(take), str(exc)))
                continue
            if arr is None:
                continue
            seqs.append(arr)
            labels.append(canonical_label(sign.name))
            sources.append(str(take))
    if not seqs and errors:
        raise DatasetError(f"{shown(root)}: none of its {len(errors)} take(s) could be read ({errors[0][1]})")
    if not seqs:
        raise DatasetError(
            f"{shown(root)}: no sequences found (expected <sign>/<take>.mp4 videos, <sign>/<take>/<frame>.npy, "
            "<sign>/<take>.npy or <sign>/<take>.pose)"
        )
    widths = {s.shape[1] for s in seqs}
    if len(widths) != 1:
        raise DatasetError(f"{shown(root)}: takes of different frame widths {sorted(widths)}")
    layout = layout_for(widths.pop())
    out = [drop_face(finite_frames(s), layout)[0] for s in seqs]
    return SequenceSet(out, labels, POSE_HANDS if layout.face else layout, None, sources, errors)


def is_video_path(path: str | Path) -> bool:
    """A video file, by its name: what a clip folder, ``detect`` and ``transcribe`` take as a video."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def video_files(root: Path) -> list[Path]:
    """The videos of a ``<sign>/<take>.mp4`` folder, in order (hidden folders left out)."""
    return sorted(f for f in root.glob("*/*") if f.is_file() and is_video_path(f) and not f.parent.name.startswith("."))


def nested_videos(root: Path) -> list[tuple[str, str]]:
    """Videos in a sub-folder of a sign's folder (``<sign>/<sub>/<take>.mp4``), which are not read, each as a
    (path, why) row for the clips left out: a whole sign could otherwise vanish from a set without a word."""
    found = sorted(f for f in root.glob("*/*/**/*") if f.is_file() and is_video_path(f))
    visible = [f for f in found if not any(part.startswith(".") for part in f.relative_to(root).parts)]
    return [(str(f), f"{shown(f)}: in a sub-folder of a sign's folder, not read (put videos in <sign>/<take>.mp4)")
            for f in visible]  # fmt: skip


def with_empty_pose(data: SequenceSet) -> SequenceSet:
    """A hands-only set in the pose + hands layout, its pose block empty (zeros: "not found"), as a pose + hands
    clip whose pose was missed looks. What lets a hands-only set be trained beside pose + hands ones."""
    if data.layout.name != HANDS.name:
        raise DatasetError(f"only a hands-only set gets an empty pose, not a {data.layout.name} one")
    pose = POSE_HANDS.pose[1] - POSE_HANDS.pose[0]
    seqs = [np.concatenate([np.zeros((len(x), pose), np.float32), np.asarray(x, np.float32)], 1)
            for x in data.sequences]  # fmt: skip
    return SequenceSet(seqs, data.labels, POSE_HANDS, data.signers, data.sources, data.errors, data.times, data.aspects)


def concat_sequences(sets: list[SequenceSet]) -> SequenceSet:
    """One set from several of the same layout; signers kept only if every part has them. Hands-only sets
    given with pose + hands ones join them with an empty pose (``with_empty_pose``)."""
    layouts = {s.layout.name for s in sets}
    if layouts == {HANDS.name, POSE_HANDS.name}:
        sets = [with_empty_pose(s) if s.layout.name == HANDS.name else s for s in sets]
        layouts = {POSE_HANDS.name}
    if len(layouts) != 1:
        raise DatasetError(f"sequence sources of different layouts {sorted(layouts)} cannot be trained together")
    signers = None
    if all(s.signers is not None for s in sets):
        signers = [g for s in sets for g in s.signers or []]
    times = None
    if any(s.times is not None for s in sets):
        times = [s.clip_times(i) for s in sets for i in range(len(s))]
    aspects = None
    if any(s.aspects is not None for s in sets):
        aspects = [s.clip_aspect(i) for s in sets for i in range(len(s))]
    return SequenceSet(
        [x for s in sets for x in s.sequences],
        [lab for s in sets for lab in s.labels],
        sets[0].layout,
        signers,
        [p for s in sets for p in s.paths],
        [e for s in sets for e in s.errors],
        times,
        aspects,
    )


def point_blocks(layout: Layout) -> list[tuple[int, int, int]]:
    """(start, stop, values per point) of each landmark block: the pose's points hold 4, the hands' 3."""
    out = [(layout.left[0], layout.left[1], 3), (layout.right[0], layout.right[1], 3)]
    return out + ([(layout.pose[0], layout.pose[1], 4)] if layout.pose is not None else [])


def at_aspect(frames: np.ndarray, layout: Layout, source: float, target: float) -> np.ndarray:
    """(T, F) raw frames from a camera of shape ``source`` (width / height) as a camera of shape ``target`` shows
    the same body: x (and z, which shares x's scale) stretched about the image's centre by source / target.

    Why: landmarks are fractions of the image's width and height, so one body has other proportions in a 16:9
    video than in the 4:3 webcam clips a model learned from, and the body-relative features keep those
    proportions. Points not found (zeros) stay zeros."""
    src, dst = float(source), float(target)
    if not (np.isfinite(src) and np.isfinite(dst) and src > 0 and dst > 0):
        raise DatasetError(f"camera shapes must be positive numbers, got {source} and {target}")
    k = src / dst
    out = np.array(frames, np.float32, copy=True)
    if abs(k - 1.0) < 1e-9:
        return out
    for a, b, step in point_blocks(layout):
        pts = out[:, a:b].reshape(len(out), -1, step)
        seen = np.abs(pts[..., :3]).sum(-1) > 0
        pts[..., 0] = np.where(seen, 0.5 + (pts[..., 0] - 0.5) * k, 0.0)
        pts[..., 2] = np.where(seen, pts[..., 2] * k, 0.0)
        out[:, a:b] = pts.reshape(len(out), -1)
    return out


def at_camera_aspect(data: SequenceSet, target: float | None) -> SequenceSet:
    """The set with every clip of known camera shape as a ``target``-shaped camera shows it (``at_aspect``);
    clips of unknown shape, and every clip when ``target`` is None or 0, are taken as they are."""
    if not target or data.aspects is None:
        return data
    seqs = [at_aspect(s, data.layout, a, target) if a else s for s, a in zip(data.sequences, data.aspects, strict=True)]
    return replace(data, sequences=seqs, aspects=None)


def is_sequence_source(path: str | Path) -> bool:
    """A .npz holding ``sequences``, or a folder of <sign>/<take> arrays, .pose files or videos (no images)."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".npz":
        try:
            with zipfile.ZipFile(p) as z:  # only the member names: np.load would take a .npy named .npz too
                return "sequences.npy" in z.namelist()
        except (OSError, ValueError, zipfile.BadZipFile):  # empty, truncated, not a zip
            return False
    if p.is_dir():
        return has_landmark_takes(p) or bool(video_files(p))
    return False


def fit_length(frames: np.ndarray, length: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, F) frames (and their (T,) mask of real frames) -> ((length, F), (length,) mask).

    Every clip is resampled to ``length`` evenly spaced frames, shorter ones by repeating frames: an
    isolated sign lasts one clip whatever the camera's frame rate or the signer's speed, so the model
    sees the whole motion at one time scale. Nearest frames, not blends: no frame mixes a hand with
    a missing hand. An empty clip gives all-masked zeros."""
    t = len(frames)
    if t == 0:
        return np.zeros((length, frames.shape[1]), np.float32), np.zeros(length, bool)
    idx = np.round(np.linspace(0, t - 1, length)).astype(int)
    m = np.ones(t, bool) if mask is None else np.asarray(mask, bool)
    return np.asarray(frames, np.float32)[idx], m[idx]


def write_pose_clip(
    path: str | Path, frames: np.ndarray, fps: float, width: int = CANVAS, height: int = CANVAS
) -> Path:
    """(T, F) frames in any known layout (a face block is dropped) as a ``.pose`` file; ``width`` x ``height``
    is the frame size the points are scaled to (pose-format keeps pixels), ``CANVAS`` when unknown."""
    arr = np.asarray(frames)
    if arr.ndim != 2 or len(arr) == 0:
        raise DatasetError(f"{shown(path)}: frames must be (T, F) with T > 0, got shape {arr.shape}")
    x, layout = drop_face(finite_frames(arr), layout_for(arr.shape[1]))
    t = len(x)
    pose = None if layout.pose is None else x[:, layout.pose[0] : layout.pose[1]].reshape(t, POSE_POINTS, 4)
    left = x[:, layout.left[0] : layout.left[1]].reshape(t, HAND_POINTS, 3)
    right = x[:, layout.right[0] : layout.right[1]].reshape(t, HAND_POINTS, 3)
    pose_file = pose_from_blocks(pose, left, right, fps, width, height)
    p = Path(path)
    with open(p, "wb") as f:
        pose_file.write(f)
    return p


RELABEL_COLUMNS = ("signer", "label", "new_label")


def relabelled(data: SequenceSet, path: str | Path) -> tuple[SequenceSet, dict[str, int]]:
    """The set with some signers' labels corrected in memory, from a CSV of ``signer,label,new_label`` (for
    swapped labels that ``--cv signer`` names; the files are not changed); returns it and how many clips
    each row changed. A row that matches no clip is an error: a typo would silently change nothing."""
    p = Path(path)
    rows = read_csv_rows(p, RELABEL_COLUMNS, ",".join(RELABEL_COLUMNS), strict=True)
    if data.signers is None:
        raise DatasetError(f"{shown(p)}: the data names no signers, so there is nothing to relabel by signer")
    labels, changed, first = list(data.labels), {}, {}
    for n, row in enumerate(rows, 2):
        signer, old, new = row["signer"], canonical_label(row["label"]), canonical_label(row["new_label"])
        if not (signer and old and new):
            raise DatasetError(f"{shown(p)}, line {n}: signer, label and new_label must all be given")
        if (signer, old) in first:  # the later row would silently win (both were reported as made)
            raise DatasetError(f"{shown(p)}, line {n}: {old!r} of signer {signer!r} is relabelled on line "
                               f"{first[signer, old]} already; give each signer's label once")  # fmt: skip
        first[signer, old] = n
        hits = [
            i for i, (s, lab) in enumerate(zip(data.signers, data.labels, strict=True)) if s == signer and lab == old
        ]
        if not hits:
            raise DatasetError(f"{shown(p)}, line {n}: no clip of signer {signer!r} is labelled {old!r}")
        for i in hits:
            labels[i] = new  # from the original labels, so a swap of two signs takes two rows and works
        changed[f"{signer}:{old}->{new}"] = len(hits)
    return SequenceSet(
        data.sequences, labels, data.layout, data.signers, data.sources, data.errors, data.times
    ), changed
