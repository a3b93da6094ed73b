"""`aslkit capture`: record your own sign data from a camera (or a video file) as ``<out>/<label>/take-NNN.mp4``.

Each take is a countdown (frames shown, not recorded), then ``seconds`` of frames, then a gap before the next.
A video file follows the same schedule in its own time, so a file of known length gives a known number of takes.
The folder is a data set being grown: takes are added beside the ones already there, never over them, so
``aslkit train <out>`` reads them as one class per label. A take is written to a hidden folder and moved into
place only when complete: a camera lost mid-take keeps the takes before it and leaves no half take behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import AslkitError
from aslkit.labels import canonical_label
from aslkit.landmarks.video import frame_time, open_video
from aslkit.live.draw import draw_skeleton
from aslkit.live.run import has_display, input_fps
from aslkit.live.video import video_writer
from aslkit.names import shown
from aslkit.outputs import check_outside, remove_if_empty

_TAKE = re.compile(r"^take-(\d+)\.", re.IGNORECASE)
_TAKE_FILE = re.compile(r"^take-\d+\.(mp4|jpg)$", re.IGNORECASE)  # what capture and write_take name a take


@dataclass
class CaptureResult:
    """What one capture wrote: the takes' paths (in order), how many were asked for, and why it stopped early."""

    label: str
    folder: Path
    paths: list[Path]
    takes_requested: int
    ended: bool = False  # the stream ended (or the camera was lost) before every take was recorded
    quit: bool = False  # the user closed the window (q/Esc) before every take was recorded
    from_file: bool = False  # a video file: its countdown and gaps pass in the video's own time

    @property
    def takes_written(self) -> int:
        return len(self.paths)

    @property
    def complete(self) -> bool:
        return self.takes_written == self.takes_requested

    def to_json(self) -> dict[str, Any]:
        """What `aslkit capture --json` prints."""
        return {
            "label": self.label,
            "folder": str(self.folder),
            "paths": [str(p) for p in self.paths],
            "takes_requested": self.takes_requested,
            "takes_written": self.takes_written,
            "ended": self.ended,
            "quit": self.quit,
        }

    def text(self) -> str:
        """The summary line for a person."""
        names = [p.name for p in self.paths]
        which = f" ({names[0]} ... {names[-1]})" if len(names) > 1 else f" ({names[0]})" if names else ""
        line = f"wrote {self.takes_written} take(s) of {self.label!r} to {shown(str(self.folder))}{which}"
        if not self.paths:
            line = f"wrote no take of {self.label!r}"
        if self.ended and not self.complete:
            line += f"; the source ended after {self.takes_written} of {self.takes_requested}"
        elif self.quit and not self.complete:
            line += f"; stopped by the user after {self.takes_written} of {self.takes_requested}"
        return line


MAX_LABEL_BYTES = 255  # a folder name's limit on Linux, macOS and Windows file systems


def label_folder_name(label: str) -> str:
    """The label's folder name (aslkit's spelling, ``a`` -> ``A``); AslkitError unless it is one safe path
    component: a label with ``/`` or ``..`` would write outside ``--out``, a hidden one is skipped by train."""
    name = canonical_label(label)
    bad = not name or name in (".", "..") or name.startswith(".") or any(c in name for c in "/\\\0")
    if bad or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise AslkitError(f"--label {shown(label)!r}: give a plain name (no '/', no leading '.', not empty)")
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_LABEL_BYTES:
        raise AslkitError(f"--label is too long: {size} bytes, and a folder name holds {MAX_LABEL_BYTES} at most")
    return name


