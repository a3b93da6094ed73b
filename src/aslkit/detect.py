"""`aslkit detect`: the letter detector over photos, folders and videos, with drawn outputs and a summary.

Every input gives JSON rows ``{"path", "frame", "boxes": [{"xyxy", "label", "confidence"}], "hands"}``
(``frame`` is null for a photo; an unreadable file gets a row with ``"error"``). With ``out``, the
annotated photos and videos are written there under their own names, beside ``detections.jsonl`` and
the bulk analysis (``summary.json`` and ``summary.md``: boxes per class, frames where a hand was found
but no letter reached ``conf``, frames with no hand). The inputs are only read: ``out`` must be a new
or empty folder outside them.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from aslkit.data.images import encode_image, is_image_path, load_image
from aslkit.data.sequences import is_video_path
from aslkit.errors import AslkitError, ImageError
from aslkit.inference.detector import Detection, HandLetterDetector, HandLetters
from aslkit.inference.recognizer import collect_paths
from aslkit.landmarks.batch import ImageSource, extract_sources
from aslkit.landmarks.extractor import HandLandmarker, HandsResult
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder, safe_relpath

LIST_LIMIT = 200  # photos listed by name in the summary per finding; the counts are always whole


@dataclass
class DetectRow:
    """What the detector found in one photo or one video frame."""

    path: str
    frame: int | None
    boxes: list[Detection]
    hands: int = 0
    best: tuple[str, float] | None = None  # the surest letter of any hand, even under conf
    time: float | None = None
    error: str | None = None
    others: int = 0  # hands whose likeliest letter --classes left out
    annotated: str | None = None  # with --out: its drawn copy, relative to the out folder (names are made unique)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "frame": self.frame, "boxes": [b.to_json() for b in self.boxes]}
        d["hands"] = self.hands
        if self.time is not None:
            d["time"] = round(self.time, 3)
        if self.error is not None:
            d["error"] = self.error
        if self.annotated is not None:
            d["annotated"] = self.annotated
        return d

    def text_line(self) -> str | None:
        """The line `aslkit detect` prints for a photo (its boxes, or why there are none) or an unreadable
        input; None for a video frame, which only the JSON rows and the summary report."""
        if self.error is not None:
            return f"{shown(self.path)}\terror: {shown(self.error)}"
        if self.frame is not None:
            return None
        found = "; ".join(f"{b.label} {b.confidence:.2f} {[round(v) for v in b.xyxy]}" for b in self.boxes)
        if not found:
            found = "no hand" if not self.hands else "no letter at this confidence"
            found = "another letter than --classes" if self.hands and self.best is None and self.others else found
        return f"{shown(self.path)}\t{found}"


def _ranges(frames: list[int], step: int = 1) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2,5,7-8" (``step``: frames read, every N-th): long lists stay readable."""
    fr, out, i = sorted(frames), [], 0
    while i < len(fr):
        j = i
        while j + 1 < len(fr) and fr[j + 1] == fr[j] + step:
            j += 1
        out.append(str(fr[i]) if i == j else f"{fr[i]}-{fr[j]}")
        i = j + 1
    return ",".join(out)


