"""`aslkit capture`: takes from a video file (the camera stand-in), never overwritten, read by train's scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aslkit import cli
from aslkit.errors import AslkitError
from aslkit.live.capture import capture, label_folder_name

cv2 = pytest.importorskip("cv2")


def _video(path: Path, seconds: float, fps: int = 10) -> Path:
    """A small synthetic video: each frame a different grey level, so frames are told apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (160, 120))
    for i in range(round(seconds * fps)):
        frame = np.full((120, 160, 3), (i * 7) % 256, np.uint8)
        cv2.putText(frame, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        w.write(frame)
    w.release()
    return path


def _frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    try:
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return _video(tmp_path / "src" / "clip.mp4", 10)


def _cap(clip: Path, out: Path, **kw):
    kw = {"takes": 2, "seconds": 2.0, "countdown_s": 1.0, "gap_s": 1.0, "window": False, **kw}
    return capture("hello", out, source=str(clip), **kw)


def test_two_takes_of_known_length(clip: Path, tmp_path: Path) -> None:
    before = clip.read_bytes()
    seen: list[Path] = []
    res = _cap(clip, tmp_path / "signs", progress=seen.append)
    names = sorted(p.name for p in (tmp_path / "signs" / "hello").iterdir())
    assert names == ["take-001.mp4", "take-002.mp4"]
    assert res.complete and not res.ended and seen == res.paths
    assert [_frames(p) for p in res.paths] == [20, 20]
    assert clip.read_bytes() == before
    assert [p.name for p in (tmp_path / "signs").iterdir()] == ["hello"]  # no staging folder left behind
    assert "wrote 2 take(s) of 'hello'" in res.text() and res.to_json()["takes_written"] == 2


def test_second_capture_adds_takes_never_overwrites(clip: Path, tmp_path: Path) -> None:
    from aslkit.data.sequences import video_files

    out = tmp_path / "signs"
    first = _cap(clip, out).paths
    old = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in first}
    second = _cap(clip, out, takes=1).paths
    assert [p.name for p in second] == ["take-003.mp4"]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in first} == old
    assert [(f.parent.name, f.name) for f in video_files(out)] == [
        ("hello", "take-001.mp4"),
        ("hello", "take-002.mp4"),
        ("hello", "take-003.mp4"),
    ]


