"""Landmark cache: keyed by file content and extractor settings; a second pass skips MediaPipe."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import make_hand, snapshot
from PIL import Image

from aslkit.errors import ImageError
from aslkit.landmarks import batch
from aslkit.landmarks.batch import ImageSource, extract_sources
from aslkit.landmarks.cache import LandmarkCache, content_key, default_cache_dir
from aslkit.landmarks.extractor import HandLandmarker, HandsResult


class CountingLandmarker:
    """Stands in for MediaPipe: returns a synthetic hand whose x depends on the image, counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, lm_self: HandLandmarker, image: np.ndarray) -> HandsResult:
        self.calls += 1
        hand = make_hand(np.random.default_rng(int(image.mean())))
        return HandsResult(image.shape[1], image.shape[0], [hand], "plain", [list(lm_self.attempts[0])])


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingLandmarker:
    fake = CountingLandmarker()
    monkeypatch.setattr(HandLandmarker, "__call__", lambda self, image, start=0: fake(self, image))
    return fake


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    d = tmp_path / "photos"
    d.mkdir()
    out = []
    for i, v in enumerate((40, 90, 160)):
        p = d / f"p{i}.png"
        Image.new("RGB", (64, 48), (v, v // 2, 255 - v)).save(p)
        out.append(p)
    return out


def _rows(cache_dir: Path) -> int:
    with sqlite3.connect(cache_dir / "landmarks.sqlite") as c:
        return c.execute("SELECT COUNT(*) FROM landmarks").fetchone()[0]


def test_second_pass_hits_the_cache(counting: CountingLandmarker, photos: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = extract_sources(photos, cache_dir=cache, workers=1, progress=False)
    assert counting.calls == 3
    assert (cache / "landmarks.sqlite").is_file() and _rows(cache) == 3
    second = extract_sources(photos, cache_dir=cache, workers=1, progress=False)
    assert counting.calls == 3, "no extraction on the second pass"
    for a, b in zip(first, second, strict=True):
        assert isinstance(b, HandsResult) and (b.width, b.height) == (64, 48)
        np.testing.assert_allclose(b.hands[0].landmarks, a.hands[0].landmarks, atol=1e-6)
        np.testing.assert_allclose(b.hands[0].world, a.hands[0].world, atol=1e-6)
        assert b.hands[0].handedness == a.hands[0].handedness and b.attempt == a.attempt


def test_cache_is_keyed_by_content_not_name(counting: CountingLandmarker, photos: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    extract_sources(photos, cache_dir=cache, workers=1, progress=False)
    elsewhere = tmp_path / "renamed" / "other-name.png"
    elsewhere.parent.mkdir()
    shutil.copy(photos[1], elsewhere)
    res = extract_sources([elsewhere], cache_dir=cache, workers=1, progress=False)
    assert counting.calls == 3, "a copy under another name is a cache hit"
    assert isinstance(res[0], HandsResult) and res[0].found
    Image.new("RGB", (64, 48), (1, 2, 3)).save(photos[0])  # same name, new content
    extract_sources(photos, cache_dir=cache, workers=1, progress=False)
    assert counting.calls == 4, "changed content is a miss"


def test_crop_is_part_of_the_key(counting: CountingLandmarker, photos: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    extract_sources([ImageSource(photos[0])], cache_dir=cache, workers=1, progress=False)
    res = extract_sources([ImageSource(photos[0], (0, 0, 32, 32))], cache_dir=cache, workers=1, progress=False)
    assert counting.calls == 2
    assert (res[0].width, res[0].height) == (32, 32), "the crop is what the extractor saw"


def test_cache_disabled(
    counting: CountingLandmarker, photos: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    extract_sources(photos, cache_dir=None, workers=1, progress=False)
    extract_sources(photos, cache_dir=None, workers=1, progress=False)
    assert counting.calls == 6
    assert snapshot(tmp_path) == before, "cache_dir=None writes nothing anywhere"


def test_default_cache_dir_honours_env(
    counting: CountingLandmarker, photos: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASLKIT_CACHE_DIR", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    extract_sources(photos[:1], workers=1, progress=False)  # cache_dir="default"
    assert (tmp_path / "envcache" / "landmarks.sqlite").is_file()
    monkeypatch.delenv("ASLKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "aslkit"


def test_unreadable_files_are_not_cached_and_keep_their_slot(
    counting: CountingLandmarker, photos: list[Path], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    srcs = [photos[0], bad_files["zero_byte"], bad_files["text_as_jpg"], tmp_path / "missing.jpg", photos[1]]
    res = extract_sources(srcs, cache_dir=cache, workers=1, progress=False)
    assert [type(r).__name__ for r in res] == ["HandsResult", "ImageError", "ImageError", "ImageError", "HandsResult"]
    assert "empty file" in str(res[1]) and "not an image" in str(res[2]) and "no such file" in str(res[3])
    assert _rows(cache) == 2


def test_unusable_cache_dir_does_not_stop_extraction(
    counting: CountingLandmarker, photos: list[Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = extract_sources(photos[:2], cache_dir=blocker / "cache", workers=1, progress=False)
    assert all(isinstance(r, HandsResult) for r in res)
    assert LandmarkCache(blocker / "cache").enabled is False


def test_cache_store_is_json_not_pickle(tmp_path: Path) -> None:
    c = LandmarkCache(tmp_path)
    key = content_key(b"abc", "sig")
    assert key.endswith(":sig") and len(key.split(":")[0]) == 64
    assert content_key(b"abc", "sig") == key and content_key(b"abd", "sig") != key
    assert content_key(b"abc", "other") != key
    value = HandsResult(10, 20, [make_hand()], "border50").to_json()
    c.put(key, value)
    assert c.get(key) == json.loads(json.dumps(value))
    assert c.get("missing") is None
    c.close()
    with sqlite3.connect(tmp_path / "landmarks.sqlite") as db:
        raw = db.execute("SELECT value FROM landmarks").fetchone()[0]
    assert json.loads(raw)["attempt"] == "border50"
    assert LandmarkCache(None).get(key) is None and not LandmarkCache(None).enabled


def test_signature_changes_with_settings() -> None:
    a = HandLandmarker(static=True).signature
    assert a == HandLandmarker(static=True).signature
    assert HandLandmarker(static=True, max_hands=1).signature != a
    # The retry ladder is not in the signature: results are reused across ladders via resume_from.
    assert HandLandmarker(static=True, attempts=(("plain", 0.0, "", 1, 0.5),)).signature == a


def test_resume_from_reuses_results_of_other_ladders() -> None:
    short = (("plain", 0.0, "", 1, 0.5),)
    longer = (*short, ("border50", 0.5, "mean", 1, 0.5))
    other = (("lite", 0.0, "", 0, 0.5),)
    found = HandsResult(10, 10, [make_hand(np.random.default_rng(0))], "plain", [list(short[0])])
    missed = HandsResult(10, 10, [], None, [list(short[0])])
    assert HandLandmarker(attempts=longer).resume_from(found) == -1, "found at a shared first step: reuse"
    assert HandLandmarker(attempts=longer).resume_from(missed) == 1, "continue from the first untried step"
    assert HandLandmarker(attempts=short).resume_from(missed) == -1, "same ladder, nothing found: reuse"
    assert HandLandmarker(attempts=other).resume_from(found) is None, "different ladder: start over"
    assert HandLandmarker(attempts=longer).resume_from(HandsResult(10, 10, [], None, [])) is None


def test_parallel_workers_match_in_process(photos: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process pool path (real MediaPipe) gives the same results and fills the same cache."""
    monkeypatch.setattr(batch, "PARALLEL_MIN", 2)
    cache = tmp_path / "cache"
    par = extract_sources(photos, cache_dir=cache, workers=2, progress=False)
    seq = extract_sources(photos, cache_dir=None, workers=1, progress=False)
    assert [type(r) for r in par] == [type(r) for r in seq] == [HandsResult] * 3
    assert [r.found for r in par] == [r.found for r in seq] == [False] * 3, "flat colour: no hand"
    assert _rows(cache) == 3


def test_image_error_type(bad_files: dict[str, Path]) -> None:
    res = extract_sources([bad_files["truncated_jpeg"]], cache_dir=None, workers=1, progress=False)
    assert isinstance(res[0], ImageError) and "truncated" in str(res[0])


def test_worker_pool_is_never_larger_than_the_work_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """--workers 999 for 32 photos started 999 MediaPipe processes (minutes of start-up)."""
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 2)
    started: list[int] = []
    monkeypatch.setattr(batch, "_start_pool", lambda n: started.append(n) or object())
    assert batch.LandmarkPool(999).get(32) is not None
    assert batch.LandmarkPool(999).get(5) is None  # too few files for a pool at all (PARALLEL_MIN)
    assert batch.LandmarkPool(3).get(batch.PARALLEL_MIN + 1) is not None
    assert started == [8, 3], "4 per core at most, and what was asked when it is fewer"
    assert batch.pool_size(16, 2) == 2, "never more than the files to read"
