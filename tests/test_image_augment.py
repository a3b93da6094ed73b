"""Image augmentation (aslkit.data.image_augment): each op does what its name says, draws are reproducible,
p=0 is the identity, and the preview grid is written without touching the data folder."""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import shared_dir, snapshot
from PIL import Image

from aslkit.config import ImageAugmentConfig
from aslkit.data.image_augment import (
    OPS,
    AugmentParams,
    ImageAugmenter,
    grid_size,
    motion_blur_kernel,
    preview_dataset,
    write_preview,
)
from aslkit.errors import AslkitError, DatasetError, ImageError

ALL_OFF = {f"{op}_p": 0.0 for op in OPS}


def only(op: str, p: float = 1.0, **ranges) -> ImageAugmenter:
    """An augmenter with every op at probability 0 except ``op`` at ``p``."""
    return ImageAugmenter(ImageAugmentConfig(**{**ALL_OFF, f"{op}_p": p, **ranges}))


def photo(seed: int = 0, h: int = 64, w: int = 80) -> np.ndarray:
    """A textured, asymmetric RGB image (smooth gradients plus noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)], axis=-1)
    return np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def marker_image(x0: int, y0: int, side: int = 8, n: int = 96) -> np.ndarray:
    img = np.zeros((n, n, 3), np.uint8)
    img[y0 : y0 + side, x0 : x0 + side] = 255
    return img


def centroid(img: np.ndarray) -> tuple[float, float]:
    """(x, y) of the bright pixels' centre of mass."""
    ys, xs = np.nonzero(img[..., 0] > 127)
    assert len(xs), "marker vanished"
    return float(xs.mean()), float(ys.mean())


def laplacian_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


# ---------------------------------------------------------------------------------------------
# the augmenter
# ---------------------------------------------------------------------------------------------
def test_shape_dtype_and_determinism() -> None:
    aug = ImageAugmenter(ImageAugmentConfig())  # every op on, the documented defaults
    img = photo()
    before = img.copy()
    a = aug(img, np.random.default_rng(5))
    b = aug(img, np.random.default_rng(5))
    assert a.shape == img.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    np.testing.assert_array_equal(img, before)  # the input is never modified in place
    outs = [aug(img, np.random.default_rng(s)) for s in range(6)]
    assert sum(not np.array_equal(outs[0], o) for o in outs[1:]) >= 4
    # odd sizes and non-contiguous input work too
    odd = photo(1, 37, 53)[:, ::-1]
    assert aug(odd, np.random.default_rng(0)).shape == odd.shape


def test_defaults_config_every_op_fires_sometimes() -> None:
    aug = ImageAugmenter.from_config(ImageAugmentConfig.defaults())
    assert aug.ops == list(OPS)
    rng = np.random.default_rng(0)
    draws = [aug.sample(rng) for _ in range(200)]
    for op in OPS:
        fired = sum(getattr(d, op) is not None and getattr(d, op) is not False for d in draws)
        assert 0 < fired < 200, op
    for d in draws:
        if d.rotation is not None:
            assert abs(d.rotation) <= aug.cfg.rotation_deg
        if d.zoom is not None:
            assert 1 - aug.cfg.zoom <= d.zoom <= 1 + aug.cfg.zoom
        if d.motion_blur is not None:
            assert 2 <= d.motion_blur[0] <= aug.cfg.motion_blur_px


def test_all_probabilities_zero_is_identity() -> None:
    aug = ImageAugmenter(ImageAugmentConfig(**ALL_OFF))
    assert not aug.active
    assert AugmentParams().identity and not AugmentParams(rotation=0.0).identity
    img = photo(3)
    out = aug(img, np.random.default_rng(0))
    assert out is not img and np.array_equal(out, img)
    batch = np.stack([photo(s) for s in range(3)])
    assert np.array_equal(aug.augment_batch(batch, np.random.default_rng(0)), batch)
    # ops left out of `ops` never fire, whatever their probability
    off = ImageAugmenter(ImageAugmentConfig(ops="", **{k: 1.0 for k in ALL_OFF}))
    assert np.array_equal(off(img, np.random.default_rng(0)), img)


