"""The MediaPipe Tasks API on .task bundles that aslkit builds from the mediapipe wheel (landmarks/tasks.py): the
bundle's members, a hand found where the legacy graph finds it, the engine setting, and a corrupt bundle rebuilt."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_dir

from aslkit.config import load_defaults
from aslkit.data.images import load_image
from aslkit.errors import AslkitError
from aslkit.landmarks import tasks
from aslkit.landmarks.extractor import HandLandmarker, mediapipe_api
from aslkit.landmarks.tasks import BUNDLES, TasksHands, bundle_dir, bundle_ok, bundle_path

# Measured on 300 photos (benchmarks/mediapipe_tasks.py agree): the two APIs' main-hand landmarks differ by a
# few percent of the hand's box diagonal on average; 8% leaves room for one harder photo, and a wrong hand, a
# mirrored or shifted result (handedness not swapped, border not undone) is far outside it.
TOLERANCE = 0.08
# The member names the Tasks graphs look up (hand_landmarker_graph.cc, pose_landmarker_graph.cc in mediapipe).
MEMBERS = {
    "hand_landmarker_full": ["hand_detector.tflite", "hand_landmarks_detector.tflite"],
    "hand_landmarker_lite": ["hand_detector.tflite", "hand_landmarks_detector.tflite"],
    "pose_landmarker_full": ["pose_detector.tflite", "pose_landmarks_detector.tflite"],
}


@pytest.fixture(scope="module")
def massey_photos() -> list[np.ndarray]:
    root = shared_dir("massey-letters")
    return [load_image(sorted((root / c).glob("*"))[0]) for c in ("b", "l", "y")]


def _wheel_file(source: str) -> bytes:
    return (tasks._modules_dir() / source).read_bytes()


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_bundle_is_built_from_the_wheel_with_the_members_the_task_graphs_read(
    tmp_path: Path, name: str, massey_photos
) -> None:
    assert sorted(BUNDLES) == sorted(MEMBERS)
    path = bundle_path(name, tmp_path)
    assert path == bundle_dir(tmp_path) / f"{name}.task" and path.is_file()
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == MEMBERS[name], "the member names the Tasks graphs look up"
        assert z.testzip() is None
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED, "the Tasks API maps members in place: never compressed"
            data = z.read(info)
            source, norm = BUNDLES[name][info.filename]
            assert data[4:8] == b"TFL3"
            if norm is None:
                assert data == _wheel_file(source), "copied from the wheel byte for byte"
            else:
                assert b"TFLITE_METADATA" not in _wheel_file(source) and b"TFLITE_METADATA" in data, "metadata added"
    assert not list(path.parent.glob(".*.tmp")), "no temporary file left beside the bundle"
    if name.startswith("hand"):  # the Tasks graph loads it and finds a hand (lite: complexity 0)
        hands = TasksHands(static=True, complexity=int(name.endswith("full")), cache_dir=tmp_path)
        assert hands.bundle == path and hands.process(massey_photos[0]).multi_hand_landmarks
        hands.close()


def test_tasks_hand_landmarker_finds_the_hands_the_legacy_graph_finds(tmp_path: Path, massey_photos) -> None:
    legacy, task = HandLandmarker(static=True, api="legacy"), HandLandmarker(static=True, api="tasks")
    for img in massey_photos:
        a, b = legacy(img), task(img)
        assert a.found and b.found
        ha, hb = a.main_hand(), b.main_hand()
        assert ha is not None and hb is not None
        assert ha.handedness == hb.handedness, "Tasks names the hand unmirrored: swapped to the legacy convention"
        x0, y0, x1, y1 = ha.box
        diag = np.hypot((x1 - x0) * a.width, (y1 - y0) * a.height)
        d = np.hypot(
            (ha.landmarks[:, 0] - hb.landmarks[:, 0]) * a.width, (ha.landmarks[:, 1] - hb.landmarks[:, 1]) * a.height
        )
        assert d.mean() / diag < TOLERANCE, (d.mean(), diag)
        assert np.abs(hb.world).max() > 0, "world landmarks come through"
    legacy.close()
    task.close()


def test_tasks_video_mode_tracks_a_hand_over_frames(massey_photos) -> None:
    lm = HandLandmarker(static=False, api="tasks", retry=False)
    frame = massey_photos[0]
    results = [lm(frame) for _ in range(4)]
    assert all(r.found for r in results)
    assert all(isinstance(s, TasksHands) and not s.static for s in lm._solutions.values())
    lm.close()


def test_the_engine_setting_switches_the_path(monkeypatch: pytest.MonkeyPatch, massey_photos) -> None:
    assert load_defaults()["landmarks"]["mediapipe_api"] == "legacy", "the default stays the legacy graph"
    monkeypatch.delenv("ASLKIT_MEDIAPIPE_API", raising=False)
    assert mediapipe_api() == "legacy"
    ran: list[str] = []
    real_process = TasksHands.process

    def spy(self, image):
        ran.append("tasks")
        return real_process(self, image)

    monkeypatch.setattr(TasksHands, "process", spy)
    legacy = HandLandmarker(static=True)
    assert legacy(massey_photos[0]).found and ran == [], "legacy by default: the Tasks path never ran"
    assert not any(isinstance(s, TasksHands) for s in legacy._solutions.values())
    monkeypatch.setenv("ASLKIT_MEDIAPIPE_API", "tasks")
    task = HandLandmarker(static=True)
    assert task.api == "tasks" and task(massey_photos[0]).found and ran, "the environment variable picks Tasks"
    assert task.signature != legacy.signature, "cached landmarks of one API are never served for the other"
    monkeypatch.setenv("ASLKIT_MEDIAPIPE_API", "tflite")
    with pytest.raises(AslkitError, match="unknown MediaPipe API 'tflite'"):
        HandLandmarker(static=True)
    legacy.close()
    task.close()


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # a build cut short
        lambda p: p.write_bytes(b"not a zip"),
        lambda p: zipfile.ZipFile(p, "w").writestr("hand_detector.tflite", b"TFL3"),  # a member missing
        lambda p: p.write_bytes(p.read_bytes()[:5000] + b"\x00" * 64 + p.read_bytes()[5064:]),  # bytes flipped
    ],
    ids=["truncated", "garbage", "missing-member", "crc"],
)
def test_a_corrupt_cached_bundle_is_rebuilt(tmp_path: Path, damage, massey_photos) -> None:
    path = bundle_path("hand_landmarker_full", tmp_path)
    good = path.read_bytes()
    damage(path)
    assert not bundle_ok(path, "hand_landmarker_full")
    assert bundle_path("hand_landmarker_full", tmp_path) == path
    assert path.read_bytes() == good and bundle_ok(path, "hand_landmarker_full")
    damage(path)
    hands = TasksHands(static=True, cache_dir=tmp_path)  # the landmarker itself rebuilds it, no traceback
    assert hands.process(massey_photos[0]).multi_hand_landmarks
    hands.close()


def test_an_unwritable_cache_folder_falls_back_to_a_temporary_one(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    path = bundle_path("hand_landmarker_lite", blocker)
    assert bundle_ok(path, "hand_landmarker_lite") and blocker not in path.parents


def test_pose_landmarker_runs_from_its_bundle_like_the_legacy_pose_graph() -> None:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    files = sorted((shared_dir("letters-more-people") / "lisadounia" / "A").glob("*.jpg"))
    img = load_image(files[0])
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle_path("pose_landmarker_full")))
    )
    with vision.PoseLandmarker.create_from_options(opts) as pose:
        res = pose.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img)))
    with mp.solutions.pose.Pose(static_image_mode=True) as legacy:
        ref = legacy.process(img)
    assert res.pose_landmarks and ref.pose_landmarks
    a = np.array([[p.x, p.y] for p in res.pose_landmarks[0]])
    b = np.array([[p.x, p.y] for p in ref.pose_landmarks.landmark])
    assert np.abs(a - b)[:11].max() < 0.02, "the same models, the same head and shoulders"


def test_hands_go_to_the_pose_wrist_they_are_nearest_to() -> None:
    from aslkit.landmarks.tasks import assign_hands

    wrists = np.array([[0.7, 0.6], [0.3, 0.6]])  # the signer's left wrist on the image's right (unmirrored)
    near_left, near_right = np.zeros((21, 3)), np.zeros((21, 3))
    near_left[0, :2], near_right[0, :2] = (0.68, 0.55), (0.33, 0.5)
    assert assign_hands(wrists, [near_left], ["Left"], 16 / 9) == [0], "the pose decides, not the hand's label"
    assert assign_hands(wrists, [near_right, near_left], ["Left", "Right"], 16 / 9) == [1, 0]
    assert assign_hands(wrists, [near_left, near_right], ["Left", "Right"], 16 / 9) == [0, 1]
    # without a pose, the hand model's (legacy) label: "Left" is the signer's right hand
    assert assign_hands(None, [near_left, near_right], ["Left", "Right"], 1.0) == [1, 0]


def test_tasks_body_gives_the_holistic_layout_with_each_hand_on_its_side() -> None:
    """TasksBody against the legacy Holistic graph on a real word-sign video: the same pose, and each hand in the
    same block (signer's left or right) within a few percent of the frame."""
    import cv2

    from aslkit.data.sequences import POSE_HANDS
    from aslkit.landmarks.holistic import BodyLandmarker

    cap = cv2.VideoCapture(str(shared_dir("word-videos") / "hello" / "signquest-hello.mp4"))
    frames = []
    while len(frames) < 40:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, (640, 360)), cv2.COLOR_BGR2RGB))
    cap.release()
    assert len(frames) == 40
    with BodyLandmarker(api="tasks") as new, BodyLandmarker(api="legacy") as old:
        a = np.stack([new(f) for f in frames])
        b = np.stack([old(f) for f in frames])
    assert a.shape == b.shape == (40, POSE_HANDS.width)
    pose = slice(*POSE_HANDS.pose)
    pa, pb = a[:, pose].reshape(40, 33, 4), b[:, pose].reshape(40, 33, 4)
    assert (np.abs(pa).sum((1, 2)) > 0).all() and (np.abs(pb).sum((1, 2)) > 0).all(), "one signer, always in view"
    assert np.median(np.abs(pa[:, 11:17, :2] - pb[:, 11:17, :2])) < 0.02, "the same shoulders, elbows and wrists"
    compared = 0
    for side in (POSE_HANDS.left, POSE_HANDS.right):
        ha, hb = a[:, slice(*side)].reshape(40, 21, 3), b[:, slice(*side)].reshape(40, 21, 3)
        both = (np.abs(ha).sum((1, 2)) > 0) & (np.abs(hb).sum((1, 2)) > 0)
        only_one = (np.abs(ha).sum((1, 2)) > 0) ^ (np.abs(hb).sum((1, 2)) > 0)
        assert only_one.sum() <= 8, "a hand one API finds in a frame, the other mostly finds on the same side"
        if both.any():
            assert np.median(np.abs(ha[both, :, :2] - hb[both, :, :2])) < 0.03
            compared += int(both.sum())
    assert compared >= 20, "the signing hand was found by both in most frames"


def test_with_the_tasks_api_no_path_needs_the_legacy_graphs(monkeypatch: pytest.MonkeyPatch, massey_photos) -> None:
    """What a mediapipe without ``mp.solutions`` (0.10.30+) leaves: photos and word-sign videos still read."""
    import mediapipe

    from aslkit.landmarks.holistic import video_clip

    monkeypatch.setenv("ASLKIT_MEDIAPIPE_API", "tasks")
    monkeypatch.delattr(mediapipe, "solutions")
    res = HandLandmarker(static=True)(massey_photos[0])
    assert res.hands, "a hand in a Massey photo"
    video = shared_dir("word-videos") / "yes" / "text2hand-yes.mp4"
    frames, times = video_clip(video, cache_dir=None)
    assert frames.shape[1] == 258 and len(times) == len(frames) >= 10
    hands = np.abs(frames[:, 132:]).sum(1) > 0
    assert hands.mean() > 0.5, "the signing hand is found in most frames"
