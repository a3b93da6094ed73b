"""The Record tab of `aslkit serve`: the browser's camera -> labelled takes, ``<record-dir>/<label>/take-NNN.mp4``.

The folder is the one the server was started with (``--record-dir``); without it the tab only says how to turn
recording on, and nothing is written anywhere. Takes are written by capture's own writer (live/capture.py), so the
web app and `aslkit capture` grow the same kind of folder the same way: staged, then moved into place, numbered
after the takes already there, never over one, and readable by `aslkit train DIR`.

The browser streams frames (about 10 a second); the server keeps those between Start take and Save take, as
JPEG in memory, bounded by MAX_TAKE_S. The saved take is the raw frames at the rate they arrived; the preview
shows the hand landmarks. Every mistake (no label, a label with '/', no frames, a folder gone bad) is one line
in the status box, never a traceback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import AslkitError
from aslkit.names import shown

MIN_FRAMES = 5  # a clip of fewer frames is an error row for train: such a take is not saved
MAX_TAKE_S = 30.0  # a take stops by itself after this long (memory: about 3 MB per second of 640x480)
MAX_SIDE = 1280  # frames larger than this (longer side) are shrunk before they are kept
PREVIEW_SIDE = 480  # the preview's longer side: a smaller image goes back to the browser sooner
JPEG_QUALITY = 95
STREAM_EVERY = 0.1  # seconds between the frames the browser sends
# camera streams served at once (Webcam and Record tabs each): a closed tab's stream can hold its slot until its
# time limit (processing time, 600 s), so a small number let two abandoned tabs shut everyone else out
STREAMS_AT_ONCE = 8
FPS_RANGE = (1.0, 60.0)  # a take's frame rate, measured from the frames' arrival, is kept within this

RECORDING_OFF = (
    "Recording is off: this server was started without a folder for takes. To record your own signs from "
    "this page, start it with `aslkit serve --record-dir my_signs/` (a new or empty folder, or one that "
    "`aslkit capture` wrote). Takes are saved as `my_signs/<label>/take-001.mp4`, ..., and "
    "`aslkit train my_signs/` trains on them. Nothing is written until then."
)
HOW_TO = (
    "1. Type the sign's label. 2. Click the camera and press its Record button (the preview shows your hand's "
    "landmarks). 3. Start take, sign, Save take. Takes go to `{folder}/<label>/take-NNN.mp4` beside those already "
    "there, never over one; `aslkit train {folder}/` trains on them."
)


class TakeRecorder:
    """One browser session's camera: the take being recorded (JPEG frames and their arrival times), the last
    message for the status box, and a hand tracker for the preview. Used by the stream and the buttons at
    once, hence the lock."""

    def __init__(self, clock=time.monotonic) -> None:
        self.lock = threading.Lock()
        self.clock = clock
        self.frames: list[bytes] = []
        self.times: list[float] = []
        self.recording = False
        self.label = ""
        self.message = "Camera on. Type a label, then Start take."
        self._hands: Any = None
        self.track_lock = threading.Lock()  # one tracker call at a time: two at once crashed the server

    def add(self, rgb: np.ndarray) -> np.ndarray:
        """Keep one browser frame (RGB) if a take is being recorded; the preview to show (RGB, drawn on)."""
        import cv2

        bgr = np.ascontiguousarray(rgb[:, :, 2::-1]) if rgb.ndim == 3 else cv2.cvtColor(rgb, cv2.COLOR_GRAY2BGR)
        side = max(bgr.shape[:2])
        if side > MAX_SIDE:
            bgr = cv2.resize(bgr, None, fx=MAX_SIDE / side, fy=MAX_SIDE / side, interpolation=cv2.INTER_AREA)
        with self.lock:
            if self.recording:
                ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if ok:
                    self.frames.append(buf.tobytes())
                    self.times.append(self.clock())
                seconds = self.times[-1] - self.times[0] if self.times else 0.0
                n = len(self.frames)
                self.message = f"Recording '{shown(self.label)}': {n} frames, {seconds:.1f} s. Save take when done."
                if seconds >= MAX_TAKE_S:
                    self.recording = False
                    self.message = (f"The take stopped at {MAX_TAKE_S:.0f} s (the longest take): Save take keeps it, "
                                    "Start take begins again.")  # fmt: skip
            recording = self.recording
        return self._preview(bgr, recording)

    def _preview(self, bgr: np.ndarray, recording: bool) -> np.ndarray:
        """A copy of the frame (at most PREVIEW_SIDE) with the hands' landmarks, and a red dot while recording (the
        take stays raw)."""
        import cv2

        from aslkit.landmarks.extractor import HandLandmarker
        from aslkit.live.draw import draw_skeleton

        scale = min(1.0, PREVIEW_SIDE / max(bgr.shape[:2]))
        view = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else bgr.copy()
        with self.track_lock:  # one session's frames may come on two threads; MediaPipe's graph is not shared
            if self._hands is None:
                self._hands = HandLandmarker(static=False, max_hands=2, tracking_complexity=0, retry=False)
            hands = self._hands(np.ascontiguousarray(view[:, :, ::-1])).hands
        for hand in hands:
            draw_skeleton(view, hand)
        if recording:
            cv2.circle(view, (20, 20), 9, (0, 0, 255), -1)
            cv2.putText(view, "REC", (36, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 255), 2, cv2.LINE_AA)
        return view[:, :, ::-1]

    def start(self, label: str) -> None:
        """Begin a new take (frames not saved yet are dropped)."""
        with self.lock:
            self.frames, self.times, self.recording, self.label = [], [], True, label
            self.message = f"Recording '{shown(label)}': waiting for frames from the camera."

    def take(self) -> tuple[list[bytes], list[float]]:
        """The take so far, which then ends (kept until ``saved``, so a failed save can be tried again)."""
        with self.lock:
            self.recording = False
            return list(self.frames), list(self.times)

    def saved(self, frames: list[bytes]) -> None:
        """Drop the frames just saved (a new take started meanwhile keeps its own)."""
        with self.lock:
            if self.frames[: len(frames)] == frames:
                self.frames, self.times = self.frames[len(frames) :], self.times[len(frames) :]

    def close(self) -> None:
        """Release the hand tracker (the session is gone)."""
        with self.track_lock:
            if self._hands is not None:
                self._hands.close()
                self._hands = None


def close_recorder(rec: TakeRecorder | None) -> None:
    """gr.State's delete callback: a closed tab's tracker is released."""
    if isinstance(rec, TakeRecorder):
        rec.close()


def record_frame(frame: np.ndarray | None, rec: TakeRecorder | None, record_dir: str | Path | None):
    """The camera stream's handler: (preview, status, recorder); the recorder is made on the first frame."""
    if record_dir is None:
        return None, RECORDING_OFF, rec
    if frame is None:
        return None, (rec.message if rec else ""), rec
    if rec is None:
        rec = TakeRecorder()
    preview = rec.add(frame)
    return preview, rec.message, rec