def test_augment_batch_shape_and_seeded() -> None:
    aug = ImageAugmenter(ImageAugmentConfig(**{k: 0.7 for k in ALL_OFF}))
    batch = np.stack([photo(s) for s in range(5)])
    a = aug.augment_batch(batch, np.random.default_rng(1))
    b = aug.augment_batch(batch, np.random.default_rng(1))
    assert a.shape == batch.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, aug.augment_batch(batch, np.random.default_rng(2)))
    assert not np.array_equal(a[0], batch[0])
    with pytest.raises(ValueError):
        aug.augment_batch(batch[0], np.random.default_rng(0))


def test_flip_only_is_a_mirror() -> None:
    img = photo(4)
    out = only("flip")(img, np.random.default_rng(0))
    assert np.array_equal(out, img[:, ::-1])


def test_rotation_90_moves_a_left_marker_down_or_up() -> None:
    n = 96
    img = marker_image(26, n // 2 - 4, n=n)  # left of centre, beyond the reach of the mirrored corners
    c = (n - 1) / 2
    x, y = centroid(img)
    r = c - x
    aug = only("rotation", rotation_deg=90.0)
    out = aug.apply(img, AugmentParams(rotation=90.0))  # counter-clockwise: the left goes to the bottom
    ox, oy = centroid(out)
    assert abs(ox - c) < 2 and abs(oy - (c + r)) < 2
    out = aug.apply(img, AugmentParams(rotation=-90.0))
    ox, oy = centroid(out)
    assert abs(ox - c) < 2 and abs(oy - (c - r)) < 2
    # through __call__: the marker lands where the drawn angle says, on the same circle
    for seed in range(3):
        p = aug.sample(np.random.default_rng(seed))
        ox, oy = centroid(aug(img, np.random.default_rng(seed)))
        a = np.deg2rad(p.rotation)
        assert abs(ox - (c - r * np.cos(a))) < 2.5 and abs(oy - (c + r * np.sin(a))) < 2.5


def test_shift_moves_the_marker_by_shift_times_side() -> None:
    n = 96
    img = marker_image(44, 44, n=n)  # centred, far from the mirrored borders
    x, y = centroid(img)
    aug = only("shift", shift=0.2)
    out = aug.apply(img, AugmentParams(shift=(0.2, -0.1)))
    ox, oy = centroid(out)
    assert abs(ox - (x + 0.2 * n)) < 1 and abs(oy - (y - 0.1 * n)) < 1
    p = aug.sample(np.random.default_rng(7))
    ox, oy = centroid(aug(img, np.random.default_rng(7)))
    assert abs(ox - (x + p.shift[0] * n)) < 1 and abs(oy - (y + p.shift[1] * n)) < 1
    assert max(abs(p.shift[0]), abs(p.shift[1])) <= 0.2


def test_zoom_enlarges_a_centred_square_and_borders_are_mirrored() -> None:
    n = 96
    img = marker_image(38, 38, side=20, n=n)
    aug = only("zoom", zoom=0.5)
    big = aug.apply(img, AugmentParams(zoom=1.4))
    small = aug.apply(img, AugmentParams(zoom=0.7))
    area = (img[..., 0] > 127).sum()
    assert (big[..., 0] > 127).sum() == pytest.approx(area * 1.4**2, rel=0.15)
    assert (small[..., 0] > 127).sum() < area * 0.6
    # no black corners: a bright image zoomed out (and rotated) stays bright everywhere
    white = np.full((n, n, 3), 200, np.uint8)
    out = aug.apply(white, AugmentParams(zoom=0.6, rotation=30.0, shear=10.0))
    assert out.min() >= 195


def test_shear_tilts_a_vertical_bar() -> None:
    n = 96
    img = np.zeros((n, n, 3), np.uint8)
    img[10:86, 46:50] = 255
    out = only("shear", shear_deg=30.0).apply(img, AugmentParams(shear=30.0))
    top, bottom = centroid(out[:30]), centroid(out[-30:])
    assert abs(top[0] - bottom[0]) > 20  # a vertical bar leans over
    assert np.array_equal(only("shear").apply(img, AugmentParams(shear=0.0)), img)


def test_brightness_raises_or_lowers_the_mean() -> None:
    img = photo(5)
    aug = only("brightness", brightness=0.4)
    assert aug.apply(img, AugmentParams(brightness=1.3)).mean() > img.mean() * 1.2
    assert aug.apply(img, AugmentParams(brightness=0.7)).mean() < img.mean() * 0.8
    for seed in range(4):
        p = aug.sample(np.random.default_rng(seed))
        out = aug(img, np.random.default_rng(seed))
        assert np.sign(out.mean() - img.mean()) == np.sign(p.brightness - 1)


def test_contrast_changes_the_spread_not_the_level() -> None:
    img = photo(6)
    aug = only("contrast", contrast=0.5)
    hi = aug.apply(img, AugmentParams(contrast=1.4))
    lo = aug.apply(img, AugmentParams(contrast=0.6))
    assert hi.std() > img.std() * 1.2 and lo.std() < img.std() * 0.7
    luma = np.array([0.299, 0.587, 0.114])
    assert abs((lo @ luma).mean() - (img @ luma).mean()) < 1  # the pivot is the mean luminance


def test_grayscale_removes_colour_keeps_luma() -> None:
    img = photo(8)
    out = only("grayscale").apply(img, AugmentParams(grayscale=True))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all(), "no colour left"
    luma = img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(out[..., 0] - luma).max() <= 1.0, "the grey is the image's own brightness"
    assert np.array_equal(only("grayscale").apply(img, AugmentParams()), img)
    assert only("grayscale", p=0.5).sample(np.random.default_rng(0)).describe() in ("grey", "unchanged")


def test_motion_blur_lowers_high_frequency_energy() -> None:
    img = np.kron((np.indices((16, 16)).sum(0) % 2) * 255, np.ones((4, 4))).astype(np.uint8)
    img = np.repeat(img[..., None], 3, axis=2)  # a 64x64 checkerboard of 4-px squares
    aug = only("motion_blur", motion_blur_px=9)
    out = aug(img, np.random.default_rng(0))
    assert out.shape == img.shape and laplacian_var(out) < 0.6 * laplacian_var(img)
    assert abs(float(out.mean()) - float(img.mean())) < 3  # a blur keeps the brightness
    for length, angle in [(2, 0.0), (5, 45.0), (9, 90.0), (8, 137.0)]:
        k = motion_blur_kernel(length, angle)
        assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1 and abs(k.sum() - 1) < 1e-5 and k.min() >= 0
    horizontal = motion_blur_kernel(7, 0.0)
    assert horizontal[3].sum() > 0.99  # a horizontal streak stays on the centre row


def test_one_channel_and_grey_images() -> None:
    aug = ImageAugmenter(ImageAugmentConfig(**{k: 1.0 for k in ALL_OFF}))
    for shape in [(40, 50), (40, 50, 1), (40, 50, 4)]:
        img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        out = aug(img, np.random.default_rng(0))
        assert out.shape == shape and out.dtype == np.uint8
    with pytest.raises(ValueError):
        aug(np.zeros((10, 10, 3), np.float32), np.random.default_rng(0))


def test_unknown_op_lists_valid_names() -> None:
    with pytest.raises(AslkitError) as exc:
        ImageAugmenter(ImageAugmentConfig(ops="rotation,blurr,flip"))
    msg = str(exc.value)
    assert "'blurr'" in msg and all(op in msg for op in OPS) and "\n" not in msg
    with pytest.raises(AslkitError, match="flip_p"):
        ImageAugmenter(ImageAugmentConfig(flip_p=1.5))
    with pytest.raises(AslkitError, match="zoom"):
        ImageAugmenter(ImageAugmentConfig(zoom=1.0))
    # spaces and order in `ops` do not matter
    assert ImageAugmenter(ImageAugmentConfig(ops=" flip , rotation ")).ops == ["flip", "rotation"]


def test_module_does_not_import_torch() -> None:
    code = "import sys, aslkit.data.image_augment; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# preview
# ---------------------------------------------------------------------------------------------
def make_class_folders(root: Path, per_class: dict[str, int], side: int = 48) -> Path:
    rng = np.random.default_rng(0)
    for label, k in per_class.items():
        d = root / label
        d.mkdir(parents=True)
        for i in range(k):
            arr = rng.integers(0, 256, (side, side + 8, 3), dtype=np.uint8)
            Image.fromarray(arr).save(d / f"{label.lower()}_{i}.png")
    return root


def test_write_preview_grid_size_atomic_and_seeded(tmp_path: Path) -> None:
    imgs = [photo(0), photo(1, 120, 90)]
    aug = ImageAugmenter(ImageAugmentConfig())
    out = write_preview(imgs, tmp_path / "new" / "sub" / "prev.png", aug, per_image=3, seed=1, titles=["A x", "B y"])
    assert out.is_file()
    with Image.open(out) as im:
        assert im.size == grid_size(2, 4, 160)
        first = np.asarray(im.convert("RGB"))
    w1, h1 = grid_size(2, 4, 160)
    w2, h2 = grid_size(3, 5, 160)
    assert w2 > w1 and h2 > h1
    assert [p.name for p in out.parent.iterdir()] == ["prev.png"]  # no temp file left behind
    again = write_preview(imgs, tmp_path / "again.png", aug, per_image=3, seed=1, titles=["A x", "B y"])
    with Image.open(again) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), first)
    other = write_preview(imgs, tmp_path / "other.png", aug, per_image=3, seed=2, titles=["A x", "B y"])
    with Image.open(other) as im:
        assert not np.array_equal(np.asarray(im.convert("RGB")), first)
    with pytest.raises(AslkitError):
        write_preview([], tmp_path / "none.png", aug)
    with pytest.raises(AslkitError):
        write_preview(imgs, tmp_path / "bad.png", aug, titles=["only one"])


