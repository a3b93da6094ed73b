""".pose files (pose-format): round trips of aslkit's clips, mapping by component and point names, the files
pose-format's own Holistic writes, refusals in one line, and .pose clips in predict, evaluate, train and extract."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED, shared_dir
from test_sequence_training import _synthetic_npz

from aslkit.cli import main
from aslkit.data import pose_files
from aslkit.data.pose_files import (
    HAND_LIMBS,
    HAND_POINT_NAMES,
    POSE_LIMBS,
    POSE_POINT_NAMES,
    pose_from_blocks,
    pose_to_frames,
    read_pose_file,
)
from aslkit.data.sequences import drop_face, is_sequence_source, layout_for, write_pose_clip
from aslkit.errors import DatasetError
from aslkit.evaluation.evaluate import evaluate
from aslkit.inference.sequence_recognizer import SequenceRecognizer
from aslkit.landmarks.holistic import load_sequences
from aslkit.training.trainer import train

pose_format = pytest.importorskip("pose_format", reason="pose-format is not installed (pip install 'aslkit[pose]')")
from pose_format import Pose  # noqa: E402
from pose_format.numpy.pose_body import NumPyPoseBody  # noqa: E402
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions  # noqa: E402

WORDS = SHARED / "sign-sequences" / "words-pose-hands.npz"


def _real_clips(n: int = 6) -> tuple[np.ndarray, list[str]]:
    """n real 258-wide clips of different words the shipped ``words`` model knows (pose + hands, zeros where a
    hand was not found)."""
    if not WORDS.is_file():
        pytest.skip(f"real data not available: {WORDS} is absent (see ../shared/data/README.md)")
    from aslkit.models.io import load_model

    known = set(load_model("words").labels)
    z = np.load(WORDS)
    labels = z["label"]
    words = sorted(w for w in set(labels.tolist()) if len(w) > 1 and w in known)[:n]
    picks = [int(np.flatnonzero(labels == lab)[0]) for lab in words]
    return z["sequences"][picks].astype(np.float32), [str(labels[i]) for i in picks]


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ---- the names and limbs aslkit writes are MediaPipe's ---------------------------------------------------------


def test_point_names_and_limbs_are_mediapipe_holistics() -> None:
    import mediapipe as mp

    h = mp.solutions.holistic
    assert list(POSE_POINT_NAMES) == h.PoseLandmark._member_names_
    assert list(HAND_POINT_NAMES) == h.HandLandmark._member_names_
    assert set(POSE_LIMBS) == {tuple(e) for e in h.POSE_CONNECTIONS}
    assert set(HAND_LIMBS) == {tuple(e) for e in h.HAND_CONNECTIONS}


# ---- round trips ------------------------------------------------------------------------------------------------


def test_real_258_clips_round_trip_exactly(tmp_path: Path) -> None:
    clips, _ = _real_clips()
    assert any((np.abs(c[:, 132:195]).sum(1) == 0).any() for c in clips), "some frames miss a hand"
    for i, clip in enumerate(clips):
        p = write_pose_clip(tmp_path / f"{i}.pose", clip, 30.0)
        back = read_pose_file(p)
        assert back.frames.shape == clip.shape and back.frames.dtype == np.float32
        assert np.array_equal(back.frames, clip), f"clip {i} changed on the way"
        assert (back.fps, back.width, back.height) == (30.0, pose_files.CANVAS, pose_files.CANVAS)
    framed = read_pose_file(write_pose_clip(tmp_path / "640.pose", clips[0], 29.97, 640, 480))
    assert np.allclose(framed.frames, clips[0], atol=1e-6) and framed.fps == 29.97
    header = Pose.read((tmp_path / "640.pose").read_bytes()).header
    assert [c.name for c in header.components] == ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    assert (header.dimensions.width, header.dimensions.height) == (640, 480)


def test_hands_only_and_holistic_1662_clips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hands = rng.uniform(0.2, 0.8, (12, 126)).astype(np.float32)
    hands[3, :63] = 0.0  # the left hand not found in frame 3
    back = read_pose_file(write_pose_clip(tmp_path / "hands.pose", hands, 15.0)).frames
    assert back.shape == (12, 126) and np.array_equal(back, hands)
    full = rng.uniform(0.1, 0.9, (7, 1662)).astype(np.float32)
    back = read_pose_file(write_pose_clip(tmp_path / "holistic.pose", full, 30.0)).frames
    assert np.array_equal(back, drop_face(full, layout_for(1662))[0]), "the face is dropped, as on every read"


def test_pose_formats_own_holistic_file_reads_as_aslkits_own_landmarks(tmp_path: Path) -> None:
    """A .pose that pose-format's Holistic wrote (pixels, FACE and POSE_WORLD components, visibility as
    confidence) gives the frames aslkit's own Holistic extraction gives on the same frames, and its
    reduce_holistic version (8 body points, a face of contours) the same hands."""
    from pose_format.utils.generic import reduce_holistic
    from pose_format.utils.holistic import load_holistic

    from aslkit.landmarks.holistic import MAX_SIDE, BodyLandmarker

    video = next(iter(sorted(shared_dir("word-videos").glob("*/text2hand-*.mp4"))), None)
    if video is None:
        pytest.skip("no text2hand video in word-videos")
    cap, frames = cv2.VideoCapture(str(video)), []
    while len(frames) < 16 and (got := cap.read())[0]:
        f = got[1]
        scale = MAX_SIDE / max(f.shape[:2])
        f = cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else f
        frames.append(np.ascontiguousarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)))
    cap.release()
    h, w = frames[0].shape[:2]
    theirs = load_holistic(frames, fps=25.0, width=w, height=h, reuse=False)
    buf = io.BytesIO()
    theirs.write(buf)
    (tmp_path / "theirs.pose").write_bytes(buf.getvalue())
    with BodyLandmarker() as lm:
        ours = np.stack([lm(f) for f in frames])
    assert (np.abs(ours[:, 195:]).sum(1) > 0).sum() >= 8, "the right hand is found in most frames"
    got = read_pose_file(tmp_path / "theirs.pose")
    assert got.frames.shape == (16, 258) and got.fps == 25.0
    assert np.allclose(got.frames, ours, atol=1e-5)
    reduced = pose_to_frames(reduce_holistic(theirs))
    assert np.allclose(reduced[:, 132:], ours[:, 132:], atol=1e-5), "hands intact in a reduced file"
    kept = [POSE_POINT_NAMES.index(n) for n in ("LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_WRIST", "RIGHT_HIP")]
    pose = reduced[:, :132].reshape(16, 33, 4)
    assert np.allclose(pose[:, kept], ours[:, :132].reshape(16, 33, 4)[:, kept], atol=1e-5)
    assert (pose[:, POSE_POINT_NAMES.index("NOSE")] == 0).all(), "a point the file lacks is not found"


# ---- mapping by names, not positions ----------------------------------------------------------------------------


def _component(name: str, points: list[str], fmt: str = "XYZC") -> PoseHeaderComponent:
    return PoseHeaderComponent(name, points, [], [(0, 0, 0)], fmt)


def _handmade(parts: list[tuple[PoseHeaderComponent, np.ndarray, np.ndarray]], w: int = 200, h: int = 100) -> Pose:
    """A Pose from (component, data (T, P, 3), confidence (T, P)) in the given order."""
    header = PoseHeader(0.2, PoseHeaderDimensions(w, h, 0), [c for c, _, _ in parts])
    data = np.concatenate([d for _, d, _ in parts], axis=1)[:, None].astype(np.float32)
    conf = np.concatenate([c for _, _, c in parts], axis=1)[:, None].astype(np.float32)
    return Pose(header, NumPyPoseBody(fps=10.0, data=data, confidence=conf))


def test_components_and_points_are_found_by_name_in_any_order() -> None:
    rng = np.random.default_rng(1)
    t, scale = 5, np.array([200.0, 100.0, 1.0])
    pose = rng.uniform(0.1, 0.9, (t, 33, 4))
    left, right = rng.uniform(0.1, 0.9, (t, 21, 3)), rng.uniform(0.1, 0.9, (t, 21, 3))
    expected = np.concatenate([pose.reshape(t, -1), left.reshape(t, -1), right.reshape(t, -1)], 1).astype(np.float32)
    shuffled = rng.permutation(21)
    reverse = np.arange(33)[::-1]
    parts = [
        (_component("RIGHT_HAND_LANDMARKS", list(HAND_POINT_NAMES)), right * scale, np.ones((t, 21))),
        (_component("FACE_LANDMARKS", [str(i) for i in range(4)]), rng.uniform(0, 99, (t, 4, 3)), np.ones((t, 4))),
        (_component("LEFT_HAND_LANDMARKS", [HAND_POINT_NAMES[i] for i in shuffled]), left[:, shuffled] * scale,
         np.ones((t, 21))),
        (_component("POSE_LANDMARKS", [POSE_POINT_NAMES[i] for i in reverse]), pose[:, reverse, :3] * scale,
         pose[:, reverse, 3]),
    ]  # fmt: skip
    got = pose_to_frames(_handmade(parts))
    assert np.allclose(got, expected, atol=1e-6)


def test_confidence_zero_and_masked_points_are_not_found() -> None:
    rng = np.random.default_rng(2)
    t = 4
    pose = np.concatenate([rng.uniform(0.1, 0.9, (t, 33, 3)), np.full((t, 33, 1), 0.9)], -1)
    left, right = rng.uniform(0.1, 0.9, (t, 21, 3)), rng.uniform(0.1, 0.9, (t, 21, 3))
    p = pose_from_blocks(pose, left, right, 10.0, 1, 1)
    conf = p.body.confidence.copy()
    conf[1, 0, 33 + 7] = 0.0  # one point of the left hand in frame 1
    conf[2, 0, 11] = 0.0  # the left shoulder in frame 2
    conf[3, 0, :] = 0.0  # nothing in frame 3
    p = Pose(p.header, NumPyPoseBody(fps=10.0, data=np.ma.getdata(p.body.data), confidence=conf))
    got = pose_to_frames(p)
    assert (got[1, 132:195] == 0).all(), "a hand with a hole in it is not found in that frame"
    assert np.allclose(got[1, 195:], right[1].ravel()), "the other hand is"
    assert (got[2, 44:48] == 0).all() and np.allclose(got[2, 48:52], pose[2, 12]), "one pose point, only it"
    assert (got[3] == 0).all() and np.allclose(got[0], np.concatenate([pose[0].ravel(), left[0].ravel(),
                                                                       right[0].ravel()]))  # fmt: skip


def test_unmappable_files_are_refused_in_one_line(tmp_path: Path) -> None:
    t = 3
    openpose = _handmade(
        [
            (_component("pose_keypoints_2d", ["Nose", "Neck"], "XYC"), np.ones((t, 2, 3)), np.ones((t, 2))),
            (_component("hand_left_keypoints_2d", [str(i) for i in range(21)], "XYC"), np.ones((t, 21, 3)),
             np.ones((t, 21))),
        ]
    )  # fmt: skip
    with pytest.raises(DatasetError) as e:
        pose_to_frames(openpose, "op.pose")
    assert "op.pose: components hand_left_keypoints_2d, pose_keypoints_2d are not MediaPipe Holistic's" in _one_line(e)
    numbered = _handmade([(_component("LEFT_HAND_LANDMARKS", [str(i) for i in range(21)]), np.ones((t, 21, 3)),
                           np.ones((t, 21)))])  # fmt: skip
    with pytest.raises(DatasetError, match="LEFT_HAND_LANDMARKS lacks the hand point"):
        pose_to_frames(numbered)
    no_size = _handmade([(_component("RIGHT_HAND_LANDMARKS", list(HAND_POINT_NAMES)), np.ones((t, 21, 3)),
                          np.ones((t, 21)))], w=0, h=0)  # fmt: skip
    with pytest.raises(DatasetError, match="gives no frame size"):
        pose_to_frames(no_size)
    junk = tmp_path / "junk.pose"
    junk.write_bytes(b"\x00\x01 not a pose file at all")
    with pytest.raises(DatasetError) as e:
        read_pose_file(junk)
    assert _one_line(e).startswith(f"{junk}: not a .pose file pose-format can read (truncated or corrupt: ")
    empty = tmp_path / "empty.pose"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError):
        read_pose_file(empty)


# ---- .pose clips through predict, evaluate, train and extract ---------------------------------------------------


@pytest.fixture(scope="module")
def twin_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The same real clips as <sign>/<take>.npy and as <sign>/<take>.pose."""
    clips, labels = _real_clips()
    root = tmp_path_factory.mktemp("twins")
    for clip, label in zip(clips, labels, strict=True):
        for kind in ("npy", "pose"):
            (root / kind / label).mkdir(parents=True)
        np.save(root / "npy" / label / "take.npy", clip)
        write_pose_clip(root / "pose" / label / "take.pose", clip, 30.0)
    return root / "npy", root / "pose", labels