def test_source_ends_early_keeps_complete_takes(clip: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "signs"
    argv = ["capture", "--label", "hello", "--out", str(out), "--source", str(clip), "--takes", "10",
            "--countdown", "1", "--gap", "1", "--no-window"]  # fmt: skip
    assert cli.main(argv) == 1
    takes = sorted((out / "hello").iterdir())
    assert [p.name for p in takes] == ["take-001.mp4", "take-002.mp4", "take-003.mp4"]  # starts at 1, 4, 7 s
    assert all(_frames(p) == 20 for p in takes)
    captured = capsys.readouterr()
    assert captured.out.count("wrote ") == 4  # three takes, then the summary
    assert len(captured.err.strip().splitlines()) == 1 and "3 of 10" in captured.err
    assert "--countdown 0 --gap 0" in captured.err, "a video file: how to take every frame"


def test_a_short_video_with_the_default_countdown_says_how_to_take_it(tmp_path: Path, capsys) -> None:
    clip = _video(tmp_path / "src" / "short.mp4", 2)  # shorter than the default 3 s countdown
    argv = ["capture", "--label", "hello", "--out", str(tmp_path / "signs"), "--source", str(clip), "--no-window"]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out.strip().startswith("wrote no take of 'hello';"), "not a folder that was never made"
    err = err.strip()
    assert err.startswith("aslkit: error: the source ended after 0 of 10 takes;") and len(err.splitlines()) == 1
    assert "countdown (3 s)" in err and "kept" not in err
    assert not (tmp_path / "signs").exists(), "no empty --out is left behind"
    argv += ["--takes", "1", "--seconds", "1.5", "--countdown", "0", "--gap", "0"]
    assert cli.main(argv) == 0 and len(list((tmp_path / "signs" / "hello").iterdir())) == 1


def test_partial_take_is_discarded(tmp_path: Path) -> None:
    clip = _video(tmp_path / "src" / "short.mp4", 8)  # the third take (7 s ..) has only 1 s of frames
    res = _cap(clip, tmp_path / "signs", takes=3)
    assert res.ended and res.takes_written == 2
    assert sorted(p.name for p in (tmp_path / "signs").rglob("*")) == ["hello", "take-001.mp4", "take-002.mp4"]


def test_photos(clip: Path, tmp_path: Path) -> None:
    res = capture("a", tmp_path / "letters", takes=2, seconds=1.0, source=str(clip), photos=True,
                  countdown_s=0.0, gap_s=0.5, window=False)  # fmt: skip
    assert [p.name for p in res.paths] == ["take-001.jpg", "take-002.jpg"]
    assert res.folder.name == "A"  # a letter's class folder in aslkit's spelling
    assert cv2.imread(str(res.paths[0])).shape == (120, 160, 3)


@pytest.mark.parametrize("label", ["../x", "a/b", "", "..", ".hidden"])
def test_bad_label(label: str) -> None:
    with pytest.raises(AslkitError):
        label_folder_name(label)


def test_bad_label_cli(clip: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "signs"
    assert cli.main(["capture", "--label", "../x", "--out", str(out), "--source", str(clip), "--no-window"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--label" in err[0]
    assert not out.exists() and not (tmp_path / "x").exists()


def test_missing_camera(tmp_path: Path, capsys) -> None:
    out = tmp_path / "signs"
    assert cli.main(["capture", "--label", "hello", "--out", str(out), "--source", "7", "--no-window"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "camera 7" in err[0]


@pytest.mark.parametrize("where", ["folder", "video", "beside"])
def test_out_near_the_source_is_refused(clip: Path, where: str) -> None:
    out = {"folder": clip.parent, "video": clip, "beside": clip.parent.parent}[where]
    label = "src" if where == "beside" else "hello"  # beside: out/src is the video's own folder
    with pytest.raises(AslkitError, match="--out"):
        capture(label, out, takes=1, source=str(clip), window=False)
    assert sorted(p.name for p in clip.parent.iterdir()) == ["clip.mp4"]


def test_a_folder_of_takes_next_to_the_source_video(clip: Path, monkeypatch) -> None:
    """The README's own `capture --source clip.mp4 --out my_signs/`, run where clip.mp4 is, was refused as
    "beside the input": the takes go into a folder of their own, never among the user's files."""
    monkeypatch.chdir(clip.parent)
    assert cli.main(["capture", "--label", "hello", "--out", "my_signs/", "--takes", "1", "--seconds", "1",
                     "--source", "clip.mp4", "--countdown", "0", "--gap", "0", "--no-window"]) == 0  # fmt: skip
    assert sorted(p.relative_to(clip.parent).as_posix() for p in clip.parent.rglob("*") if p.is_file()) == [
        "clip.mp4",
        "my_signs/hello/take-001.mp4",
    ]


def test_out_is_a_file(clip: Path, tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(AslkitError, match="not a folder"):
        capture("hello", f, takes=1, source=str(clip), window=False)
    assert f.read_text() == "x"


def test_window_shows_drawing_but_saves_raw_frames(clip: Path, tmp_path: Path, monkeypatch) -> None:
    """With a window, the countdown and landmarks are drawn on what is shown; the takes stay the raw frames."""
    import aslkit.landmarks.extractor as extractor
    import aslkit.live.capture as capture_mod

    class _NoHands:
        def __init__(self, **kw) -> None:
            pass

        def __call__(self, rgb):
            return None

        def close(self) -> None:
            pass

    shown_frames: list[np.ndarray] = []
    monkeypatch.setattr(capture_mod, "has_display", lambda: True)
    monkeypatch.setattr(extractor, "HandLandmarker", _NoHands)
    monkeypatch.setattr(cv2, "imshow", lambda name, img: shown_frames.append(img))
    monkeypatch.setattr(cv2, "waitKey", lambda ms: -1)
    monkeypatch.setattr(cv2, "destroyAllWindows", lambda: None)
    drawn = _cap(clip, tmp_path / "a", takes=1, window=True)
    raw = _cap(clip, tmp_path / "b", takes=1)
    assert len(shown_frames) == 30  # 1 s of countdown, then the 2 s take
    assert drawn.paths[0].read_bytes() == raw.paths[0].read_bytes()


def test_out_holding_the_users_own_files_is_refused(clip: Path, tmp_path: Path) -> None:
    """Takes go to a new or empty folder, or one of takes: never into a folder of the user's own data."""
    mine = tmp_path / "my_videos"
    (mine / "hello").mkdir(parents=True)
    (mine / "hello" / "holiday.mp4").write_bytes(b"not a take")
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(AslkitError, match="not a take"):
        _cap(clip, mine)
    assert sorted(p.name for p in mine.rglob("*")) == ["hello", "holiday.mp4", "notes.txt"]
    _cap(clip, tmp_path / "takes", takes=1)
    _cap(clip, tmp_path / "takes", takes=1)  # a folder of takes grows
    assert sorted(p.name for p in (tmp_path / "takes" / "hello").iterdir()) == ["take-001.mp4", "take-002.mp4"]