def test_write_preview_failure_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aslkit.outputs as mod  # the shared temp-file-and-rename writer

    target = tmp_path / "prev.png"
    target.write_bytes(b"old preview")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(mod.os, "replace", boom)
    with pytest.raises(OSError):
        write_preview([photo()], target, ImageAugmenter(), per_image=1)
    assert target.read_bytes() == b"old preview"
    assert [p.name for p in tmp_path.iterdir()] == ["prev.png"]


def test_preview_dataset_grid_and_data_untouched(tmp_path: Path) -> None:
    data = make_class_folders(tmp_path / "data", {"A": 3, "B": 3, "C": 2})
    before = snapshot(data)
    out = preview_dataset(data, tmp_path / "out" / "preview.png", n=5, per_image=2, seed=0)
    with Image.open(out) as im:
        assert im.size == grid_size(5, 3, 160)
        a = np.asarray(im.convert("RGB"))
    assert snapshot(data) == before
    # fewer images than asked for: one row per image
    out2 = preview_dataset(data, tmp_path / "all.png", n=50, per_image=4, seed=0)
    with Image.open(out2) as im:
        assert im.size == grid_size(8, 5, 160)
    # deterministic for a seed
    again = preview_dataset(data, tmp_path / "again.png", n=5, per_image=2, seed=0)
    with Image.open(again) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), a)
    assert snapshot(data) == before
    # the preview is never written inside the data folder
    with pytest.raises(AslkitError, match="inside the data folder"):
        preview_dataset(data, data / "A" / "preview.png", n=2)
    assert snapshot(data) == before
    # nor over an existing file
    keep = tmp_path / "mine.png"
    keep.write_bytes(b"the user's own file")
    with pytest.raises(AslkitError, match="already exists"):
        preview_dataset(data, keep, n=2)
    assert keep.read_bytes() == b"the user's own file"


