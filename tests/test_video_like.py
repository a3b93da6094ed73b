"""Video-like copies of training photos (train --video-like N): the degradation, its cache key, and that
copies only ever join the training side of a split."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import link_subset, make_hand, shared_dir, write_shapes_npz
from PIL import Image

from aslkit.config import TrainConfig
from aslkit.data.video_like import RECIPE, copy_seed, degrade, degrade_fixed, draw, motion_kernel, recipe_tag
from aslkit.errors import AslkitError, DatasetError
from aslkit.kinds import InputKind
from aslkit.landmarks.batch import ImageSource, extract_sources
from aslkit.landmarks.extractor import HandLandmarker, HandsResult
from aslkit.training import trainer


def _photo(h: int = 224, w: int = 224, seed: int = 0) -> np.ndarray:
    """A sharp test image: random blocks of 8 px (strong edges in both directions)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(blocks.repeat(8, 0).repeat(8, 1)[:h, :w])


def _sharpness(img: np.ndarray, axis: int) -> float:
    """Mean squared difference between neighbouring pixels along ``axis`` (0: down, 1: across): blur spreads
    an edge over more pixels, which lowers it (the mean absolute difference would stay the same)."""
    return float(np.square(np.diff(img.astype(np.float32), axis=axis)).mean())


# ---- the degradation ---------------------------------------------------------------------------------
def test_degrade_is_deterministic_for_a_seed() -> None:
    img = _photo()
    a, b, c = degrade(img, 7), degrade(img, 7), degrade(img, 8)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
    assert a.shape == b.shape and np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c), "another seed, another copy"
    assert np.array_equal(img, _photo()), "the input is not changed"


def test_copy_seed_depends_on_content_and_copy_index() -> None:
    assert copy_seed(b"photo", 1) == copy_seed(b"photo", 1)
    assert len({copy_seed(b"photo", 1), copy_seed(b"photo", 2), copy_seed(b"other", 1)}) == 3


def test_degrade_fixed_shrinks_to_the_long_side_and_can_scale_back() -> None:
    img = _photo(300, 200)
    small = degrade_fixed(img, 120, 0.0, 0, 0.0, 0, upscale=False)
    assert small.shape == (120, 80, 3)
    back = degrade_fixed(img, 120, 0.0, 0, 0.0, 0, upscale=True)
    assert back.shape == img.shape
    assert degrade_fixed(img, 400, 0.0, 0, 0.0, 0, upscale=False).shape == img.shape, "never enlarged"


def test_gaussian_blur_and_jpeg_soften_the_image() -> None:
    img = _photo()
    plain = degrade_fixed(img, 120, 0.0, 0, 0.0, 0, upscale=False)
    blurred = degrade_fixed(img, 120, 2.0, 0, 0.0, 0, upscale=False)
    jpeg = degrade_fixed(img, 120, 0.0, 0, 0.0, 20, upscale=False)
    for axis in (0, 1):
        assert _sharpness(blurred, axis) < 0.5 * _sharpness(plain, axis)
    assert 0 < np.abs(jpeg.astype(int) - plain.astype(int)).mean() < 40, "compressed, still the same picture"


def test_motion_blur_smears_along_its_angle_only() -> None:
    stripes_x = np.zeros((96, 96, 3), np.uint8)
    stripes_x[:, ::8] = 255  # thin vertical lines: only a streak along x blurs them
    stripes_y = np.ascontiguousarray(stripes_x.transpose(1, 0, 2))
    along_x = degrade_fixed(stripes_x, 96, 0.0, 9, 0.0, 0, upscale=False)
    across = degrade_fixed(stripes_y, 96, 0.0, 9, 0.0, 0, upscale=False)
    assert along_x.max() < 0.25 * 255, "a 9 px horizontal streak spreads a 1 px vertical line"
    assert np.array_equal(across, stripes_y), "a horizontal streak leaves horizontal lines as they are"
    for length in (3, 7, 11):
        for angle in (0.0, 33.0, 90.0, 145.0):
            k = motion_kernel(length, angle)
            assert k.shape == (length, length) and abs(float(k.sum()) - 1) < 1e-5
            assert (k > 0.01).sum() >= 0.6 * length, (length, angle)


