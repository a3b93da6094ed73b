"""`aslkit live`: webcam, video file or stream URL -> letters and words as text, in real time.

Each frame is decoded, run through StreamingRecognizer (MediaPipe Hands in tracking mode, the letter
model, smoothing, the motion model), drawn on, and shown in a window and/or written to a video. A
video file is timed by its own timestamps (so the text does not depend on how fast this machine is, and
a variable-frame-rate phone video keeps its real timing), or frame n at n / FPS where the decoder gives
none; a camera or stream by the wall clock.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import AslkitError
from aslkit.inference.stream import Event, StreamingRecognizer
from aslkit.landmarks.video import cut_short, frame_time, open_video
from aslkit.live.draw import draw_frame
from aslkit.live.video import video_writer
from aslkit.names import shown
from aslkit.outputs import check_new_file

STAGES = ("decode", "landmarks", "normalization", "classifier", "smoothing", "sequence", "drawing")


@dataclass
class LiveResult:
    """The text written, its events, and how fast each stage ran (ms per frame)."""

    text: str
    events: list[Event]
    frames: int
    seconds: float
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    hand_frames: int = 0  # frames where a hand was found...
    retry_frames: int = 0  # ...of them by the landmarker's retry (the tracker alone missed it)
    retry_runs: int = 0  # static MediaPipe runs the retry made: its cost

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def hand_rate(self) -> float:
        return self.hand_frames / self.frames if self.frames else 0.0

    def summary(self) -> dict[str, Any]:
        """fps, the share of frames with a hand, and each stage's median and p95 in ms (the benchmark's JSON)."""
        med = {k: round(float(np.median(v)), 4) for k, v in self.stage_ms.items() if v}
        p95 = {k: round(float(np.percentile(v, 95)), 4) for k, v in self.stage_ms.items() if v}
        cls, smooth = self.stage_ms.get("classifier", []), self.stage_ms.get("smoothing", [])
        both = [a + b for a, b in zip(cls, smooth, strict=True)]
        return {
            "fps": round(self.fps, 2),
            "frames": self.frames,
            "hand_rate": round(self.hand_rate, 4),
            "hand_frames": self.hand_frames,
            "retry_frames": self.retry_frames,
            "retry_runs": self.retry_runs,
            "stages": med,
            "stages_p95": p95,
            "classifier_and_smoothing_ms": round(float(np.median(both)), 4) if both else None,
            "text": self.text,
        }

    def to_json(self) -> dict[str, Any]:
        """What `aslkit live --json` prints: the text, its events, and the timings of ``summary``."""
        return {"text": self.text, "events": [e.to_json() for e in self.events], **self.summary()}

    def speed_line(self) -> str:
        """How fast the run went, for a person (`aslkit live` prints it on stderr, below the text)."""
        return f"{self.frames} frames at {self.fps:.1f} FPS"


def has_display() -> bool:
    """Whether a window can be shown (an X or Wayland display on Linux that answers; assumed elsewhere).
    A DISPLAY that cannot be reached (a stale SSH session's, a container's without the X socket) would make
    OpenCV's Qt abort the whole process, output files half written, so it counts as none, with a note."""
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("DISPLAY"):
        why = x_display_problem(os.environ["DISPLAY"])
        if why is None:
            return True
        if not os.environ.get("WAYLAND_DISPLAY"):
            print(f"aslkit: note: {why}; going on without a window", file=sys.stderr)
            return False
    return bool(os.environ.get("WAYLAND_DISPLAY"))


def x_display_problem(display: str, timeout_s: float = 0.5) -> str | None:
    """Why the X display ``display`` (``:0``, ``unix:1.0``, ``host:10.0``) cannot be reached, or None when its
    server takes a connection."""
    import socket

    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return f"DISPLAY={display!r} is not an X display name"
    try:
        if host in ("", "unix") or host.startswith("/"):
            path = host if host.startswith("/") else f"/tmp/.X11-unix/X{number}"
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout_s)
                sock.connect(path)
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=timeout_s).close()
    except OSError as exc:
        return f"cannot reach the display {display} ({exc.strerror or exc})"
    return None