def _label_problem(label: str | None) -> str | None:
    """One line on what is wrong with the label (the rules of `aslkit capture --label`), or None."""
    from aslkit.live.capture import label_folder_name

    if not (label or "").strip():
        return "Type a label first: the sign's name, e.g. hello (it becomes the take's folder)."
    try:
        label_folder_name(label)
    except AslkitError as exc:
        return "Label " + str(exc).removeprefix("--label ")
    return None


NO_FRAMES = ("No frames received from the camera: click the camera, press its Record button, then Start take, "
             "sign, and Save take.")  # fmt: skip


def start_take(rec: TakeRecorder | None, label: str | None, record_dir: str | Path | None) -> str:
    """Start take: the status line. Checked first: recording on, a usable label, a camera streaming."""
    if record_dir is None:
        return RECORDING_OFF
    problem = _label_problem(label)
    if problem is not None:
        return problem
    if rec is None:
        return NO_FRAMES
    rec.start(label.strip())
    return rec.message


def _frames(jpegs: list[bytes]) -> Iterator[np.ndarray]:
    import cv2

    for data in jpegs:
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if frame is not None:
            yield frame


def take_fps(times: list[float]) -> float:
    """The frame rate the frames arrived at (so the take plays at the speed it was signed), within FPS_RANGE."""
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    fps = (len(times) - 1) / span if span > 0 else 1.0 / STREAM_EVERY
    return float(min(max(fps, FPS_RANGE[0]), FPS_RANGE[1]))