def check_capture_out(out: str | Path, label: str, source: str) -> Path:
    """The label folder to write into, checked before the camera opens: ``out`` is new, empty or a folder of
    takes (the web app's Record tab's rule, ``check_takes_folder``), and neither it nor the label folder is the
    source video, its folder or beside it."""
    out_p = Path(out)
    folder = out_p / label
    is_file = is_file_source(source)
    if is_file:  # a new folder beside the video is fine (my_signs/ next to clip.mp4); its own folder is not
        home = Path(source).resolve().parent
        for p in (out_p, folder):
            check_outside(p, [source], flag="--out")
            if p.resolve() == home:
                raise AslkitError(f"--out {shown(str(out))}: the takes would go into the folder of the video "
                                  f"{shown(source)}; give a folder of their own (for example my_signs/)")  # fmt: skip
    check_takes_folder(out_p, flag="--out")
    for p in (out_p, folder):
        if (p.exists() or p.is_symlink()) and not p.is_dir():
            raise AslkitError(f"--out {shown(str(out))}: {shown(str(p))} exists and is not a folder")
    return folder


def next_take_number(folder: Path) -> int:
    """One more than the highest ``take-NNN.*`` in ``folder`` (1 for a new folder): numbers are never reused."""
    nums = [int(m.group(1)) for f in (folder.iterdir() if folder.is_dir() else ()) if (m := _TAKE.match(f.name))]
    return max(nums, default=0) + 1