def check_outputs(out: str | Path | None, transcript: str | Path | None, inputs: list[str]) -> None:
    """Refuse an annotated video of another format, an output that would write over a file (or over
    ``inputs``), and --out and --transcript naming the same file: before the camera opens."""
    if out is not None and Path(out).suffix.lower() not in (".mp4", ".avi", ".webm"):
        raise AslkitError(f"{shown(out)}: write the annotated video as .mp4, .webm or .avi")
    if out is not None:  # before the camera opens: nothing is ever written over
        check_new_file(out, inputs, flag="--out")
    if transcript is not None:
        check_new_file(transcript, inputs, flag="--transcript")
        if out is not None and Path(out).resolve() == Path(transcript).resolve():
            raise AslkitError("--out and --transcript name the same file")


def input_fps(cap) -> float:
    """The stream's frame rate, or 30 where it gives none (or nonsense)."""
    import cv2

    in_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    if not np.isfinite(in_fps) or in_fps <= 1:
        in_fps = 30.0
    return in_fps


def _close(cap, rec, writer, show: bool, transcript: str | Path | None) -> None:
    """Release the stream, the recognizer, the writer and the window; write the transcript (if asked)."""
    import cv2

    cap.release()
    rec.close()
    if writer is not None:
        writer.release()
    if show:
        cv2.destroyAllWindows()
    if transcript is not None:
        Path(transcript).parent.mkdir(parents=True, exist_ok=True)
        Path(transcript).write_text(rec.transcript.text + "\n", encoding="utf-8")


def run_live(
    source: str | int = 0,
    out: str | Path | None = None,
    transcript: str | Path | None = None,
    window: bool = True,
    model: str | None = None,
    max_frames: int | None = None,
    draw: bool = True,
    **overrides: Any,
) -> LiveResult:
    """Recognize a stream until it ends (or q/Esc in the window); ``out``: annotated video,
    ``transcript``: the text as a file (written even when interrupted). Live settings
    (defaults.toml [live]) come as keyword overrides."""
    import cv2

    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise AslkitError(f"max_frames must be a whole number of at least 1, got {max_frames!r}")
    src = str(source)
    is_file = not src.isdigit() and "://" not in src
    check_outputs(out, transcript, [src] if is_file else [])
    cap = open_video(source)
    in_fps = input_fps(cap)
    rec = StreamingRecognizer(model, frame_rate=in_fps if is_file else None, **overrides)
    show = window and has_display()
    writer = None
    stage_ms: dict[str, list[float]] = {k: [] for k in STAGES}
    events: list[Event] = []
    n = hand_frames = retry_frames = 0
    last_t: float | None = None
    start = time.perf_counter()
    try:
        while max_frames is None or n < max_frames:
            c0 = time.perf_counter()
            try:
                ok, frame = cap.read()
            except cv2.error:  # a camera unplugged mid-stream: the stream ends, its text is kept
                ok = False
            if not ok or frame is None:
                break
            pos = cap.get(cv2.CAP_PROP_POS_MSEC) if is_file else None
            rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            c1 = time.perf_counter()
            last_t = frame_time(pos, n, in_fps, last_t) if is_file else c1 - start
            res = rec.process(rgb, last_t)
            events += res.events
            if res.hand is not None:
                hand_frames += 1
                retry_frames += str(res.hands.attempt or "").startswith("retry")
            c2 = time.perf_counter()
            if draw or out is not None or show:
                elapsed = c2 - start
                draw_frame(frame, res, rec.transcript.text, (n + 1) / elapsed if elapsed > 0 else None)
            c3 = time.perf_counter()
            stage_ms["decode"].append(1000 * (c1 - c0))
            for k, v in res.timings.items():
                stage_ms[k].append(v)
            stage_ms["drawing"].append(1000 * (c3 - c2))
            if out is not None:
                if writer is None:
                    writer = video_writer(Path(out), in_fps, frame.shape[1], frame.shape[0])
                writer.write(frame, last_t)  # H.264 keeps the input's own clock
            if show:
                cv2.imshow("aslkit live (q to quit)", frame)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
            n += 1
    finally:
        events += rec.finish()  # the letters the decoder still held back when the stream ended
        seconds = time.perf_counter() - start
        stats = getattr(rec.landmarker, "retry_stats", None)
        whole = is_file and not show and (max_frames is None or n < max_frames)  # not stopped by q or --max-frames
        short = cut_short(cap, n, source) if whole else None
        _close(cap, rec, writer, show, transcript)
    if short and n:
        print(f"aslkit: note: {short}", file=sys.stderr)
    if n == 0:
        raise AslkitError(f"{shown(str(source))}: no frames could be read")
    runs = int(getattr(stats, "runs", 0))
    return LiveResult(rec.transcript.text, events, n, seconds, stage_ms, hand_frames, retry_frames, runs)