def test_preview_dataset_spreads_over_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aslkit.data.image_augment as mod

    data = make_class_folders(tmp_path / "data", {"A": 4, "B": 4, "C": 4})
    seen: dict = {}

    def fake_write(images, out_png, augmenter, per_image, seed, titles, size):
        seen["titles"] = titles
        return Path(out_png)

    monkeypatch.setattr(mod, "write_preview", fake_write)
    preview_dataset(data, tmp_path / "p.png", n=6, seed=3)
    labels = [t.split()[0] for t in seen["titles"]]
    assert sorted(labels) == ["A", "A", "B", "B", "C", "C"]
    assert labels == sorted(labels)  # rows grouped by class
    assert all(t.split()[1].startswith(t.split()[0].lower() + "_") for t in seen["titles"])  # label + file name
    preview_dataset(data, tmp_path / "p.png", n=2, seed=3)
    assert len(set(t.split()[0] for t in seen["titles"])) == 2


def test_preview_dataset_skips_unreadable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = make_class_folders(tmp_path / "data", {"A": 2, "B": 1})
    (data / "B" / "broken.jpg").write_bytes(b"not a picture")
    (data / "A" / "empty.png").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="aslkit.data.image_augment"):
        out = preview_dataset(data, tmp_path / "p.png", n=10, per_image=1)
    with Image.open(out) as im:
        assert im.size == grid_size(3, 2, 160)
    assert "skipped 2 unreadable" in caplog.text