def _publish(tmp: Path, folder: Path, suffix: str) -> Path:
    """Move a complete take into ``folder`` under the next free name; never over an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        dest = folder / f"take-{next_take_number(folder):03d}{suffix}"
        try:
            os.link(tmp, dest)  # fails if dest exists: never overwrites, even against another writer
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system
            if dest.exists():
                continue
            os.replace(tmp, dest)
            return dest
        tmp.unlink()
        return dest


class _Take:
    """One take being recorded into the hidden staging folder: a video, or (photos) its middle frame."""

    def __init__(self, stage: Path, n_frames: int, fps: float, photos: bool) -> None:
        self.n_frames, self.fps, self.photos = n_frames, fps, photos
        self.count = 0
        self.path = stage / ("take.jpg" if photos else "take.mp4")
        self.writer = None

    def add(self, frame: np.ndarray) -> bool:
        """Record one raw frame; True once the take has all its frames."""
        import cv2

        if self.photos:
            if self.count == self.n_frames // 2:
                ok, buf = cv2.imencode(".jpg", frame)
                if not ok:
                    raise AslkitError("OpenCV cannot encode this frame as a JPEG")
                self.path.write_bytes(buf.tobytes())
        else:
            if self.writer is None:
                self.writer = video_writer(self.path, self.fps, frame.shape[1], frame.shape[0])
            self.writer.write(frame)
        self.count += 1
        return self.count >= self.n_frames

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None

    def discard(self) -> None:
        """Drop an unfinished take: only the file this run was writing."""
        self.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _overlay(frame: np.ndarray, hands, phase: str, left: float, take: int, takes: int) -> np.ndarray:
    """The window's view (a copy: the saved takes stay raw): hand landmarks, the countdown or REC."""
    import cv2

    view = frame.copy()
    for hand in getattr(hands, "hands", []):
        draw_skeleton(view, hand)
    h = view.shape[0]
    if phase == "rec":
        cv2.circle(view, (20, 20), 8, (0, 0, 255), -1)
        text = f"REC take {take}/{takes}"
    else:
        text = f"take {take}/{takes} in {max(0.0, left):.0f}" if left >= 0.5 else f"take {take}/{takes}: go"
    cv2.putText(view, text, (36, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
    if phase == "wait" and left >= 0.5:
        big = f"{int(np.ceil(left))}"
        cv2.putText(view, big, (20, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (0, 220, 255), 5, cv2.LINE_AA)
    return view


def is_file_source(source: str) -> bool:
    """A video file, not a camera index or a stream URL: it is read on its own clock."""
    return not source.isdigit() and "://" not in source


def _check_args(takes: int, seconds: float, countdown_s: float, gap_s: float) -> None:
    if isinstance(takes, bool) or not isinstance(takes, int) or takes < 1:
        raise AslkitError(f"takes must be a whole number of at least 1, got {takes!r}")
    for name, v, lo in (("seconds", seconds, 1e-9), ("countdown_s", countdown_s, 0.0), ("gap_s", gap_s, 0.0)):
        if not np.isfinite(v) or v < lo:
            raise AslkitError(f"{name} must be a finite number {'above' if lo else 'of at least'} 0, got {v!r}")


def capture(
    label: str,
    out: str | Path,
    takes: int = 10,
    seconds: float = 2.0,
    source: str | int = "0",
    photos: bool = False,
    countdown_s: float = 3.0,
    gap_s: float = 1.0,
    window: bool = True,
    progress: Callable[[Path], None] | None = None,
) -> CaptureResult:
    """Record ``takes`` takes of ``label`` into ``out/<label>/`` (see the module docstring); ``progress`` is
    called with each take's path as it is written. Everything is checked before the camera opens."""
    _check_args(takes, seconds, countdown_s, gap_s)
    name = label_folder_name(label)
    src = str(source)
    folder = check_capture_out(out, name, src)
    cap = open_video(src)
    is_file = is_file_source(src)
    fps = input_fps(cap)
    show = window and has_display()
    made = not Path(out).exists()  # removed again if no take comes of it
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".capture-", dir=out))
    except OSError as exc:
        cap.release()
        raise AslkitError(f"--out {shown(str(out))}: cannot create a folder there ({exc.strerror or exc})") from None
    res = CaptureResult(name, folder, [], takes, from_file=is_file)
    try:
        n = _record(cap, res, stage, fps, is_file, show, photos, seconds, countdown_s, gap_s, progress)
    finally:
        cap.release()
        shutil.rmtree(stage, ignore_errors=True)  # our own staging folder: at most a discarded half take
        if made and not res.paths:
            remove_if_empty(Path(out))
    if n == 0:
        raise AslkitError(f"{shown(src)}: no frames could be read")
    return res


def _record(
    cap,
    res: CaptureResult,
    stage: Path,
    fps: float,
    is_file: bool,
    show: bool,
    photos: bool,
    seconds: float,
    countdown_s: float,
    gap_s: float,
    progress: Callable[[Path], None] | None,
) -> int:
    """The capture loop: wait (countdown or gap) -> record a take of round(seconds * fps) frames -> publish.
    Returns the number of frames read."""
    import cv2

    n_frames = max(1, round(seconds * fps))
    eps = 0.25 / fps  # file times are rounded to the millisecond: a frame due at 1.0 s may read 0.9999
    lm = None
    if show:
        from aslkit.landmarks.extractor import HandLandmarker

        lm = HandLandmarker(static=False, max_hands=2)
    take: _Take | None = None
    n, last_t, start_at, wall0 = 0, None, None, time.perf_counter()
    try:
        while res.takes_written < res.takes_requested:
            try:
                ok, frame = cap.read()
            except cv2.error:  # a camera unplugged mid-capture: the takes so far are kept
                ok = False
            if not ok or frame is None:
                res.ended = True
                break
            pos = cap.get(cv2.CAP_PROP_POS_MSEC) if is_file else None
            last_t = frame_time(pos, n, fps, last_t) if is_file else time.perf_counter() - wall0
            n += 1
            if start_at is None:
                start_at = last_t + countdown_s
            if take is None and last_t >= start_at - eps:
                take = _Take(stage, n_frames, fps, photos)
            if take is not None and take.add(frame):
                take.close()
                path = _publish(take.path, res.folder, take.path.suffix)
                res.paths.append(path)
                if progress is not None:
                    progress(path)
                take, start_at = None, last_t + 1.0 / fps + gap_s
            if show:
                hands = lm(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))) if lm is not None else None
                phase = "rec" if take is not None else "wait"
                view = _overlay(frame, hands, phase, start_at - last_t, res.takes_written + 1, res.takes_requested)
                cv2.imshow("aslkit capture (q to quit)", view)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    res.quit = res.takes_written < res.takes_requested
                    break
    finally:
        if take is not None:
            take.discard()
        if lm is not None:
            lm.close()
        if show:
            cv2.destroyAllWindows()
    return n


