"""The recognizer: arrays and files in, one Prediction per image out; bad files never stop a batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SHAPES, SYNTH_LABELS, make_hand, mirror_hand, shared_dir, snapshot, write_grey
from PIL import Image

from aslkit.errors import AslkitError, ImageError
from aslkit.inference.recognizer import Prediction, Recognizer, collect_image_paths
from aslkit.inference.recognizers import recognizer
from aslkit.landmarks.extractor import HandsResult
from aslkit.models.io import load_model


@pytest.fixture(scope="module")
def rec(synthetic_model_dir: Path):
    r = Recognizer(synthetic_model_dir, top_k=2, cache_dir=None)
    yield r
    r.close()


def test_labels_and_no_hand_label(rec: Recognizer) -> None:
    assert rec.labels == sorted(SYNTH_LABELS)
    assert rec.no_hand_label == "Nothing"


@pytest.mark.parametrize("label", sorted(SHAPES))
def test_predict_hands_on_synthetic_landmarks(rec: Recognizer, label: str) -> None:
    hand = make_hand(np.random.default_rng(5), SHAPES[label])
    p = rec.predict_hands(HandsResult(224, 224, [hand]), "x.jpg")
    assert p.label == label and p.hand and p.error is None and p.path == "x.jpg"
    assert len(p.top) == 2 and p.top[0] == (p.label, p.confidence) and p.top[0][1] >= p.top[1][1]
    assert p.box == hand.box
    assert rec.predict_hands(HandsResult(224, 224, [mirror_hand(hand)])).label == label, "left or right hand"


def test_no_hand_is_nothing(rec: Recognizer) -> None:
    p = rec.predict(np.full((256, 256, 3), 128, np.uint8))
    assert p.label == "Nothing" and p.hand is False and p.confidence == 1.0 and p.error is None
    assert p.to_json() == {
        "path": None,
        "label": "Nothing",
        "confidence": 1.0,
        "top": [["Nothing", 1.0]],
        "hand": False,
        "error": None,
    }


@pytest.mark.parametrize(
    "bad", [np.zeros((32, 32), np.uint8), np.zeros((32, 32, 4), np.uint8), np.zeros((32, 32, 3), np.float32)]
)
def test_predict_rejects_wrong_arrays(rec: Recognizer, bad: np.ndarray) -> None:
    with pytest.raises(ImageError, match="RGB uint8"):
        rec.predict(bad)


def test_predict_bad_file_raises_image_error(rec: Recognizer, bad_files: dict[str, Path]) -> None:
    for path in bad_files.values():
        with pytest.raises(ImageError):
            rec.predict(path)


def test_predict_paths_keeps_going_after_bad_files(
    rec: Recognizer, bad_files: dict[str, Path], odd_files: dict[str, Path], tmp_path: Path
) -> None:
    grey = write_grey(tmp_path / "grey.png")
    paths = [
        bad_files["zero_byte"],
        grey,
        bad_files["truncated_jpeg"],
        odd_files["alpha_png"],
        bad_files["over_max_pixels"],
    ]
    folder_snaps = {d: snapshot(d) for d in {p.parent for p in paths}}
    preds = rec.predict_paths(paths)
    assert [p.path for p in preds] == [str(p) for p in paths]
    assert [p.error is None for p in preds] == [False, True, False, True, False]
    for p in preds:
        assert isinstance(p, Prediction)
        if p.error:
            assert p.label is None and p.confidence == 0.0 and not p.hand and "\n" not in p.error
        else:
            assert p.label == "Nothing" and not p.hand
    assert all(snapshot(d) == s for d, s in folder_snaps.items())


def test_trained_model_object_is_accepted(synthetic_model_dir: Path) -> None:
    m = load_model(synthetic_model_dir)
    r = Recognizer(m, cache_dir=None)
    assert r.model is m


def test_model_that_does_not_read_landmarks(synthetic_model_dir: Path) -> None:
    m = load_model(synthetic_model_dir)
    m.preprocessing = {"input": "sequence"}
    with pytest.raises(AslkitError, match="does not read hand landmarks"):
        Recognizer(m)
    m.preprocessing = {"input": "image"}
    with pytest.raises(AslkitError, match=r"reads image\); aslkit.recognizer\(model\)"):
        Recognizer(m)  # a Recognizer is always the landmark one: no other class hides behind it
    with pytest.raises(AslkitError, match="no input size"):
        recognizer(m)


def test_collect_image_paths(tmp_path: Path) -> None:
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for name in ("b.jpg", "a.PNG", "sub/c.jpeg", "notes.txt"):
        (d / name).write_bytes(b"x")
    explicit = tmp_path / "photo.dat"
    explicit.write_bytes(b"x")
    got, problems = collect_image_paths([d, explicit])
    assert got == [d / "a.PNG", d / "b.jpg", d / "sub" / "c.jpeg", explicit]
    assert problems == []
    (tmp_path / "empty").mkdir()
    got, problems = collect_image_paths([tmp_path / "missing.jpg", explicit, tmp_path / "empty"])
    assert got == [explicit]
    assert [p for p, _ in problems] == [str(tmp_path / "missing.jpg"), str(tmp_path / "empty")]
    assert "no such file or folder" in problems[0][1]
    assert "no images found" in problems[1][1]


def test_real_photo_gets_a_hand(rec: Recognizer) -> None:
    f = sorted((shared_dir("asl-alphabet-photos") / "V").glob("*.jpg"))[0]
    p = rec.predict(f)
    assert p.hand and p.label in SYNTH_LABELS and p.path == str(f)
    x0, y0, x1, y1 = p.box
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1


def test_two_views_average_the_views_that_found_a_hand(rec: Recognizer) -> None:
    a = make_hand(np.random.default_rng(1), SHAPES[sorted(SHAPES)[0]])
    b = make_hand(np.random.default_rng(2), SHAPES[sorted(SHAPES)[1]])
    pa, pb = (rec.predict_hands(HandsResult(224, 224, [h])) for h in (a, b))
    both = rec.predict_hands([HandsResult(224, 224, [a]), HandsResult(224, 224, [b])])
    expect = {lab: (dict(pa.top).get(lab, 0) + dict(pb.top).get(lab, 0)) / 2 for lab in rec.labels}
    for lab, p in both.top:
        assert p == pytest.approx(expect[lab], abs=1e-5)
    only_a = rec.predict_hands([HandsResult(224, 224, [a]), HandsResult(224, 224, [])])
    assert only_a.top == pa.top, "a view without a hand does not dilute the other"
    none = rec.predict_hands([HandsResult(224, 224, []), HandsResult(224, 224, [])])
    assert none.label == "Nothing" and not none.hand


def test_views_setting(synthetic_model_dir: Path) -> None:
    assert Recognizer(synthetic_model_dir, cache_dir=None).views == "auto", "the model's own default (defaults.toml)"
    assert Recognizer(synthetic_model_dir, cache_dir=None, views="2").views == 2
    assert Recognizer(synthetic_model_dir, cache_dir=None, views=1).views == 1
    for bad in (3, "both", 0):
        with pytest.raises(AslkitError, match="views must be 1, 2 or auto"):
            Recognizer(synthetic_model_dir, cache_dir=None, views=bad)


def test_auto_views_asks_for_the_mirror_only_when_unsure(synthetic_model_dir: Path) -> None:
    rec = Recognizer(synthetic_model_dir, cache_dir=None, views="auto", second_view_below=0.8)
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.0, 0.0], [0.8, 0.2]])
    has = np.array([True, True, False, True])
    assert rec.needs_second_view(probs, has).tolist() == [False, True, True, False]
    assert Recognizer(synthetic_model_dir, cache_dir=None, views=1).needs_second_view(probs, has).sum() == 0
    assert Recognizer(synthetic_model_dir, cache_dir=None, views=2).needs_second_view(probs, has).all()


@pytest.mark.parametrize(("below", "mirrored"), [(1.01, 3), (0.0, 1)])
def test_auto_views_run_mirror_pass_on_the_uncertain_photos_only(
    synthetic_model_dir: Path, tmp_path: Path, below: float, mirrored: int
) -> None:
    """Threshold above 1: every photo is uncertain; threshold 0: only the photo without a hand."""
    import sqlite3

    files = sorted((shared_dir("asl-alphabet-photos") / "V").glob("*.jpg"))[:2]
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (128, 128, 128)).save(blank)
    cache = tmp_path / "cache"
    rec = Recognizer(synthetic_model_dir, cache_dir=cache, views="auto", second_view_below=below)
    preds = rec.predict_paths([*files, blank], workers=1)
    assert [p.hand for p in preds] == [True, True, False] and preds[2].label == "Nothing"
    with sqlite3.connect(cache / "landmarks.sqlite") as db:
        keys = [k for (k,) in db.execute("SELECT key FROM landmarks")]
    assert sum(k.endswith(":mirror") for k in keys) == mirrored
    rec.close()


def test_two_views_of_real_photos_are_cached_separately(synthetic_model_dir: Path, tmp_path: Path) -> None:
    files = sorted((shared_dir("asl-alphabet-photos") / "V").glob("*.jpg"))[:2]
    cache = tmp_path / "cache"
    r2 = Recognizer(synthetic_model_dir, cache_dir=cache, views=2)
    preds = r2.predict_paths(files, workers=1)
    assert all(p.hand and p.error is None for p in preds)
    import sqlite3

    with sqlite3.connect(cache / "landmarks.sqlite") as db:
        keys = [k for (k,) in db.execute("SELECT key FROM landmarks")]
    assert len(keys) == 4 and sum(k.endswith(":mirror") for k in keys) == 2
    single = Recognizer(synthetic_model_dir, cache_dir=cache, views=1).predict(files[0])
    assert single.hand and preds[0].hand
    r2.close()


def test_view_probabilities(synthetic_model_dir: Path) -> None:
    from conftest import make_landmark_set

    from aslkit.inference.recognizer import view_probabilities

    m = load_model(synthetic_model_dir)
    s = make_landmark_set(n_per_class=3, no_hand=1)
    probs, has = view_probabilities(m, [s, s])
    assert (has == s.has_hand).all()
    np.testing.assert_allclose(probs[has].sum(1), 1.0, atol=1e-5)
    assert (probs[~has] == 0).all()