def save_take(
    rec: TakeRecorder | None, label: str | None, record_dir: str | Path | None, read_from: Iterable[str | Path] = ()
) -> tuple[str, str]:
    """Save take: (status line, takes summary). The take goes to ``record_dir/<label>/`` through capture's
    writer, only under the label it was started with; the folder is checked again first (it may have changed
    since the server started)."""
    from aslkit.live.capture import check_takes_folder, label_folder_name, write_take

    if record_dir is None:
        return RECORDING_OFF, ""
    problem = _label_problem(label)
    if problem is None and (rec is None or (rec.recording and not rec.frames)):
        problem = NO_FRAMES
    elif problem is None and not rec.recording and not rec.frames:
        problem = "No take started: press Start take, sign, then Save take."
    elif problem is None and label_folder_name(label.strip()) != label_folder_name(rec.label):  # a -> A: one folder
        problem = (f"The label changed since Start take ('{shown(rec.label)}' -> '{shown(label.strip())}'): put it "
                   "back to save this take under it, or Start take again.")  # fmt: skip
    elif problem is None and len(rec.frames) < MIN_FRAMES:
        problem = f"Only {len(rec.frames)} frame(s) so far: a take needs at least {MIN_FRAMES}; sign a little longer."
    if problem is not None:
        return problem, takes_summary(record_dir)
    try:
        check_takes_folder(record_dir, read_from)
        jpegs, times = rec.take()
        fps = take_fps(times)
        path, n = write_take(_frames(jpegs), fps, record_dir, label.strip())
    except (AslkitError, OSError) as exc:  # the take stays: Save take can try again
        why = str(exc) if isinstance(exc, AslkitError) else f"cannot write the take ({exc.strerror or exc})"
        message = why.replace(str(Path(record_dir).resolve()), Path(record_dir).name)
        message = message.replace(str(record_dir), Path(record_dir).name)  # the folder by name, not the disk's path
        return f"Not saved: {shown(message)}", takes_summary(record_dir)
    rec.saved(jpegs)
    rec.message = (f"Saved {shown(path.parent.name)}/{path.name}: {n} frames, {n / fps:.1f} s at {fps:.1f} fps. "
                   "Start take for the next one.")  # fmt: skip
    return rec.message, takes_summary(record_dir)


def takes_summary(record_dir: str | Path | None) -> str:
    """Markdown: the takes in the folder per label (the folder by its name, not where it is on the server)."""
    from aslkit.live.capture import count_takes

    if record_dir is None:
        return ""
    counts = count_takes(record_dir)
    name = shown(Path(record_dir).name)
    if not any(counts.values()):
        return f"No takes in `{name}/` yet."
    rows = "".join(f"| `{shown(lab)}` | {n} |\n" for lab, n in counts.items() if n)
    return f"Takes in `{name}/`: {sum(counts.values())}\n\n| label | takes |\n|---|---|\n{rows}"


def record_tab(record_dir: str | Path | None, read_from: Iterable[str | Path] = ()) -> None:
    """The Record tab's components and events (inside ``with gr.Tab(...)``)."""
    import gradio as gr

    if record_dir is None:
        gr.Markdown(RECORDING_OFF, elem_id="record-off")
        return
    read_from = list(read_from)
    gr.Markdown(HOW_TO.format(folder=shown(Path(record_dir).name)))
    label = gr.Textbox(label="Label (the sign's name)", placeholder="hello", elem_id="record-label")
    with gr.Row():
        cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="record-input")
        preview = gr.Image(label="Preview (hand landmarks; the take is saved without them)", elem_id="record-preview")
    with gr.Row():
        start = gr.Button("Start take", elem_id="record-start")
        save = gr.Button("Save take", variant="primary", elem_id="record-save")
    status = gr.Textbox(label="Status", elem_id="record-status", interactive=False)
    takes = gr.Markdown(lambda: takes_summary(record_dir), elem_id="record-takes")
    rec = gr.State(None, delete_callback=close_recorder)
    cam.stream(lambda f, r: record_frame(f, r, record_dir), [cam, rec], [preview, status, rec],
               stream_every=STREAM_EVERY, time_limit=600, concurrency_limit=STREAMS_AT_ONCE,
               show_progress="hidden")  # fmt: skip
    start.click(lambda r, lab: start_take(r, lab, record_dir), [rec, label], status, show_progress="hidden")
    save.click(lambda r, lab: save_take(r, lab, record_dir, read_from), [rec, label], [status, takes])
