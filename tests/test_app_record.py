"""The web app's Record tab without a browser: frames of a video file go through the tab's handlers as the
browser would stream them, and come out as ``<record-dir>/<label>/take-NNN.mp4``, never over a take, never
under another label, never outside the folder, and not at all when recording is off or the input is bad."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, on_two_threads, shared_dir, snapshot

from aslkit.app import record
from aslkit.app.record import (
    NO_FRAMES,
    RECORDING_OFF,
    TakeRecorder,
    record_frame,
    save_take,
    start_take,
    take_fps,
    takes_summary,
)
from aslkit.cli import main
from aslkit.errors import AslkitError
from aslkit.live.capture import capture, check_takes_folder, count_takes, write_take

cv2 = pytest.importorskip("cv2")


def _video(path: Path, n: int = 40, fps: int = 10) -> Path:
    """A small video whose frame i is black with a white block in cell i of a 10 x 4 grid: frames are told
    apart even after two rounds of video compression (``_frame_number``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (160, 120))
    for i in range(n):
        frame = np.zeros((120, 160, 3), np.uint8)
        x, y = (i % 10) * 16, (i // 10) * 30
        frame[y : y + 30, x : x + 16] = 255
        w.write(frame)
    w.release()
    return path


def _frame_number(bgr: np.ndarray) -> int:
    """Which frame of ``_video`` this is: its brightest cell."""
    cells = bgr.mean(axis=2).reshape(4, 30, 10, 16).mean(axis=(1, 3))
    return int(np.argmax(cells.ravel()))


def _rgb_frames(path: Path, side: int | None = None) -> Iterator[np.ndarray]:
    """A video file's frames as the browser sends them: RGB arrays (optionally shrunk to ``side``)."""
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            if side is not None:
                s = side / max(bgr.shape[:2])
                bgr = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def _read(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return out
            out.append(frame)
    finally:
        cap.release()


class _Clock:
    """Frames arrive every 0.1 s, whatever the machine's speed."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> float:
        self.n += 1
        return self.n / 10


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return _video(tmp_path / "src" / "clip.mp4")


def _record(rec: TakeRecorder, frames, label: str, out: Path) -> tuple[str, str]:
    """Start take, stream ``frames`` through the camera handler, Save take: what the page would show."""
    assert not start_take(rec, label, out).startswith(("Label", "Type", "No ")), start_take(rec, label, out)
    for f in frames:
        preview, status, same = record_frame(f, rec, out)
        assert same is rec and preview.shape == f.shape and status.startswith("Recording")
    return save_take(rec, label, out)


def test_takes_from_a_video_are_numbered_labelled_and_never_overwritten(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "my_signs"
    frames = list(_rgb_frames(clip))
    rec = TakeRecorder(clock=_Clock())
    status, summary = _record(rec, frames[:20], "hello", out)
    assert status.startswith("Saved hello/take-001.mp4: 20 frames, 2.0 s at 10.0 fps"), status
    first = out / "hello" / "take-001.mp4"
    kept = (first.read_bytes(), first.stat().st_mtime_ns)
    got = _read(first)
    assert len(got) == 20 and int(cv2.VideoCapture(str(first)).get(cv2.CAP_PROP_FPS)) == 10
    assert [_frame_number(g) for g in got] == list(range(20)), "the frames in their order, none lost or repeated"

    status, _ = _record(rec, frames[20:30], "hello", out)
    assert status.startswith("Saved hello/take-002.mp4: 10 frames")
    assert (first.read_bytes(), first.stat().st_mtime_ns) == kept, "take-001 was written over"
    assert [_frame_number(g) for g in _read(out / "hello" / "take-002.mp4")] == list(range(20, 30))

    status, summary = _record(rec, frames[30:], "thank-you", out)
    assert status.startswith("Saved thank-you/take-001.mp4")
    assert count_takes(out) == {"hello": 2, "thank-you": 1}
    assert "| `hello` | 2 |" in summary and "| `thank-you` | 1 |" in summary and "my_signs" in summary
    assert str(tmp_path) not in summary, "the page names the folder, not where it is on the server's disk"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "my_signs/hello/take-001.mp4",
        "my_signs/hello/take-002.mp4",
        "my_signs/thank-you/take-001.mp4",
        "src/clip.mp4",
    ], "no staging folder left, nothing outside the folder"


def test_web_takes_join_a_capture_folder_after_its_takes(clip: Path, tmp_path: Path) -> None:
    """`aslkit capture` and the Record tab grow one folder: numbers continue, letters use aslkit's spelling."""
    out = tmp_path / "signs"
    capture("a", out, takes=2, seconds=1.0, source=str(clip), countdown_s=0.0, gap_s=0.0, window=False)
    check_takes_folder(out)  # a capture folder is accepted as it is
    rec = TakeRecorder(clock=_Clock())
    status, _ = _record(rec, list(_rgb_frames(clip))[:8], "a", out)
    assert status.startswith("Saved A/take-003.mp4"), status
    assert sorted(p.name for p in (out / "A").iterdir()) == ["take-001.mp4", "take-002.mp4", "take-003.mp4"]


def test_recording_off_writes_nothing(clip: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    frame = next(_rgb_frames(clip))
    assert record_frame(frame, None, None) == (None, RECORDING_OFF, None)
    assert start_take(None, "hello", None) == RECORDING_OFF
    rec = TakeRecorder()
    assert save_take(rec, "hello", None) == (RECORDING_OFF, "")
    assert snapshot(tmp_path) == before
    assert "--record-dir" in RECORDING_OFF and "\n" not in RECORDING_OFF


def test_recording_off_tab_only_explains() -> None:
    gr = pytest.importorskip("gradio")
    with gr.Blocks() as demo:
        record.record_tab(None)
    kinds = [type(b).__name__ for b in demo.blocks.values()]
    assert kinds == ["Markdown"], kinds  # no camera, no buttons: nothing could write
    assert next(iter(demo.blocks.values())).value == RECORDING_OFF


@pytest.mark.parametrize("label", ["", "   ", "../x", "a/b", "..", ".hidden", "a\\b", None])
def test_bad_labels_are_one_line_and_write_nothing(label, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "my_signs"
    rec = TakeRecorder(clock=_Clock())
    start = start_take(rec, label, out)
    assert start.startswith(("Label ", "Type a label")) and "\n" not in start, start
    assert not rec.recording
    rec.start("hello")
    for f in list(_rgb_frames(clip))[:10]:
        record_frame(f, rec, out)
    status, _ = save_take(rec, label, out)
    assert status.startswith(("Label ", "Type a label")) and "\n" not in status, status
    assert len(rec.frames) == 10, "a bad label keeps the take: fix the label and save again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"], "nothing written, in the folder or beside it"


def test_a_take_is_saved_only_under_the_label_it_was_started_with(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "my_signs"
    rec = TakeRecorder(clock=_Clock())
    start_take(rec, "hello", out)
    for f in list(_rgb_frames(clip))[:10]:
        record_frame(f, rec, out)
    status, _ = save_take(rec, "thank-you", out)
    assert status.startswith("The label changed since Start take ('hello' -> 'thank-you')"), status
    assert not out.exists() and len(rec.frames) == 10
    assert save_take(rec, " hello ", out)[0].startswith("Saved hello/take-001.mp4: 10 frames")


def test_no_frames_and_too_few_frames(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "my_signs"
    assert start_take(None, "hello", out) == NO_FRAMES  # the camera has sent nothing yet
    assert save_take(None, "hello", out)[0] == NO_FRAMES
    rec = TakeRecorder(clock=_Clock())
    assert save_take(rec, "hello", out)[0].startswith("No take started")
    rec.start("hello")
    assert save_take(rec, "hello", out)[0] == NO_FRAMES
    for f in list(_rgb_frames(clip))[:3]:
        record_frame(f, rec, out)
    status, _ = save_take(rec, "hello", out)
    assert status.startswith("Only 3 frame(s)") and rec.recording
    assert not out.exists()


def test_a_take_stops_by_itself_at_the_longest(clip: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(record, "MAX_TAKE_S", 0.95)
    rec = TakeRecorder(clock=_Clock())
    rec.start("hello")
    for f in list(_rgb_frames(clip))[:20]:
        record_frame(f, rec, tmp_path / "out")
    assert not rec.recording and len(rec.frames) == 11 and "stopped at 1 s" in rec.message
    assert save_take(rec, "hello", tmp_path / "out")[0].startswith("Saved hello/take-001.mp4: 11 frames")


def test_take_fps_is_the_arrival_rate_within_bounds() -> None:
    assert take_fps([0.0, 0.2, 0.4, 0.6]) == pytest.approx(5.0)
    assert take_fps([1.0]) == 10.0 and take_fps([1.0, 1.0]) == 10.0
    assert take_fps([0.0, 100.0]) == 1.0 and take_fps([0.0, 0.001]) == 60.0


def test_a_label_folder_that_is_a_link_is_not_followed(clip: Path, tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "my_signs", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "hello").symlink_to(elsewhere, target_is_directory=True)
    rec = TakeRecorder(clock=_Clock())
    status, _ = _record(rec, list(_rgb_frames(clip))[:10], "hello", out)
    assert status.startswith("Not saved: ") and "\n" not in status, status
    assert list(elsewhere.iterdir()) == [] and [p.name for p in out.iterdir()] == ["hello"]


def test_write_take_refuses_no_frames_and_cleans_up(tmp_path: Path) -> None:
    with pytest.raises(AslkitError, match="no frames"):
        write_take(iter(()), 10.0, tmp_path / "out", "hello")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [], "no staging folder left behind"
    with pytest.raises(AslkitError, match="--label"):
        write_take([np.zeros((8, 8, 3), np.uint8)], 10.0, tmp_path / "out", "../x")


# ---- which folders may receive takes ---------------------------------------------------------------------------


def _read_only(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            os.chmod(Path(root) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for root, dirs, _ in os.walk(folder, topdown=False):
        for name in dirs:
            os.chmod(Path(root) / name, 0o555)
    os.chmod(folder, 0o555)


@pytest.fixture()
def data(tmp_path: Path) -> Iterator[Path]:
    """A read-only data set like ../shared/data: class folders of photos and videos, mode r-x."""
    d = tmp_path / "data"
    (d / "photos" / "b").mkdir(parents=True)
    (d / "photos" / "b" / "hand1_b.jpg").write_bytes(b"\xff\xd8 photo")
    _video(d / "word-videos" / "hello" / "signquest-hello.mp4", n=5)
    _read_only(d)
    yield d
    for root, _dirs, _ in os.walk(d):
        os.chmod(root, 0o755)


def test_takes_folder_rule(tmp_path: Path, data: Path, clip: Path) -> None:
    check_takes_folder(tmp_path / "new" / "my_signs")  # new
    (tmp_path / "empty").mkdir()
    check_takes_folder(tmp_path / "empty")
    refused = {
        "inside read-only data, new": data / "word-videos" / "mine",
        "a read-only data set": data / "word-videos",
        "read-only, deeper and new": data / "photos" / "x" / "y",
        "a folder of the user's videos": clip.parent,
        "a file": clip,
    }
    for why, folder in refused.items():
        with pytest.raises(AslkitError, match="--record-dir") as exc:
            check_takes_folder(folder)
        assert "\n" not in str(exc.value), why
    (tmp_path / "runs" / "run1").mkdir(parents=True)
    with pytest.raises(AslkitError, match="inside the input folder"):
        check_takes_folder(tmp_path / "runs" / "takes", [tmp_path / "runs"])
    for blank in ("", "   "):  # "" was the current folder, "   " a folder of three spaces
        with pytest.raises(AslkitError, match="^--record-dir: give a folder name$"):
            check_takes_folder(blank)


def test_shared_data_is_refused_without_writing() -> None:
    """The real data folder (read-only by its mode; root could write there anyway): only checked, never written."""
    shared_dir()
    for folder in (SHARED, SHARED / "word-videos", SHARED / "word-videos" / "mine", SHARED / "new" / "deeper"):
        with pytest.raises(AslkitError, match="--record-dir"):
            check_takes_folder(folder)
    assert not (SHARED / "word-videos" / "mine").exists() and not (SHARED / "new").exists()


def test_save_refuses_a_folder_that_went_bad(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "my_signs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    rec = TakeRecorder(clock=_Clock())
    status, _ = _record(rec, list(_rgb_frames(clip))[:10], "hello", out)
    assert status.startswith("Not saved: --record-dir my_signs holds notes.txt"), status
    assert str(tmp_path) not in status and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_a_record_dir_inside_data_in_one_line(data: Path, tmp_path: Path, capsys) -> None:
    assert main(["serve", "--port", str(_free_port()), "--record-dir", str(data / "word-videos" / "mine")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--record-dir" in err[0] and "read-only" in err[0], err
    assert not (data / "word-videos" / "mine").exists()
    runs = tmp_path / "runs"
    runs.mkdir()
    assert main(["serve", "--port", str(_free_port()), "--runs", str(runs), "--record-dir", str(runs / "t")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--record-dir" in err[0] and "input folder" in err[0], err


# ---- the preview, and train reading the folder -----------------------------------------------------------------


def test_preview_shows_landmarks_the_take_stays_raw(tmp_path: Path) -> None:
    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0]
    rgb = cv2.cvtColor(cv2.copyMakeBorder(cv2.imread(str(photo)), 60, 60, 60, 60, cv2.BORDER_CONSTANT),
                       cv2.COLOR_BGR2RGB)  # fmt: skip
    rec = TakeRecorder(clock=_Clock())
    preview, _, _ = record_frame(rgb, rec, tmp_path / "out")
    assert max(preview.shape) == record.PREVIEW_SIDE == 480 and rgb.shape[0] == 520  # the preview is smaller
    plain = cv2.resize(rgb, preview.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(preview.astype(int) - plain).sum() > 1000, "landmarks drawn"
    rec.start("b")
    for _ in range(6):
        record_frame(rgb, rec, tmp_path / "out")
    assert save_take(rec, "b", tmp_path / "out")[0].startswith("Saved B/take-001.mp4")
    saved = _read(tmp_path / "out" / "B" / "take-001.mp4")[0]
    assert np.abs(saved.astype(int) - rgb[:, :, ::-1]).mean() < 6, "the saved frame is the raw frame"


def test_recorded_folder_is_a_training_set(tmp_path: Path) -> None:
    """What `aslkit train DIR` reads: the takes of a real word video, recorded through the tab, load as clips."""
    from aslkit.data.sequences import is_sequence_source
    from aslkit.landmarks.holistic import load_sequences

    video = sorted((shared_dir("word-videos") / "hello").glob("*.mp4"))[0]
    out = tmp_path / "my_signs"
    frames = list(_rgb_frames(video, side=320))[:24]
    rec = TakeRecorder(clock=_Clock())
    for label in ("hello", "hello", "bye"):
        assert _record(rec, frames, label, out)[0].startswith("Saved")
    assert is_sequence_source(out)
    clips = load_sequences(out, cache_dir=None)
    assert sorted(clips.labels) == ["bye", "hello", "hello"] and not clips.errors
    assert all(len(s) == 24 for s in clips.sequences)


def test_summary_when_empty(tmp_path: Path) -> None:
    assert takes_summary(tmp_path / "none") == "No takes in `none/` yet."
    assert takes_summary(None) == ""


def test_one_sessions_frames_on_two_threads_share_the_tracker_safely(tmp_path: Path) -> None:
    """Two stream events of one session ran MediaPipe's graph at once: a segfault that took the server down, or
    "Packet timestamp mismatch" and a broken tracker for the rest of the session."""
    rgb = np.zeros((240, 320, 3), np.uint8)
    rec = TakeRecorder()
    record_frame(rgb, rec, tmp_path)
    errors = on_two_threads(lambda: record_frame(rgb, rec, tmp_path), 15)
    rec.close()
    assert errors == []
    assert rec.track_lock.acquire(blocking=False), "the tracker lock is released after every frame"


def test_a_take_that_cannot_be_written_is_kept_for_another_try(clip: Path, tmp_path: Path, monkeypatch) -> None:
    """An OSError while writing (a full disk, a name too long) was a traceback, and the take's frames were gone."""
    out = tmp_path / "out"
    rec = TakeRecorder(clock=_Clock())
    start_take(rec, "hello", out)
    for f in _rgb_frames(clip):
        record_frame(f, rec, out)

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    import aslkit.live.capture as capture_module

    monkeypatch.setattr(capture_module, "write_take", full_disk)  # save_take imports it when it runs
    status, _ = save_take(rec, "hello", out)
    assert status == "Not saved: cannot write the take (No space left on device)" and str(tmp_path) not in status
    monkeypatch.undo()
    assert save_take(rec, "hello", out)[0].startswith("Saved hello/take-001.mp4: 40 frames"), "the take was kept"
    assert save_take(rec, "hello", out)[0].startswith("No take started"), "and saved once"


def test_labels_too_long_for_a_folder_and_labels_of_one_folder(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rec = TakeRecorder(clock=_Clock())
    record_frame(next(_rgb_frames(clip)), rec, out)
    for label in ("x" * 256, "é" * 128):
        assert start_take(rec, label, out).startswith("Label is too long: 256 bytes, and a folder name holds 255")
    assert not start_take(rec, "é" * 127, out).startswith("Label")
    start_take(rec, "a", out)  # a and A are one label, one folder (A)
    for f in _rgb_frames(clip):
        record_frame(f, rec, out)
    assert save_take(rec, "A", out)[0].startswith("Saved A/take-001.mp4")
