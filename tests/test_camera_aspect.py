"""A video's camera shape: sign models see a 16:9 or upright phone video as their 4:3 training clips show a body."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_sequence_training import _synthetic_npz

from aslkit.data.sequences import POSE_HANDS, SequenceSet, at_aspect, at_camera_aspect, concat_sequences
from aslkit.errors import DatasetError, ModelError
from aslkit.inference.sequence_recognizer import SequenceRecognizer, model_aspect, sequence_probabilities
from aslkit.landmarks.sequence_features import sequence_features
from aslkit.models.io import load_model
from aslkit.training.trainer import train


def _body_frames(width: int, height: int, frames: int = 12) -> np.ndarray:
    """(T, 258) pose + hands of one made-up body, in pixels of a ``width`` x ``height`` camera centred on it,
    as image fractions: the same body filmed by cameras of other shapes."""
    rng = np.random.default_rng(3)
    px = np.zeros((33, 2))
    px[0] = (0, -120)  # nose
    px[11], px[12] = (-90, 0), (90, 0)  # shoulders 180 px apart
    px[13:23] = rng.uniform(-150, 150, (10, 2))
    hand = rng.uniform(-40, 40, (21, 3))
    out = []
    for t in range(frames):
        pose = np.zeros((33, 4), np.float32)
        pose[:23, 0] = (px[:23, 0] + width / 2) / width
        pose[:23, 1] = (px[:23, 1] + height / 2) / height
        pose[:23, 3] = 0.99
        right = hand + np.array([60 + 4 * t, -60 + 3 * t, 0])  # moving
        r = np.stack([(right[:, 0] + width / 2) / width, (right[:, 1] + height / 2) / height, right[:, 2] / width], 1)
        out.append(np.concatenate([pose.ravel(), np.zeros(63, np.float32), r.ravel().astype(np.float32)]))
    return np.stack(out).astype(np.float32)


def test_at_aspect_shows_a_body_as_another_camera_would() -> None:
    wide, webcam = _body_frames(1280, 720), _body_frames(960, 720)
    moved = at_aspect(wide, POSE_HANDS, 16 / 9, 4 / 3)
    assert np.allclose(moved, webcam, atol=1e-5), "the 16:9 body, as the 4:3 camera shows it"
    fw, _ = sequence_features(wide, POSE_HANDS)
    fm, _ = sequence_features(moved, POSE_HANDS)
    f43, _ = sequence_features(webcam, POSE_HANDS)
    assert np.allclose(fm, f43, atol=1e-4) and not np.allclose(fw, f43, atol=1e-2), "features as a 4:3 camera's"
    pose = moved[:, :132].reshape(-1, 33, 4)
    assert np.array_equal(pose[:, 23:], np.zeros_like(pose[:, 23:])), "points not found stay zeros"
    assert np.allclose(pose[:, :23, 3], 0.99) and np.array_equal(moved[:, 132:195], wide[:, 132:195])
    assert np.allclose(at_aspect(moved, POSE_HANDS, 4 / 3, 16 / 9), wide, atol=1e-6), "and back"
    with pytest.raises(DatasetError):
        at_aspect(wide, POSE_HANDS, 16 / 9, 0.0)


def test_sets_carry_each_clips_camera_shape_and_only_known_ones_are_moved() -> None:
    a = SequenceSet([_body_frames(1280, 720)], ["hello"], POSE_HANDS, aspects=[16 / 9])
    b = SequenceSet([_body_frames(960, 720)], ["no"], POSE_HANDS)  # a landmark file: shape unknown
    both = concat_sequences([a, b])
    assert both.aspects == [16 / 9, None] and both.subset([1, 0]).aspects == [None, 16 / 9]
    moved = at_camera_aspect(both, 4 / 3)
    assert moved.aspects is None, "moved once: nothing left to move"
    assert np.allclose(moved.sequences[0], _body_frames(960, 720), atol=1e-5)
    assert np.array_equal(moved.sequences[1], both.sequences[1]), "unknown shape: taken as it is"
    assert at_camera_aspect(both, 0.0) is both and at_camera_aspect(b, 4 / 3) is b


def test_a_model_that_records_its_camera_reads_a_video_clip_at_that_shape(tmp_path: Path) -> None:
    words = load_model("words")
    assert model_aspect(words) == pytest.approx(4 / 3, abs=1e-3), "the shipped words model's sets are 4:3"
    wide = _body_frames(1280, 720, 20)
    seen = sequence_probabilities(words, SequenceSet([wide], ["?"], POSE_HANDS, aspects=[16 / 9]))
    moved = sequence_probabilities(words, SequenceSet([at_aspect(wide, POSE_HANDS, 16 / 9, 4 / 3)], ["?"], POSE_HANDS))
    as_is = sequence_probabilities(words, SequenceSet([wide], ["?"], POSE_HANDS))
    assert np.allclose(seen, moved, atol=1e-4) and not np.allclose(seen, as_is, atol=1e-4)
    rec = SequenceRecognizer(words, cache_dir=None)
    got, ref = rec.predict_frames(wide, aspect=16 / 9), rec.predict_frames(at_aspect(wide, POSE_HANDS, 16 / 9, 4 / 3))
    assert [lab for lab, _ in got.top] == [lab for lab, _ in ref.top]
    assert np.allclose([p for _, p in got.top], [p for _, p in ref.top], atol=1e-4)
    # a model without the key reads every clip as it is
    plain = _model_dir(tmp_path, "words")
    meta = json.loads((plain / "model.json").read_text())
    meta["preprocessing"].pop("aspect")
    (plain / "model.json").write_text(json.dumps(meta))
    p = load_model(plain)
    assert model_aspect(p) is None
    assert np.allclose(sequence_probabilities(p, SequenceSet([wide], ["?"], POSE_HANDS, aspects=[16 / 9])), as_is)
    for bad in ("abc", -1, 0, 1e9):  # a crafted model file: one clear error
        meta["preprocessing"]["aspect"] = bad
        (plain / "model.json").write_text(json.dumps(meta))
        with pytest.raises(ModelError, match="aspect"):
            model_aspect(load_model(plain))


def _model_dir(tmp_path: Path, name: str) -> Path:
    """A shipped model as a run folder (model.json + model.safetensors), to edit its JSON."""
    folder = tmp_path / f"{name}-copy"
    folder.mkdir()
    weights = Path(__file__).resolve().parents[1] / "src" / "aslkit" / "weights"
    shutil.copy(weights / f"{name}.json", folder / "model.json")
    shutil.copy(weights / f"{name}.safetensors", folder / "model.safetensors")
    return folder


def test_training_records_the_camera_shape_and_a_finetune_keeps_it(tmp_path: Path) -> None:
    data = _synthetic_npz(tmp_path / "signs.npz", per_class=4)
    kw = {"epochs": 1, "progress": False, "model_kwargs": {"dim": 16, "blocks": 1}, "seq_length": 8}
    run = train(data, out=tmp_path / "cam", model="seq-tcn", seq_camera_aspect=1.3333, **kw)
    assert run.model.preprocessing["aspect"] == pytest.approx(1.3333)
    plain = train(data, out=tmp_path / "plain", model="seq-tcn", **kw)
    assert "aspect" not in plain.model.preprocessing, "0 (the default): not recorded"
    ft = train(data, out=tmp_path / "ft", model=str(tmp_path / "cam"), finetune=str(tmp_path / "cam"), **kw)
    assert ft.model.preprocessing["aspect"] == pytest.approx(1.3333), "a fine-tune sees videos as its base did"
    with pytest.raises(Exception, match="seq_camera_aspect"):
        train(data, out=tmp_path / "bad", model="seq-tcn", seq_camera_aspect=0.05, **kw)


def test_a_videos_camera_shape_is_read_from_its_frames(tmp_path: Path) -> None:
    import cv2

    from aslkit.landmarks.holistic import read_video_folder, video_aspect

    for name, (w, h) in {"wide": (96, 54), "upright": (54, 96)}.items():
        (tmp_path / "signs" / "hello").mkdir(parents=True, exist_ok=True)
        out = cv2.VideoWriter(
            str(tmp_path / "signs" / "hello" / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h)
        )
        for _ in range(3):
            out.write(np.full((h, w, 3), 128, np.uint8))
        out.release()
    assert video_aspect(tmp_path / "signs" / "hello" / "wide.avi") == pytest.approx(96 / 54)
    got = read_video_folder(tmp_path / "signs", cache_dir=None)
    shapes = dict(zip([Path(p).stem for p in got.sources], got.aspects or [], strict=True))
    assert shapes == pytest.approx({"upright": 54 / 96, "wide": 96 / 54}), "each video's own shape, kept per clip"