@dataclass
class Summary:
    """Bulk analysis over every row: counts per class, unsure frames, frames with no hand, errors."""

    conf: float
    every: int = 1
    photos: int = 0
    videos: int = 0
    frames: int = 0
    with_boxes: int = 0
    boxes: Counter = field(default_factory=Counter)
    conf_sum: Counter = field(default_factory=Counter)
    files_per_class: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    no_hand: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    low: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    other: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # only letters --classes left out
    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, row: DetectRow) -> None:
        if row.error is not None:
            self.errors.append({"path": row.path, "error": row.error})
            return
        self.frames += 1
        self.with_boxes += bool(row.boxes)
        for b in row.boxes:
            self.boxes[b.label] += 1
            self.conf_sum[b.label] += b.confidence
            self.files_per_class[b.label].add(row.path)
        key = -1 if row.frame is None else row.frame
        if row.hands == 0:
            self.no_hand[row.path].append(key)
        elif not row.boxes and row.best is not None:
            self.low[row.path].append((key, row.best))
        elif not row.boxes and row.others:
            self.other[row.path].append(key)

    def to_json(self) -> dict[str, Any]:
        def listing(d: dict[str, list], low: bool) -> list[dict[str, Any]]:
            out = []
            for path, items in d.items():
                frames = [k if not low else k[0] for k in items]
                if frames == [-1]:  # a photo
                    row: dict[str, Any] = {"path": path}
                    if low:
                        row.update(best=items[0][1][0], confidence=round(items[0][1][1], 4))
                    out.append(row)
                else:
                    out.append({"path": path, "frames": len(frames), "frame_ranges": _ranges(frames, self.every)})
            return out[:LIST_LIMIT]

        return {
            "conf": self.conf,
            "photos": self.photos,
            "videos": self.videos,
            "frames": self.frames,
            "frames_with_boxes": self.with_boxes,
            "boxes": sum(self.boxes.values()),
            "per_class": {
                lab: {
                    "boxes": n,
                    "files": len(self.files_per_class[lab]),
                    "mean_confidence": round(self.conf_sum[lab] / n, 4),
                }
                for lab, n in sorted(self.boxes.items())
            },
            "no_hand": {"frames": sum(len(v) for v in self.no_hand.values()), "where": listing(self.no_hand, False)},
            "low_confidence": {"frames": sum(len(v) for v in self.low.values()), "where": listing(self.low, True)},
            "other_letters": {"frames": sum(len(v) for v in self.other.values()), "where": listing(self.other, False)},
            "errors": self.errors,
        }


def detect_summary_text(s: dict[str, Any], out: str | Path | None = None) -> str:
    """What `aslkit detect` tells on stderr after its rows: the counts of ``detect_paths``'s summary, and where
    the annotated files went (``out``)."""
    counts = ", ".join(f"{c} {r['boxes']}" for c, r in s["per_class"].items()) or "none"
    lines = [f"{s['photos']} photos, {s['videos']} videos, {s['frames']} frames: {s['boxes']} boxes ({counts}); "
             f"no hand in {s['no_hand']['frames']}, unsure in {s['low_confidence']['frames']}, "
             f"{len(s['errors'])} unreadable"]  # fmt: skip
    if s.get("other_letters", {}).get("frames"):
        lines[0] += f"; another letter than --classes in {s['other_letters']['frames']}"
    if out:
        lines.append(f"annotated files, detections.jsonl and summary.md in {out}")
    return "\n".join(lines)