def test_preview_dataset_errors_are_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as exc:
        preview_dataset(empty, tmp_path / "p.png")
    assert "\n" not in str(exc.value) and str(empty) in str(exc.value)
    (empty / "A").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        preview_dataset(empty, tmp_path / "p.png")
    with pytest.raises(DatasetError, match="no such folder"):
        preview_dataset(tmp_path / "missing", tmp_path / "p.png")
    bad = tmp_path / "bad"
    (bad / "A").mkdir(parents=True)
    (bad / "A" / "x.jpg").write_bytes(b"junk")
    with pytest.raises(ImageError) as exc2:
        preview_dataset(bad, tmp_path / "p.png")
    assert "none of the 1 images" in str(exc2.value) and "\n" not in str(exc2.value)
    assert not (tmp_path / "p.png").exists()


def test_preview_dataset_applies_crop_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aslkit.data.image_augment as mod

    root = tmp_path / "boxes"
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(root / "images" / "p.png")
    (root / "annotations.csv").write_text("filename,class,xmin,ymin,xmax,ymax\np.png,A,40,30,80,70\n")
    seen: dict = {}

    def fake_write(images, out_png, augmenter, per_image, seed, titles, size):
        seen["shapes"] = [im.shape for im in images]
        return Path(out_png)

    monkeypatch.setattr(mod, "write_preview", fake_write)
    preview_dataset(root, tmp_path / "p.png", n=1)
    assert seen["shapes"] == [(64, 64, 3)]  # 40x40 box plus the dataset's 30% margin each side


def test_preview_real_photos(tmp_path: Path) -> None:
    src = shared_dir("asl-alphabet-photos")
    data = tmp_path / "real"
    for label in sorted(p.name for p in src.iterdir() if p.is_dir())[:3]:
        (data / label).mkdir(parents=True)
        for f in sorted((src / label).iterdir())[:2]:
            (data / label / f.name).symlink_to(f)
    before = snapshot(data)
    out = preview_dataset(data, tmp_path / "real.png", ImageAugmentConfig.defaults(), n=3, per_image=2, size=96)
    with Image.open(out) as im:
        assert im.size == grid_size(3, 3, 96)
    assert snapshot(data) == before


def test_config_replace_keeps_validation() -> None:
    cfg = replace(ImageAugmentConfig.defaults(), ops="rotation,warp")
    with pytest.raises(AslkitError, match="warp"):
        ImageAugmenter.from_config(cfg)