def test_a_pose_clip_is_predicted_as_its_npy_twin_and_a_bad_one_is_an_error_row(twin_folders, tmp_path: Path,
                                                                                capsys) -> None:  # fmt: skip
    npy, pose, labels = twin_folders
    rec = SequenceRecognizer("words")
    for label in labels:
        a, b = rec.predict(npy / label / "take.npy"), rec.predict(pose / label / "take.pose")
        assert (b.label, b.frames, b.hand_frames) == (a.label, a.frames, a.hand_frames)
        assert b.confidence == pytest.approx(a.confidence, abs=1e-6)
    bad = tmp_path / "bad.pose"
    bad.write_bytes(b"garbage")
    first = pose / labels[0] / "take.pose"
    assert main(["predict", "--model", "words", "--json", str(bad), str(first)]) == 0, "the batch goes on"
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["error"].startswith(f"{bad}: not a .pose file pose-format can read (truncated or corrupt: ")
    assert rows[1]["error"] is None and rows[1]["label"] == rec.predict(npy / labels[0] / "take.npy").label
    assert "Traceback" not in out + err


def test_evaluate_and_load_a_pose_folder_as_its_npy_twin(twin_folders) -> None:
    npy, pose, _ = twin_folders
    assert is_sequence_source(pose)
    a, b = load_sequences(npy, cache_dir=None), load_sequences(pose, cache_dir=None)
    assert a.labels == b.labels and a.layout == b.layout
    assert all(np.array_equal(x, y) for x, y in zip(a.sequences, b.sequences, strict=True))
    ma, mb = evaluate(npy, model="words", progress=False), evaluate(pose, model="words", progress=False)
    assert mb["accuracy"] == ma["accuracy"] and mb["n"] == ma["n"] == len(a)