def write_summary_markdown(s: dict[str, Any], path: Path) -> Path:
    """summary.md: the same figures as summary.json, for a person."""
    lines = [
        "# Detection summary",
        "",
        f"{s['photos']} photos and {s['videos']} videos: {s['frames']} frames read, "
        f"{s['frames_with_boxes']} with a letter at confidence >= {s['conf']}, {s['boxes']} boxes.",
        "",
        "| letter | boxes | files | mean confidence |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {c} | {r['boxes']} | {r['files']} | {r['mean_confidence']:.3f} |" for c, r in s["per_class"].items()]
    titles = [("low_confidence", "Hand found, no letter reached the confidence"), ("no_hand", "No hand")]
    if s.get("other_letters", {}).get("frames"):
        titles.append(("other_letters", "Hand found, its letter is not in --classes"))
    for key, title in titles:
        lines += ["", f"## {title}: {s[key]['frames']} frames", ""]
        for w in s[key]["where"]:
            if "frame_ranges" in w:
                lines.append(f"- {shown(w['path'])}: {w['frames']} frames ({w['frame_ranges']})")
            else:
                extra = f" (best {w['best']} {w['confidence']:.2f})" if "best" in w else ""
                lines.append(f"- {shown(w['path'])}{extra}")
    if s["errors"]:
        lines += ["", f"## Unreadable: {len(s['errors'])}", ""] + [f"- {shown(e['error'])}" for e in s["errors"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_PALETTE = [(0, 220, 255), (80, 220, 80), (255, 160, 40), (230, 80, 230), (60, 120, 255), (255, 255, 90)]


def draw_detections(bgr: np.ndarray, boxes: list[Detection], labels: list[str]) -> np.ndarray:
    """Boxes with letter and confidence, drawn on ``bgr`` in place; a colour per letter."""
    import cv2

    thick = max(2, round(max(bgr.shape[:2]) / 300))
    for d in sorted(boxes, key=lambda d: d.confidence):  # the surest drawn last, on top
        colour = _PALETTE[(labels.index(d.label) if d.label in labels else 0) % len(_PALETTE)]
        x0, y0, x1, y1 = (round(v) for v in d.xyxy)
        cv2.rectangle(bgr, (x0, y0), (x1, y1), colour, thick)
        text = f"{d.label} {d.confidence:.2f}"
        scale = 0.5 * thick
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y0 - 4 if y0 - th - 6 >= 0 else y0 + th + 4
        cv2.rectangle(bgr, (x0, ty - th - 4), (x0 + tw + 4, ty + 4), colour, -1)
        cv2.putText(bgr, text, (x0 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return bgr


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def output_name(f: Path, rel: Path) -> Path:
    """Where an input's annotated copy goes under out: its own relative path, with a name any tool can
    read (non-UTF-8 bytes as %XX, control characters as _); videos become .mp4, odd photo types .jpg."""
    rel = safe_relpath(rel)
    if is_video_path(f):
        return rel.with_suffix(".mp4")
    return rel if rel.suffix.lower() in PHOTO_SUFFIXES else rel.with_suffix(".jpg")


def _inputs(paths: list[str | Path]) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """(file, name under out) for every photo and video; folders keep their inner paths. Names are
    unique (case-insensitively, for case-insensitive file systems), so no output replaces another:
    ``a.avi`` and ``a.mp4`` give ``a.mp4`` and ``a-2.mp4``."""
    files: list[tuple[Path, Path]] = []
    problems: list[tuple[str, str]] = []
    for arg in map(Path, paths):
        found, probs = collect_paths([arg], lambda p: is_image_path(p) or is_video_path(p), "photos or videos")
        problems += probs
        files += [(f, f.relative_to(arg) if arg.is_dir() else Path(f.name)) for f in found]
    taken = {"detections.jsonl", "summary.json", "summary.md"}
    named: list[tuple[Path, Path]] = []
    for f, rel in files:
        out, k = output_name(f, rel), 1
        while str(out).lower() in taken:
            k += 1
            base = output_name(f, rel)
            out = base.with_name(f"{base.stem}-{k}{base.suffix}")
        taken.add(str(out).lower())
        named.append((f, out))
    return named, problems


def _photo_rows(
    det: HandLetterDetector, files: list[Path], cache_dir, workers: int | None, progress: bool
) -> Iterator[tuple[DetectRow, Path]]:
    """Photos go through the cached, parallel landmark pass (and its mirror pass with two views)."""
    hands = extract_sources(files, cache_dir, workers, progress)
    mirrored: list = [None] * len(files)
    if det.views == 2:
        mirrored = extract_sources([ImageSource(f, mirror=True) for f in files], cache_dir, workers, progress,
                                   desc="mirror images")  # fmt: skip
    for f, res, mres in zip(files, hands, mirrored, strict=True):
        if not isinstance(res, HandsResult):
            yield DetectRow(str(f), None, [], error=str(res)), f
            continue
        yield _row(det, str(f), None, det.hand_letters(res, mres if isinstance(mres, HandsResult) else None)), f


def _row(det: HandLetterDetector, path: str, frame: int | None, hands: list[HandLetters], t=None) -> DetectRow:
    best = max((det.best_letter(h) for h in hands if not h.other), key=lambda b: b[1], default=None)
    others = sum(h.other for h in hands)
    return DetectRow(path, frame, det.from_letters(hands), len(hands), best, t, others=others)


def _video_rows(
    det: HandLetterDetector, path: Path, dest: Path | None, every: int, progress: bool
) -> Iterator[DetectRow]:
    """Every ``every``-th frame of a video, hands followed in tracking mode; ``dest``: annotated copy."""
    import cv2

    from aslkit.landmarks.video import frame_time, open_video
    from aslkit.live.video import video_writer

    cap = open_video(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    fps = fps if np.isfinite(fps) and fps > 1 else 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    lm = HandLandmarker(static=False)
    mlm = HandLandmarker(static=False) if det.views == 2 else None
    writer = None
    bar = tqdm(total=total, desc=path.name, unit="frame", disable=not progress, leave=False)
    i = 0
    t: float | None = None
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            t = frame_time(cap.get(cv2.CAP_PROP_POS_MSEC), i, fps, t)  # the video's own timestamps
            bar.update(1)
            if i % every == 0:
                rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                res = lm(rgb)
                mres = mlm(np.ascontiguousarray(rgb[:, ::-1])) if mlm is not None else None
                row = _row(det, str(path), i, det.hand_letters(res, mres), t)
                yield row
                if dest is not None:
                    if writer is None:
                        writer = video_writer(dest, fps / every, bgr.shape[1], bgr.shape[0])
                    writer.write(draw_detections(bgr, row.boxes, det.model.labels), t)
            i += 1
    finally:
        cap.release()
        bar.close()
        lm.close()
        if mlm is not None:
            mlm.close()
        if writer is not None:
            writer.release()
    if i == 0:
        raise AslkitError(f"{path}: no frames could be read")


def detect_paths(
    paths: list[str | Path],
    detector: HandLetterDetector,
    out: str | Path | None = None,
    every: int = 1,
    cache_dir="default",
    workers: int | None = None,
    progress: bool = False,
    on_row: Callable[[DetectRow], None] | None = None,
) -> dict[str, Any]:
    """Run the detector over photos, folders and videos; returns the summary (see the module docstring).

    on_row: called with each row as it is made (the CLI prints them as they come).
    """
    if every < 1:
        raise AslkitError(f"every must be 1 or more, got {every}")
    if out is not None:  # before reading anything: a wrong --out costs nothing
        check_new_folder(out, paths, beside_files=True)
    named, problems = _inputs(paths)
    summary = Summary(detector.conf, every)
    with contextlib.ExitStack() as stack:
        # written into a staging folder that becomes ``out`` only when complete
        dest = stack.enter_context(new_folder(out, paths, beside_files=True)) if out is not None else None
        jsonl = stack.enter_context((dest / "detections.jsonl").open("w", encoding="utf-8")) if dest else None

        def emit(row: DetectRow) -> None:
            summary.add(row)
            if jsonl is not None:
                jsonl.write(json.dumps(row.to_json()) + "\n")
            if on_row is not None:
                on_row(row)

        _detect_all(detector, named, problems, dest, every, cache_dir, workers, progress, emit, summary)
        if jsonl is not None:
            jsonl.close()
        s = summary.to_json()
        s.update(model=detector.model.source or detector.model.architecture, iou=detector.iou, views=detector.views)
        if dest is not None:
            (dest / "summary.json").write_text(json.dumps(s, indent=1), encoding="utf-8")
            write_summary_markdown(s, dest / "summary.md")
    return s


def _detect_all(
    detector: HandLetterDetector,
    named: list[tuple[Path, Path]],
    problems: list[tuple[str, str]],
    dest: Path | None,
    every: int,
    cache_dir,
    workers: int | None,
    progress: bool,
    emit: Callable[[DetectRow], None],
    summary: Summary,
) -> None:
    """Rows for every problem, photo and video, in that order; annotated copies under ``dest``."""
    for p, why in problems:
        emit(DetectRow(p, None, [], error=why))
    photos = [(f, rel) for f, rel in named if not is_video_path(f)]
    where = dict(photos)
    for row, f in _photo_rows(detector, [f for f, _ in photos], cache_dir, workers, progress):
        summary.photos += row.error is None
        if dest is not None and row.error is None:
            row.annotated = where[f].as_posix()
        emit(row)
        if dest is not None and row.error is None:
            _write_photo(f, dest / where[f], row, detector.model.labels)
    for f, rel in named:
        if not is_video_path(f):
            continue
        try:
            for row in _video_rows(detector, f, dest / rel if dest is not None else None, every, progress):
                row.annotated = rel.as_posix() if dest is not None else None
                emit(row)
            summary.videos += 1
        except AslkitError as exc:
            emit(DetectRow(str(f), None, [], error=str(exc)))


def _write_photo(src: Path, target: Path, row: DetectRow, labels: list[str]) -> None:
    try:
        rgb = load_image(src)
    except ImageError:  # read a moment ago; if it is gone now, its row already says what was found
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    target.write_bytes(encode_image(draw_detections(bgr, row.boxes, labels), target.suffix))
