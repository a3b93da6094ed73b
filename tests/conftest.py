"""Shared fixtures: synthetic hands and landmark sets, bad image files, folder snapshots, real-data access.

Real data is read from ``../shared/data`` beside the checkout and never copied into the repository;
tests that need it skip with a clear reason when it is absent. Tests that need a folder of real images
build one from symlinks under tmp_path.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

# Tiny models train fastest on one thread; with two OpenMP threads on a busy 2-core machine, spin-waiting makes
# a 12-sample step take ~1 s. Set before torch is imported (also inherited by subprocesses and worker pools).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from aslkit.landmarks.extractor import Hand  # noqa: E402
from aslkit.landmarks.features import canonical_points  # noqa: E402
from aslkit.landmarks.landmark_set import LandmarkSet  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHIPPED_LETTERS = Path(__file__).resolve().parents[1] / "src" / "aslkit" / "weights" / "letters.json"

SYNTH_LABELS = ["B", "L", "V"]  # class names of the synthetic model (real letters, so evaluate finds them)


# ---------------------------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _isolated_default_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Safety net: anything that falls back to the default cache writes under tmp, never ~/.cache/aslkit."""
    monkeypatch.setenv("ASLKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "default-cache"))
    # a cfg= file's [landmarks] sets $ASLKIT_MEDIAPIPE_API for the run: restored after each test, as it was
    api = os.environ.get("ASLKIT_MEDIAPIPE_API")
    if api is None:
        monkeypatch.delenv("ASLKIT_MEDIAPIPE_API", raising=False)
    else:
        monkeypatch.setenv("ASLKIT_MEDIAPIPE_API", api)


def load_repo_module(relpath: str):
    """A script or benchmark of this repository (not a package) as a module, to test its functions."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, relpath
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def shared_dir(*parts: str) -> Path:
    """A folder of ../shared/data; skips the test (with the reason) when it is not there."""
    p = SHARED.joinpath(*parts)
    if not p.is_dir():
        pytest.skip(f"real data not available: {p} is absent (see ../shared/data/README.md)")
    return p


@pytest.fixture
def shared_data() -> Path:
    return shared_dir()


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One landmark cache for the tests that run MediaPipe on the same real images (saves time)."""
    return tmp_path_factory.mktemp("real-cache")


def link_subset(dest: Path, source: Path, classes: dict[str, str], per_class: int, start: int = 0) -> Path:
    """dest/<new name>/<file> symlinks to the first files of source/<class> (sorted); dest is returned.

    classes maps the source folder name to the folder name to create under dest.
    """
    for src_name, dst_name in classes.items():
        files = sorted(p for p in (source / src_name).iterdir() if p.is_file())[start : start + per_class]
        if len(files) < per_class:
            pytest.skip(f"real data incomplete: {source / src_name} has fewer than {start + per_class} files")
        d = dest / dst_name
        d.mkdir(parents=True, exist_ok=True)
        for f in files:
            (d / f.name).symlink_to(f)
    return dest


# ---------------------------------------------------------------------------------------------
# folder snapshots ("nothing in the user's folder changed")
# ---------------------------------------------------------------------------------------------
def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root (not following symlinks): type, size, mtime and a content hash."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p), st.st_mtime_ns)
            elif p.is_dir():
                out[rel] = ("dir", st.st_mtime_ns)
            else:
                out[rel] = ("file", st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


# ---------------------------------------------------------------------------------------------
# image files, good and bad
# ---------------------------------------------------------------------------------------------
def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels but holds no pixel data (what a decompression bomb starts with)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def jpeg_bytes(arr: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def write_grey(path: Path, size: int = 256, value: int = 128) -> Path:
    """A flat grey RGB image: readable, but there is no hand in it."""
    Image.new("RGB", (size, size), (value, value, value)).save(path)
    return path


def make_bad_files(folder: Path) -> dict[str, Path]:
    """Unreadable files: name -> path. Each must give an ImageError, never a crash."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    files = {
        "zero_byte": (folder / "empty.jpg", b""),
        "text_as_jpg": (folder / "notes.jpg", b"this is a text file, not a photo\n" * 10),
        "truncated_jpeg": (folder / "cut.jpg", jpeg_bytes(noise)[:300]),
        "one_pixel": (folder / "dot.png", None),
        "huge_header": (folder / "bomb.png", png_header_only(100_000, 100_000)),
        "over_max_pixels": (folder / "big.png", None),
    }
    out = {}
    for name, (path, data) in files.items():
        if data is not None:
            path.write_bytes(data)
        out[name] = path
    Image.new("RGB", (1, 1), (200, 10, 10)).save(files["one_pixel"][0])
    # A real 9000x9000 single-colour PNG: 81 MP is above aslkit's 64 MP limit, yet the file is tiny.
    Image.new("1", (9000, 9000), 1).save(files["over_max_pixels"][0])
    return out


def make_readable_odd_files(folder: Path) -> dict[str, Path]:
    """Unusual files that must load fine as RGB: alpha PNG, grayscale JPEG, 16-bit PNG, palette PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    rgba = np.zeros((48, 40, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :20, 3] = 255  # left half opaque red, right half fully transparent
    out["alpha_png"] = folder / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(out["alpha_png"])
    out["grayscale_jpeg"] = folder / "gray.jpg"
    Image.fromarray(np.full((50, 60), 90, np.uint8), "L").save(out["grayscale_jpeg"])
    out["gray16_png"] = folder / "gray16.png"
    g16 = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (32, 1))
    Image.fromarray(g16).save(out["gray16_png"])
    out["palette_png"] = folder / "palette.png"
    Image.new("RGB", (32, 32), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE).save(out["palette_png"])
    return out


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    return make_bad_files(tmp_path / "bad")


@pytest.fixture
def odd_files(tmp_path: Path) -> dict[str, Path]:
    return make_readable_odd_files(tmp_path / "odd")


# ---------------------------------------------------------------------------------------------
# synthetic hands
# ---------------------------------------------------------------------------------------------
# (mcp x, mcp y) relative to the wrist in image fractions, finger direction (degrees from straight up,
# positive = towards +x), and three segment lengths; the thumb's first point is its CMC joint.
_FINGERS = (
    ((-0.06, -0.04), -50.0, (0.05, 0.04, 0.035)),  # thumb
    ((-0.05, -0.16), -8.0, (0.06, 0.04, 0.035)),  # index
    ((-0.01, -0.17), 0.0, (0.065, 0.045, 0.035)),  # middle
    ((0.03, -0.16), 7.0, (0.06, 0.04, 0.03)),  # ring
    ((0.065, -0.14), 15.0, (0.045, 0.03, 0.025)),  # pinky
)
WRIST = np.array([0.5, 0.68, 0.0])


def template_landmarks(extended: Sequence[bool] = (True,) * 5) -> np.ndarray:
    """21x3 image landmarks of an upright hand; a finger that is not extended is curled towards the camera."""
    pts = [WRIST.copy()]
    for finger, ((bx, by), ang, lengths) in enumerate(_FINGERS):
        base = WRIST + np.array([bx, by, -0.01])
        a = np.deg2rad(ang)
        joints = [base]
        curl = 0.0
        for seg in lengths:
            if not extended[finger]:
                curl += np.deg2rad(70)
            # direction: up (-y) rotated by the finger angle in-plane, then curled towards -z
            d = np.array([np.sin(a) * np.cos(curl), -np.cos(a) * np.cos(curl), -np.sin(curl)])
            joints.append(joints[-1] + seg * d)
        pts.extend(joints)
    arr = np.array(pts, dtype=np.float64)
    assert arr.shape == (21, 3)
    return arr


def make_hand(
    rng: np.random.Generator | None = None,
    extended: Sequence[bool] = (True,) * 5,
    handedness: str = "Left",
    noise: float = 0.004,
) -> Hand:
    """A plausible Hand: image landmarks within about [0.3, 0.7], world landmarks in metres (~cm scale)."""
    rng = rng or np.random.default_rng(0)
    lm = template_landmarks(extended) + rng.normal(0, noise, (21, 3))
    world = (lm - lm[[0, 5, 9, 13, 17]].mean(0)) * 0.55 + rng.normal(0, noise * 0.3, (21, 3))
    if handedness == "Right":  # the same hand seen mirrored
        lm[:, 0] = 1.0 - lm[:, 0]
        world[:, 0] = -world[:, 0]
    return Hand(lm.astype(np.float32), world.astype(np.float32), handedness, 0.95)


def mirror_hand(h: Hand) -> Hand:
    """x -> 1-x in the image, x -> -x in the world, handedness flipped."""
    lm, w = h.landmarks.copy(), h.world.copy()
    lm[:, 0] = 1.0 - lm[:, 0]
    w[:, 0] = -w[:, 0]
    return Hand(lm, w, "Right" if h.handedness == "Left" else "Left", h.score)


# Three clearly different hand shapes: open palm, fist, V (index + middle up).
SHAPES: dict[str, tuple[bool, ...]] = {
    "B": (False, True, True, True, True),
    "L": (True, True, False, False, False),
    "V": (False, True, True, False, False),
}


def write_shapes_npz(path: Path, per_class: int = 30, seed: int = 3, classes: int = 3) -> Path:
    """A landmark .npz (raw rows in image fractions, as `aslkit train` reads) of synthetic hand shapes."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for label, ext in list(SHAPES.items())[:classes]:
        for _ in range(per_class):
            rows.append(make_hand(rng, ext, handedness="Right").landmarks)
            labels.append(label)
    np.savez(path, landmarks=np.array(rows, np.float32), label=np.array(labels))
    return path


def make_landmark_set(
    n_per_class: int = 40,
    seed: int = 0,
    shapes: dict[str, tuple[bool, ...]] = SHAPES,
    width: int = 224,
    height: int = 224,
    no_hand: int = 0,
) -> LandmarkSet:
    """A LandmarkSet of perturbed template hands (random position, size, tilt, left/right), plus
    ``no_hand`` samples per class where no hand was found."""
    rng = np.random.default_rng(seed)
    pts, has, labels, paths = [], [], [], []
    for label, ext in shapes.items():
        for i in range(n_per_class + no_hand):
            if i >= n_per_class:
                pts.append(np.zeros((21, 3), np.float32))
                has.append(False)
            else:
                h = make_hand(rng, ext, handedness=str(rng.choice(["Left", "Right"])))
                # random in-plane tilt (+-8 deg), scale and shift around the image centre
                t = np.deg2rad(rng.uniform(-8, 8))
                rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
                c = np.array([0.5, 0.5])
                s = rng.uniform(0.8, 1.2)
                h.landmarks[:, :2] = ((h.landmarks[:, :2] - c) @ rot.T) * s + c + rng.uniform(-0.08, 0.08, 2)
                h.landmarks[:, 2] *= s
                pts.append(canonical_points(h, width, height))
                has.append(True)
            labels.append(label)
            paths.append(f"synthetic/{label}/hand{i % 4 + 1}_{label.lower()}_{i:03d}.jpg")
    return LandmarkSet(np.array(pts, np.float32), np.array(has, bool), labels, paths, [None] * len(labels))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def synthetic_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder (model.json + model.safetensors) of landmark-mlp-tiny trained on synthetic hands
    labelled B, L, V. No MediaPipe, a few seconds; used wherever a trained model is needed."""
    from aslkit.config import TrainConfig
    from aslkit.training.landmark_fit import fit_landmark_model

    data = make_landmark_set(30, seed=7)
    labels = sorted(SYNTH_LABELS)
    cfg = TrainConfig.from_defaults(model="landmark-mlp-tiny", epochs=15, batch_size=32, seed=0)
    model, _ = fit_landmark_model(data, data, labels, cfg, None, progress=False)
    out = tmp_path_factory.mktemp("synthetic-run")
    model.save(out, "model")
    return out


def make_images(folder: Path) -> dict[str, Path]:
    """Bad and odd-but-readable files together in one folder: kind -> path."""
    return {**make_bad_files(folder), **make_readable_odd_files(folder)}


# ---------------------------------------------------------------------------------------------
# image models
# ---------------------------------------------------------------------------------------------
def image_models() -> list[str]:
    """Every registered architecture that reads images."""
    from aslkit.models import get_model_info, list_models

    return [n for n in list_models() if get_model_info(n).input == "image"]


# transformer models (CLIP) are built this small in tests
TINY_TRANSFORMER = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "image_size": 64,
    "patch_size": 16,
}


def bump_clips(n: int, seed: int, t: int, f: int, c: int):
    """A toy task a sequence model must look over time for: the class is where (which quarter of the
    clip) a bump appears in feature 0; clips have different lengths (padded at the end). (x, mask, y)"""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, f, generator=g) * 0.1
    y = torch.arange(n) % c
    lengths = torch.randint(12, t + 1, (n,), generator=g)
    mask = torch.arange(t)[None] < lengths[:, None]
    for i in range(n):
        q = int(lengths[i]) // c
        x[i, y[i] * q : (y[i] + 1) * q, 0] += 2.0
    return x, mask, y


def on_two_threads(call: Callable[[], object], times: int) -> list[BaseException]:
    """Run ``call`` ``times`` times on each of two threads at once, as two stream events of one browser session
    do; what the threads raised (a MediaPipe graph run twice at once crashed or broke the session)."""
    import threading

    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for _ in range(times):
                call()
        except BaseException as exc:  # noqa: BLE001 - what the thread met is what the test reports
            errors.append(exc)

    threads = [threading.Thread(target=stream) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