def test_random_copies_stay_within_the_recipe() -> None:
    img = _photo(224, 224)
    upscaled = 0
    for seed in range(40):
        d = draw(seed)
        assert RECIPE.long_side[0] <= d["long_side"] <= RECIPE.long_side[1]
        assert RECIPE.gauss_sigma[0] <= d["sigma"] <= RECIPE.gauss_sigma[1]
        assert RECIPE.motion_px[0] <= d["motion_px"] <= RECIPE.motion_px[1]
        out = degrade(img, seed)
        upscaled += out.shape == img.shape
        assert out.shape == img.shape or max(out.shape[:2]) == d["long_side"]
        sharp = degrade_fixed(img, **{**d, "sigma": 0.0, "motion_px": 0, "quality": 0})  # same size, no blur
        assert _sharpness(out, 0) + _sharpness(out, 1) < 0.6 * (_sharpness(sharp, 0) + _sharpness(sharp, 1)), d
    assert 0 < upscaled < 40, "some copies are scaled back to the photo's size, some stay small"


# ---- landmarks of copies: cached under their own key ---------------------------------------------------
class RecordingLandmarker:
    """Stands in for MediaPipe: one synthetic hand per image, and a record of the images it saw."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def __call__(self, lm_self: HandLandmarker, image: np.ndarray) -> HandsResult:
        self.seen.append(image.copy())
        hand = make_hand(np.random.default_rng(int(image.mean() * 10)))
        return HandsResult(image.shape[1], image.shape[0], [hand], "plain", [list(a) for a in lm_self.attempts])


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingLandmarker:
    fake = RecordingLandmarker()
    monkeypatch.setattr(HandLandmarker, "__call__", lambda self, image, start=0: fake(self, image))
    return fake


def test_copies_are_cached_under_their_own_key(recording: RecordingLandmarker, tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.fromarray(_photo(200, 300)).save(photo)
    cache = tmp_path / "cache"
    srcs = [ImageSource(photo), ImageSource(photo, video_like=1), ImageSource(photo, video_like=2)]
    extract_sources(srcs, cache_dir=cache, workers=1, progress=False)
    assert len(recording.seen) == 3, "the photo and each copy are landmarked separately"
    plain, c1, c2 = recording.seen
    assert plain.shape == (200, 300, 3) and np.array_equal(plain, _photo(200, 300))
    assert not np.array_equal(c1, plain) and not (c1.shape == c2.shape and np.array_equal(c1, c2))
    extract_sources(srcs, cache_dir=cache, workers=1, progress=False)
    assert len(recording.seen) == 3, "a second pass reads all three from the cache"
    assert recipe_tag().startswith("vl-") and recipe_tag() != recipe_tag(type(RECIPE)(long_side=(64, 128)))


# ---- training: copies join the training side only -----------------------------------------------------
def _photo_folder(root: Path, per_class: int = 10) -> Path:
    """3 classes of distinct photos named handN_... (N = 1..per_class % 3 + 1) for group splits."""
    for c, lab in enumerate(("A", "B", "C")):
        (root / lab).mkdir(parents=True)
        for i in range(per_class):
            img = _photo(96, 128, seed=100 * c + i)
            Image.fromarray(img).save(root / lab / f"hand{i % 3 + 1}_{lab.lower()}_{i:02d}.png")
    return root


def _spy_train(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Record the sets the landmark fit gets and the samples of every video-like landmarks_for call."""
    seen: dict = {"copies_of": []}
    row = trainer.TRAINERS[InputKind.LANDMARKS]  # train fits with the plan of its kind's row in the task table
    real_plan, real_landmarks = row.plan, trainer.landmarks_for

    def plan(train_set, valid_set, *a, **kw):
        seen["fit"], seen["valid"] = train_set, valid_set
        return real_plan(train_set, valid_set, *a, **kw)

    def landmarks(ds, *a, **kw):
        if kw.get("video_like"):
            seen["copies_of"] += [str(s.path) for s in ds.samples]
        return real_landmarks(ds, *a, **kw)

    monkeypatch.setitem(trainer.TRAINERS, InputKind.LANDMARKS, dataclasses.replace(row, plan=plan))
    monkeypatch.setattr(trainer, "landmarks_for", landmarks)
    return seen