def test_train_on_pose_takes_learns_what_npy_takes_teach_and_skips_a_bad_one(tmp_path: Path) -> None:
    z = np.load(_synthetic_npz(tmp_path / "signs.npz", per_class=4))
    for kind in ("npy", "pose"):
        for i, (seq, label) in enumerate(zip(z["sequences"], z["label"], strict=True)):
            (tmp_path / kind / str(label)).mkdir(parents=True, exist_ok=True)
            if kind == "npy":
                np.save(tmp_path / kind / str(label) / f"t{i:02d}.npy", seq.astype(np.float32))
            else:
                write_pose_clip(tmp_path / kind / str(label) / f"t{i:02d}.pose", seq.astype(np.float32), 30.0)
    (tmp_path / "pose" / "hello" / "zz-broken.pose").write_bytes(b"nope")
    opts = {"model": "seq-tcn", "epochs": 2, "progress": False, "seed": 0}
    a = train(tmp_path / "npy", out=tmp_path / "run-npy", **opts)
    b = train(tmp_path / "pose", out=tmp_path / "run-pose", **opts)
    assert b.model.labels == a.model.labels
    assert all(np.allclose(a.model.tensors[k], b.model.tensors[k], atol=1e-6) for k in a.model.tensors)
    left = json.loads((tmp_path / "run-pose" / "metrics.json").read_text())["left_out_files"]
    assert len(left) == 1 and "zz-broken.pose" in left[0]