def _not_a_take(out: Path) -> Path | None:
    """The first visible entry of ``out`` that a capture folder would not hold (anything but
    ``<label>/take-NNN.mp4|jpg``); hidden entries (a staging folder, .DS_Store) are ignored, as train ignores them."""
    for entry in sorted(out.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() or not entry.is_dir():
            return entry
        for f in sorted(entry.iterdir()):
            if not f.name.startswith(".") and (f.is_symlink() or not f.is_file() or not _TAKE_FILE.match(f.name)):
                return f
    return None


def check_takes_folder(out: str | Path, read_from: Iterable[str | Path] = (), flag: str = "--record-dir") -> Path:
    """AslkitError unless ``out`` may receive takes: a new or empty folder, or a folder of takes
    (``<label>/take-NNN.mp4``) that capture or the web app wrote, outside every input in ``read_from`` and
    outside any read-only folder. Anything else there is the user's own data, which takes never mix with."""
    if not str(out).strip():  # Path("") is the current folder; "  " a folder nobody means
        raise AslkitError(f"{flag}: give a folder name")
    out_p = Path(out)
    check_outside(out_p, read_from, flag=flag)
    if out_p.is_symlink() and not out_p.exists():
        raise AslkitError(f"{flag} {shown(str(out))} is a broken link; give a folder")
    if out_p.exists() and not out_p.is_dir():
        raise AslkitError(f"{flag} {shown(str(out))} exists and is not a folder")
    if out_p.is_dir():
        try:
            other = _not_a_take(out_p)
        except OSError as exc:
            raise AslkitError(f"{flag} {shown(str(out))}: cannot list this folder ({exc.strerror or exc})") from None
        if other is not None:
            raise AslkitError(
                f"{flag} {shown(str(out))} holds {shown(other.relative_to(out_p).as_posix())}, which is not a take; "
                "give a new or empty folder, or a folder of takes (<label>/take-NNN.mp4)"
            )
    return out_p


def count_takes(out: str | Path) -> dict[str, int]:
    """Takes per label in a folder of takes (``<label>/take-NNN.*``), labels sorted; {} for a new folder."""
    out_p = Path(out)
    if not out_p.is_dir():
        return {}
    counts = {}
    for entry in sorted(out_p.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
            counts[entry.name] = sum(1 for f in entry.iterdir() if _TAKE_FILE.match(f.name))
    return counts


def write_take(frames: Iterable[np.ndarray], fps: float, out: str | Path, label: str) -> tuple[Path, int]:
    """One take of ``label`` from BGR frames (a browser's, say) as the next ``out/<label>/take-NNN.mp4``, and its
    frame count. Like capture's takes: written in a hidden staging folder and moved into place only when
    complete, never over an existing file, never outside ``out``. Frames of another size are resized to the first's."""
    import cv2

    name = label_folder_name(label)
    out_p = Path(out)
    folder = out_p / name
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise AslkitError(f"{shown(str(folder))} is not a folder of takes (a link or a file); nothing was written")
    if not np.isfinite(fps) or fps <= 0:
        raise AslkitError(f"fps must be a positive number, got {fps!r}")
    try:
        out_p.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".capture-", dir=out_p))
    except OSError as exc:
        raise AslkitError(f"{shown(str(out))}: cannot create a folder there ({exc.strerror or exc})") from None
    writer, n = None, 0
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = video_writer(stage / "take.mp4", fps, w, h)
            elif frame.shape[:2] != (h, w):
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            writer.write(np.ascontiguousarray(frame))
            n += 1
        if writer is None:
            raise AslkitError("no frames to write: nothing was recorded")
        writer.release()
        return _publish(stage / "take.mp4", folder, ".mp4"), n
    finally:
        if writer is not None:
            writer.release()
        shutil.rmtree(stage, ignore_errors=True)