@pytest.mark.parametrize("split", [{"split": "0.6,0.2,0.2"}, {"group_pattern": r"hand(\d)", "holdout": "2"}])
def test_copies_only_join_the_training_side(
    recording: RecordingLandmarker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, split: dict
) -> None:
    data = _photo_folder(tmp_path / "photos")
    seen = _spy_train(monkeypatch)
    res = trainer.train(
        data, tmp_path / "run", model="landmark-mlp-tiny", cache_dir=tmp_path / "cache", progress=False,
        epochs=2, workers=1, video_like=2, **split,
    )  # fmt: skip
    all_paths = {str(p) for p in data.rglob("*.png")}
    fit_paths, valid_paths = seen["fit"].paths, set(seen["valid"].paths)
    originals = set(fit_paths[: len(fit_paths) // 3])  # the photos, then copy 1 and copy 2 of each
    test_paths = all_paths - originals - valid_paths
    assert valid_paths and test_paths and not originals & valid_paths
    assert sorted(seen["copies_of"]) == sorted(originals), "copies of every training photo, of nothing else"
    assert len(fit_paths) == 3 * len(originals) and set(fit_paths) == originals
    assert not set(fit_paths) & (valid_paths | test_paths), "no copy of a valid or test photo is trained on"
    if "holdout" in split:
        assert {Path(p).name.split("_")[0] for p in test_paths} == {"hand2"}
    config = json.loads((res.run_dir / "config.json").read_text())
    assert config["train"]["video_like"] == 2
    assert config["video_like_copies"] == {"count": 2 * len(originals), "with_hand": 2 * len(originals)}
    assert config["split_sizes"]["train"] == len(originals), "the split counts photos, not copies"
    assert len(recording.seen) == len(all_paths) + 2 * len(originals)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"video_like": -1}, r"--video-like -1: must be between 0 and 16"), ({"video_like": 99}, "between 0 and 16")],
)
def test_bad_video_like_values(kwargs: dict, match: str) -> None:
    with pytest.raises(AslkitError, match=match):
        TrainConfig.from_defaults(**kwargs)


def test_video_like_needs_photos_and_a_landmark_model(tmp_path: Path) -> None:
    npz = write_shapes_npz(tmp_path / "shapes.npz")
    with pytest.raises(DatasetError, match="landmark files only"):
        trainer.train(npz, tmp_path / "run", cache_dir=None, progress=False, video_like=1)
    assert not (tmp_path / "run").exists()
    with pytest.raises(AslkitError, match="--video-like is for landmark models"):
        trainer.train(_photo_folder(tmp_path / "p"), tmp_path / "run2", model="cnn-small", progress=False, video_like=1)


# ---- a small real run: MediaPipe on degraded copies of real photos -----------------------------------------
def test_real_copies_are_landmarked(tmp_path: Path, real_cache: Path) -> None:
    photos = link_subset(tmp_path / "photos", shared_dir("asl-alphabet-photos"), {"B": "B", "L": "L", "V": "V"}, 6)
    res = trainer.train(
        photos, tmp_path / "run", model="landmark-mlp-tiny", cache_dir=real_cache, progress=False, epochs=3,
        workers=1, video_like=1, split="0.5,0.5",
    )  # fmt: skip
    config = json.loads((res.run_dir / "config.json").read_text())
    copies = config["video_like_copies"]
    assert copies["count"] == config["split_sizes"]["train"] == 9
    assert copies["with_hand"] >= 5, "MediaPipe still finds most hands in small, blurred copies"


def test_cli_flags_reach_training(recording: RecordingLandmarker, tmp_path: Path) -> None:
    """--video-like is an automatic [train] flag; --workers (a common flag) reaches training too."""
    from aslkit.cli import main

    data, out = _photo_folder(tmp_path / "photos", per_class=4), tmp_path / "run"
    argv = ["train", str(data), "--out", str(out), "--model", "landmark-mlp-tiny", "--epochs", "1", "--workers", "1"]
    assert main([*argv, "--video-like", "1", "--cache-dir", str(tmp_path / "cache"), "--quiet"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["workers"] == 1 and config["train"]["video_like"] == 1
    assert config["video_like_copies"]["count"] == config["split_sizes"]["train"]