def test_extract_format_pose_writes_take_files_train_reads_back(twin_folders, tmp_path: Path, capsys) -> None:
    npy, _, labels = twin_folders
    out = tmp_path / "poses"
    assert main(["extract", str(npy), "--format", "pose", "--out", str(out), "--fps", "25", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["files"] == len(labels) and r["format"] == "pose" and r["errors"] == []
    for label in labels:
        got = read_pose_file(out / label / "take.pose")
        assert got.fps == 25.0 and np.array_equal(got.frames, np.load(npy / label / "take.npy"))
    assert main(["extract", str(npy), "--format", "pose", "--out", str(out)]) == 1, "never over a folder"
    assert "aslkit: error:" in capsys.readouterr().err


def test_extract_format_pose_of_a_video_keeps_its_size_and_rate(tmp_path: Path, capsys) -> None:
    from aslkit.landmarks.holistic import video_frames

    video = next(iter(sorted(shared_dir("word-videos").glob("*/text2hand-*.mp4"))), None)
    if video is None:
        pytest.skip("no text2hand video in word-videos")
    cache = tmp_path / "cache"
    assert main(["extract", str(video), "--format", "pose", "--out", str(tmp_path / "out")]) == 0
    assert "1 .pose file(s)" in capsys.readouterr().out
    got = read_pose_file(tmp_path / "out" / f"{video.stem}.pose")
    cap = cv2.VideoCapture(str(video))
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    rate = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    assert (got.width, got.height) == size and got.fps == pytest.approx(rate, abs=1e-3)
    assert np.allclose(got.frames, video_frames(video, cache), atol=1e-5)
    (tmp_path / "mine").mkdir()
    mine = tmp_path / "mine" / video.name
    mine.write_bytes(video.read_bytes())
    assert main(["extract", str(mine), "--format", "pose", "--out", str(tmp_path / "mine" / "poses")]) == 1
    assert "beside the input" in capsys.readouterr().err and not (tmp_path / "mine" / "poses").exists()


def test_photos_are_refused_by_extract_format_pose(tmp_path: Path, capsys) -> None:
    from conftest import write_grey

    (tmp_path / "photos" / "A").mkdir(parents=True)
    write_grey(tmp_path / "photos" / "A" / "a.png")
    assert main(["extract", str(tmp_path / "photos"), "--format", "pose", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("aslkit: error:") and "photos go to Parquet shards" in err and "\n" not in err


# ---- without pose-format ----------------------------------------------------------------------------------------


def test_without_pose_format_a_pose_input_says_how_to_install_it(twin_folders, tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:  # fmt: skip
    npy, pose, labels = twin_folders
    monkeypatch.setitem(sys.modules, "pose_format", None)  # import pose_format now raises ImportError
    with pytest.raises(DatasetError, match=r"pip install 'aslkit\[pose\]'"):
        read_pose_file(pose / labels[0] / "take.pose")
    take = str(pose / labels[0] / "take.pose")
    assert main(["predict", "--model", "words", take, str(npy / labels[0] / "take.npy")]) == 0
    out, err = capsys.readouterr()
    assert "needs pose-format: pip install 'aslkit[pose]'" in out and "Traceback" not in out + err
    assert main(["evaluate", str(pose), "--model", "words"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "aslkit: error: reading or writing .pose files needs pose-format: pip install 'aslkit[pose]'"
    assert main(["extract", str(npy), "--format", "pose", "--out", str(tmp_path / "o")]) == 1
    assert "pip install 'aslkit[pose]'" in capsys.readouterr().err and not (tmp_path / "o").exists()
