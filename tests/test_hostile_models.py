"""Hostile inputs (GitHub issue 15, items 14 and 15): crafted model files and broken clips.

A model file from a stranger is checked against its weights before anything is built: every problem is one
ModelError line (exit 1 from the CLI), never an IndexError, a silent wrong answer or a 7 GB allocation. A bad
clip in a batch gets its own error row and the other clips still get their answers.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat
import pytest

from aslkit.cli import main
from aslkit.errors import DatasetError, ModelError
from aslkit.inference.sequence_recognizer import SequenceRecognizer
from aslkit.landmarks.holistic import load_sequences
from aslkit.models import io as model_io
from aslkit.models.io import load_model, shipped_models

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "aslkit" / "weights"


_UNBLOCK = """
import os, sys, time
while True:
    time.sleep(float(sys.argv[1]))
    try:
        fd = os.open(sys.argv[2], os.O_WRONLY | os.O_NONBLOCK)  # only succeeds while a reader waits
    except OSError:
        continue
    print("blocked", flush=True)
    os.close(fd)  # the reader gets EOF
"""


class FifoWatch:
    """Makes FIFOs, each watched by a small process: should a reader block on one for ``timeout`` seconds,
    the watcher opens it for writing so the reader gets EOF, and the test fails instead of hanging the suite.
    (A thread or a signal cannot help: a reader in C or Rust may hold the GIL, or retry on EINTR.)"""

    def __init__(self, timeout: float = 15.0) -> None:
        self.timeout = timeout
        self.watchers: list[subprocess.Popen] = []

    def __call__(self, path: Path) -> Path:
        os.mkfifo(path)
        self.watchers.append(
            subprocess.Popen([sys.executable, "-c", _UNBLOCK, str(self.timeout), str(path)], stdout=subprocess.PIPE)
        )
        return path

    def close(self) -> bool:
        """Stops the watchers; True when one of them had to unblock a reader."""
        blocked = False
        for w in self.watchers:
            w.kill()
            out, _ = w.communicate()
            blocked |= b"blocked" in out
        return blocked


@pytest.fixture
def fifo() -> Iterator[FifoWatch]:
    watch = FifoWatch()
    yield watch
    assert not watch.close(), "something blocked reading a FIFO"


# ---------------------------------------------------------------------------------------------
# crafted model files
# ---------------------------------------------------------------------------------------------
def copy_model(name: str, dest: Path) -> Path:
    """A shipped model's JSON + weights copied to dest/model.json + dest/model.safetensors; returns dest."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(WEIGHTS / f"{name}.json", dest / "model.json")
    shutil.copy(WEIGHTS / f"{name}.safetensors", dest / "model.safetensors")
    return dest


def edit_json(run: Path, change: Callable[[dict], Any]) -> None:
    spec = json.loads((run / "model.json").read_text())
    change(spec)
    (run / "model.json").write_text(json.dumps(spec))


def edit_tensors(run: Path, change: Callable[[dict], Any]) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(run / "model.safetensors"))
    out = change(tensors)
    save_file(out if isinstance(out, dict) else tensors, str(run / "model.safetensors"))


def raw_safetensors(path: Path, entries: dict[str, tuple[str, list[int], bytes]]) -> None:
    """A safetensors file written by hand: name -> (dtype code, shape, raw bytes), for dtypes numpy lacks."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def setter(*keys: str, value: Any) -> Callable[[dict], None]:
    def change(spec: dict) -> None:
        target = spec
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return change


def deleter(*keys: str) -> Callable[[dict], None]:
    def change(spec: dict) -> None:
        target = spec
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]

    return change


# (id, shipped base, change to model.json, change to the tensors, what the one-line error must say)
JSON_CASES: list[tuple[str, str, Callable[[dict], Any], str]] = [
    (
        "2M-labels",
        "letters",
        setter("labels", value=[f"L{i}" for i in range(2_000_000)]),
        r"2000000 labels.*29 outputs",
    ),
    ("too-few-labels", "letters", lambda s: s.update(labels=s["labels"][:5]), r"5 labels.*29 outputs"),
    ("too-few-labels-seq", "words", lambda s: s.update(labels=s["labels"][:5]), r"5 labels.*18 outputs"),
    ("labels-not-strings", "letters", lambda s: s.update(labels=list(range(29))), r"label.*not a string"),
    ("labels-duplicate", "letters", lambda s: s.update(labels=["A", *s["labels"][:-1]]), r"label 'A'.*more than once"),
    ("labels-empty-string", "letters", lambda s: s.update(labels=["", *s["labels"][1:]]), r"label 0 is empty"),
    ("labels-control-chars", "letters", lambda s: s.update(labels=["A\nB", *s["labels"][1:]]), r"control characters"),
    # the no-hand and idle answers are printed like labels: a newline forged a row for a file never given
    (
        "no-hand-label-forged-row",
        "letters",
        setter("preprocessing", "no_hand_label", value="Nothing\nx.jpg\tZ\t0.9"),
        r"preprocessing no_hand_label: the label .* has control characters",
    ),
    ("no-hand-label-escape", "letters", setter("preprocessing", "no_hand_label", value="N\x1b[31m"), r"control char"),
    (
        "no-hand-label-empty",
        "letters",
        setter("preprocessing", "no_hand_label", value=" "),
        r"no_hand_label: the label is empty",
    ),
    ("idle-label-newline", "words", setter("preprocessing", "idle_label", value="-\n-"), r"idle_label: .*control"),
    # a landmark model made for other features would be fed these and answer wrongly without a word
    ("features-other", "letters", setter("preprocessing", "features", value="hand-v99"), r"features 'hand-v99' is not"),
    ("handedness-up", "letters", setter("preprocessing", "canonical_handedness", value="Up"), r"canonical_handedness"),
    ("hand-choice-7", "letters", setter("preprocessing", "hand_choice", value=7), r"hand_choice 7 is not this"),
    ("labels-not-a-list", "letters", setter("labels", value="ABC"), r"labels must be a list"),
    ("labels-none", "words", setter("labels", value=[]), r"labels must be a list of at least one"),
    ("dim-10^7", "words", setter("kwargs", "dim", value=10**7), r"option dim=10000000 .*between 1 and 65536"),
    ("hidden-10^7", "letters", setter("kwargs", "hidden", value=10**7), r"option hidden=10000000"),
    ("members-0", "letters", setter("kwargs", "members", value=0), r"option members=0"),
    ("blocks-huge", "words", setter("kwargs", "blocks", value=60000), r"option blocks=60000"),
    ("kwargs-wrong-type", "words", setter("kwargs", "dim", value="192"), r"option dim='192'.*whole number"),
    ("kwargs-float-for-int", "words", setter("kwargs", "kernel", value=5.0), r"option kernel=5.0.*whole number"),
    ("kwargs-bool-for-int", "letters", setter("kwargs", "depth", value=True), r"option depth=True.*whole number"),
    ("kwargs-str-for-float", "letters", setter("kwargs", "dropout", value="0.2"), r"option dropout='0.2'.*number"),
    ("kwargs-nan-float", "letters", setter("kwargs", "dropout", value=float("nan")), r"option dropout=nan"),
    ("kwargs-unknown", "words", setter("kwargs", "bogus", value=1), r"no option\(s\) \['bogus'\]"),
    ("kwargs-not-a-dict", "words", setter("kwargs", value=[192, 4]), r"kwargs must be an object"),
    ("in_features-string", "letters", setter("in_features", value="abc"), r"in_features must be a whole number"),
    ("in_features-negative", "letters", setter("in_features", value=-5), r"in_features.*between 1 and 65536"),
    ("in_features-huge", "words", setter("in_features", value=10**9), r"in_features.*between 1 and 65536"),
    ("in_features-bool", "letters", setter("in_features", value=True), r"in_features must be a whole number"),
    ("in_features-vs-weights", "letters", setter("in_features", value=100), r"feature_mean \(354,\).*\(100,\)"),
    ("in_features-vs-layout", "words", setter("in_features", value=132), r"in_features 132.*pose-hands.*179"),
    ("preprocessing-not-a-dict", "words", setter("preprocessing", value=[1, 2]), r"preprocessing must be an object"),
    ("meta-not-a-dict", "letters", setter("meta", value="x"), r"meta must be an object"),
    ("length-string", "words", setter("preprocessing", "length", value="abc"), r"length"),
    ("length-zero", "words", setter("preprocessing", "length", value=0), r"length"),
    ("length-huge", "words", setter("preprocessing", "length", value=10**9), r"length"),
    ("length-missing", "words", deleter("preprocessing", "length"), r"length"),
    ("layout-list", "words", setter("preprocessing", "layout", value=["x"]), r"layout"),
    ("layout-unknown", "words", setter("preprocessing", "layout", value="tentacles"), r"layout 'tentacles'"),
    ("views-dict", "letters", setter("preprocessing", "views", value={"a": 1}), r"views"),
    ("views-three", "letters", setter("preprocessing", "views", value=3), r"views"),
    ("min_confidence-string", "words", setter("preprocessing", "min_confidence", value="high"), r"min_confidence"),
    ("second_view_below-list", "letters", setter("preprocessing", "second_view_below", value=[1]), r"second_view"),
    ("pose_optional-string", "words", setter("preprocessing", "pose_optional", value="yes"), r"pose_optional"),
    ("idle_label-list", "words", setter("preprocessing", "idle_label", value=["-"]), r"idle_label"),
    ("input-mismatch", "words", setter("preprocessing", "input", value="hand-landmarks"), r"reads sequence"),
    ("architecture-list", "letters", setter("architecture", value=["landmark-mlp"]), r"architecture must be a name"),
    ("format-version-newer", "letters", setter("format_version", value=999), r"format version 999; this aslkit reads"),
    ("format-version-text", "letters", setter("format_version", value="1"), r"format version '1'"),
]


def _drop(name: str) -> Callable[[dict], None]:
    return lambda t: t.pop(name)


def _one_inf(tensors: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """The weights with one value of one tensor made infinite."""
    bad = tensors[name].copy()
    bad.flat[7] = np.inf
    return {**tensors, name: bad}


TENSOR_CASES: list[tuple[str, str, Callable[[dict], Any], str]] = [
    ("missing-tensor", "words", _drop("stem.0.weight"), r"1 missing \(stem\.0\.weight\)"),
    ("missing-tensor-mlp", "letters", _drop("members.3.net.8.bias"), r"1 missing \(members\.3\.net\.8\.bias\)"),
    ("extra-tensor", "words", lambda t: t.update(extra=np.zeros(3, np.float32)), r"1 unexpected \(extra\)"),
    (
        "wrong-shape",
        "words",
        lambda t: t.update({"stem.0.weight": np.zeros((5, 5), np.float32)}),
        r"stem\.0\.weight \(5, 5\), expected \(192, 179\)",
    ),
    (
        "wrong-shape-mlp",
        "letters",
        lambda t: t.update({"members.0.net.0.weight": np.zeros((5, 5), np.float32)}),
        r"members\.0\.net\.0\.weight \(5, 5\), expected \(192, 354\)",
    ),
    ("int-dtype", "letters", lambda t: {k: v.astype(np.int32) for k, v in t.items()}, r"int32.*float"),
    ("bool-dtype", "words", lambda t: {k: v > 0 for k, v in t.items()}, r"bool.*float"),
    ("nan-weights", "letters", lambda t: {k: np.full_like(v, np.nan) for k, v in t.items()}, r"NaN or infinite"),
    ("one-inf", "words", lambda t: _one_inf(t, "stem.0.weight"), r"weight stem\.0\.weight holds NaN or infinite"),
]


def _check_one_line_model_error(run: Path, match: str) -> ModelError:
    with pytest.raises(ModelError, match=match) as info:
        load_model(run)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(("base", "change", "match"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_crafted_model_json_gives_one_model_error(tmp_path: Path, base: str, change, match: str) -> None:
    run = copy_model(base, tmp_path / "run")
    edit_json(run, change)
    _check_one_line_model_error(run, match)


@pytest.mark.parametrize(("base", "change", "match"), [c[1:] for c in TENSOR_CASES], ids=[c[0] for c in TENSOR_CASES])
def test_crafted_weights_give_one_model_error(tmp_path: Path, base: str, change, match: str) -> None:
    run = copy_model(base, tmp_path / "run")
    edit_tensors(run, change)
    _check_one_line_model_error(run, match)


@pytest.mark.parametrize("dtype", ["BF16", "I64", "BOOL", "U8"])
def test_weights_of_a_dtype_that_is_not_float(tmp_path: Path, dtype: str) -> None:
    run = copy_model("words", tmp_path / "run")
    size = {"BF16": 2, "I64": 8, "BOOL": 1, "U8": 1}[dtype]
    raw_safetensors(run / "model.safetensors", {"stem.0.weight": (dtype, [192, 179], b"\0" * (192 * 179 * size))})
    err = _check_one_line_model_error(run, "stem.0.weight")
    assert "float" in str(err)


def test_truncated_and_oversized_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = copy_model("words", tmp_path / "run")
    blob = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(blob[: len(blob) // 2])
    _check_one_line_model_error(run, "cannot read weights")
    (run / "model.safetensors").write_bytes(blob[:5])
    _check_one_line_model_error(run, "cannot read weights")
    (run / "model.safetensors").write_bytes(blob)
    monkeypatch.setattr(model_io, "MAX_WEIGHTS_BYTES", 1000)
    _check_one_line_model_error(run, r"too large .* at most 1000 bytes")


def test_weights_or_description_that_is_a_fifo_does_not_hang(tmp_path: Path, fifo: FifoWatch) -> None:
    run = copy_model("words", tmp_path / "run")
    (run / "model.safetensors").unlink()
    fifo(run / "model.safetensors")
    _check_one_line_model_error(run, r"cannot read weights \(is a FIFO")
    fifo_json = tmp_path / "pipe.json"
    fifo(fifo_json)
    with pytest.raises(ModelError):
        load_model(fifo_json)


def test_deeply_nested_json_is_a_model_error(tmp_path: Path) -> None:
    run = copy_model("words", tmp_path / "run")
    (run / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    _check_one_line_model_error(run, "cannot read model description")


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved mobilenetv2 (random weights, never trained): an image model with a ``pretrained`` option."""
    from aslkit.models import create_model
    from aslkit.models.io import TrainedModel
    from aslkit.training.image_fit import image_preprocessing_spec

    kw = {"image_size": 32, "dropout": 0.2, "pretrained": ""}
    module = create_model("mobilenetv2", 3, 4, **kw)
    model = TrainedModel.from_torch(
        module, "mobilenetv2", kw, ["A", "B", "C", "D"], 3, image_preprocessing_spec(32, "none")
    )
    out = tmp_path_factory.mktemp("image-run")
    model.save(out, "model")
    return out


def test_saved_pretrained_path_is_never_read(image_run: Path, tmp_path: Path, fifo: FifoWatch) -> None:
    """A model file cannot make aslkit read another file (here a FIFO, which would block) as "pretrained"
    weights: a saved model carries its own weights, so the option is only type-checked, never used."""
    run = tmp_path / "run"
    shutil.copytree(image_run, run)
    fifo(tmp_path / "pipe.pth")
    edit_json(run, setter("kwargs", "pretrained", value=str(tmp_path / "pipe.pth")))
    m = load_model(run)
    logits = m.logits(np.zeros((1, 3, 32, 32), np.float32))
    assert logits.shape == (1, 4) and np.isfinite(logits).all()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (setter("kwargs", "pretrained", value=5), r"option pretrained=5 .*string"),
        (setter("kwargs", "image_size", value=10**7), r"option image_size=10000000"),
        (setter("kwargs", "dropout", value=5.0), r"cannot build 'mobilenetv2'.*dropout"),
        (setter("in_features", value=4), r"3 channels"),
        (setter("preprocessing", "size", value="big"), r"size"),
        (setter("preprocessing", "size", value=True), r"size"),
        (setter("preprocessing", "size", value=10**6), r"size"),
        (deleter("preprocessing", "size"), r"size"),
        (setter("preprocessing", "crop", value=["hand"]), r"crop"),
        (setter("labels", value=["A", "B", "C"]), r"3 labels.*4 outputs"),
    ],
    ids=[
        "pretrained-int",
        "image_size-huge",
        "dropout-5",
        "in_features-4",
        "size-str",
        "size-bool",
        "size-huge",
        "size-missing",
        "crop-list",
        "too-few-labels",
    ],  # fmt: skip
)
def test_crafted_image_model(image_run: Path, tmp_path: Path, change, match: str) -> None:
    run = tmp_path / "run"
    shutil.copytree(image_run, run)
    edit_json(run, change)
    _check_one_line_model_error(run, match)


def test_shipped_models_still_load_and_predict() -> None:
    shipped = shipped_models()
    assert {"letters", "letters-motion", "words"} <= set(shipped)
    for name in shipped:
        m = load_model(name)
        assert m.labels and m.in_features > 0
        if m.preprocessing["input"] == "sequence":
            rec = SequenceRecognizer(m)
            width = 258 if m.preprocessing["layout"] == "pose-hands" else 126
            p = rec.predict_frames(np.random.default_rng(0).random((12, width)).astype(np.float32))
            assert p.label in m.labels and 0 <= p.confidence <= 1
        else:
            p = m.predict_proba(np.zeros((2, m.in_features), np.float32))
            assert p.shape == (2, len(m.labels)) and np.isfinite(p).all()


def test_model_trained_by_tests_still_loads(synthetic_model_dir: Path) -> None:
    m = load_model(synthetic_model_dir)
    assert m.architecture == "landmark-mlp-tiny" and len(m.labels) == 3
    assert m.predict_proba(np.zeros((1, m.in_features), np.float32)).shape == (1, 3)


def test_numpy_shape_check_agrees_with_the_torch_module() -> None:
    """landmark-mlp's torch-free shape function must name exactly the tensors its torch module holds."""
    import torch

    from aslkit.models.registry import get_model_info

    for name in ("landmark-mlp", "landmark-mlp-tiny"):
        info = get_model_info(name)
        for kw in ({}, {"depth": 0}, {"depth": 3, "members": 2, "hidden": 7}):
            kwargs = {**info.defaults, **kw}
            with torch.device("meta"):
                module = info.build(354, 29, **kwargs)
            want = {k: tuple(v.shape) for k, v in module.state_dict().items()}
            assert info.expected_shapes(354, 29, **kwargs) == want


def test_letters_model_loads_without_torch() -> None:
    """The landmark model's checks run in NumPy: `aslkit predict photo.jpg` keeps its ~1 s cold start."""
    code = (
        "import sys; from aslkit.models.io import load_model; m = load_model('letters'); "
        "import numpy as np; m.predict_proba(np.zeros((1, m.in_features), np.float32)); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# the CLI: crafted models exit 1 with one line, never 3


def _assert_one_line_error(rc: int, err: str, match: str) -> None:
    assert rc == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aslkit: error:"), err
    assert "unexpected error" not in err
    assert re.search(match, lines[0]), lines[0]


@pytest.mark.parametrize(("base", "change", "match"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_cli_predict_and_evaluate_with_crafted_model(tmp_path: Path, capsys, base: str, change, match: str) -> None:
    run = copy_model(base, tmp_path / "run")
    edit_json(run, change)
    clips = tmp_path / "clips"
    (clips / "hello").mkdir(parents=True)
    np.save(clips / "hello" / "t1.npy", np.random.default_rng(0).random((10, 258)).astype(np.float32))
    target = str(clips / "hello" / "t1.npy")
    capsys.readouterr()
    rc = main(["predict", target, "--model", str(run), "--no-cache"])
    _assert_one_line_error(rc, capsys.readouterr().err, match)
    rc = main(["evaluate", str(clips), "--model", str(run), "--no-cache"])
    _assert_one_line_error(rc, capsys.readouterr().err, match)


@pytest.mark.parametrize(("base", "change", "match"), [c[1:] for c in TENSOR_CASES], ids=[c[0] for c in TENSOR_CASES])
def test_cli_predict_with_crafted_weights(tmp_path: Path, capsys, base: str, change, match: str) -> None:
    run = copy_model(base, tmp_path / "run")
    edit_tensors(run, change)
    np.save(tmp_path / "c.npy", np.zeros((5, 258), np.float32))
    capsys.readouterr()
    rc = main(["predict", str(tmp_path / "c.npy"), "--model", str(run), "--no-cache"])
    _assert_one_line_error(rc, capsys.readouterr().err, match)


# ---------------------------------------------------------------------------------------------
# bad clips
# ---------------------------------------------------------------------------------------------
def _good_clip(rng: np.random.Generator, frames: int = 25, width: int = 258) -> np.ndarray:
    return rng.random((frames, width)).astype(np.float32)


def _write_bad_clip(folder: Path, kind: str, make_fifo: Callable[[Path], Any] | None = None) -> Path:
    """One broken clip of the given kind in folder; returns its path."""
    rng = np.random.default_rng(1)
    p = folder / f"{kind}.npy"
    if kind == "zero-length":
        np.save(p, np.zeros((0, 258), np.float32))
    elif kind == "zero-bytes":
        p.write_bytes(b"")
    elif kind == "truncated":
        np.save(p, _good_clip(rng))
        p.write_bytes(p.read_bytes()[:3000])
    elif kind == "truncated-header":
        np.save(p, _good_clip(rng))
        p.write_bytes(p.read_bytes()[:20])
    elif kind == "not-npy":
        p.write_text("not an array")
    elif kind == "object-dtype":
        # an object-array header, then bytes where its pickle would be: written without pickle, never unpickled
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (3, 2)})
        p.write_bytes(buf.getvalue() + b"\x80\x02N." * 6)
    elif kind == "str-dtype":
        np.save(p, np.array([["a"] * 258] * 3))
    elif kind == "numeric-str-dtype":
        np.save(p, np.array([["0.5"] * 258] * 3))
    elif kind == "complex-dtype":
        np.save(p, (rng.random((5, 258)) + 1j).astype(np.complex64))
    elif kind == "structured-dtype":
        np.save(p, np.zeros(5, dtype=[("x", "<f4"), ("y", "<f4")]))
    elif kind == "ndim-3":
        np.save(p, np.zeros((2, 5, 258), np.float32))
    elif kind == "ndim-1":
        np.save(p, np.zeros(258, np.float32))
    elif kind == "ndim-0":
        np.save(p, np.float32(3))
    elif kind == "width-7":
        np.save(p, np.zeros((30, 7), np.float32))
    elif kind == "fifo":
        (make_fifo or os.mkfifo)(p)
    elif kind == "giant-header":
        with open(p, "wb") as f:
            npformat.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 258)})
            f.write(b"\0" * 1000)
    else:
        raise AssertionError(kind)
    return p


BAD_CLIPS = {
    "zero-length": "no frames",
    "zero-bytes": "empty file",
    "truncated": "truncated",
    "truncated-header": "not a readable .npy",
    "not-npy": "not a readable .npy",
    "object-dtype": "object",
    "str-dtype": "numbers",
    "numeric-str-dtype": "numbers",
    "complex-dtype": "complex",
    "structured-dtype": "numbers",
    "ndim-3": r"\(T, F\)",
    "ndim-1": r"\(T, F\)",
    "ndim-0": r"\(T, F\)",
    "width-7": "no known layout",
    "fifo": "FIFO",
    "giant-header": "truncated",
}


@pytest.mark.parametrize("kind", sorted(BAD_CLIPS))
def test_bad_clip_gets_its_own_row_and_the_others_go_on(tmp_path: Path, capsys, kind: str, fifo: FifoWatch) -> None:
    rng = np.random.default_rng(0)
    good1, good2 = tmp_path / "good1.npy", tmp_path / "good2.npy"
    np.save(good1, _good_clip(rng))
    np.save(good2, _good_clip(rng, 40))
    bad = _write_bad_clip(tmp_path, kind, fifo)
    rc = main(["predict", str(good1), str(bad), str(good2), "--model", "words", "--no-cache", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "unexpected error" not in captured.err
    rows = {r["path"]: r for r in map(json.loads, captured.out.splitlines())}
    assert set(rows) == {str(good1), str(bad), str(good2)}
    words = load_model("words").labels
    for good in (good1, good2):
        assert rows[str(good)]["error"] is None and rows[str(good)]["label"] in words
    assert rows[str(bad)]["label"] is None
    assert re.search(BAD_CLIPS[kind], rows[str(bad)]["error"]), rows[str(bad)]["error"]
    assert "\n" not in rows[str(bad)]["error"]


def test_only_bad_clips_exit_1_with_every_row(tmp_path: Path, capsys) -> None:
    bad = [_write_bad_clip(tmp_path, k) for k in ("zero-length", "zero-bytes", "str-dtype")]
    rc = main(["predict", *map(str, bad), "--model", "words", "--no-cache"])
    captured = capsys.readouterr()
    assert rc == 1 and "none of the 3 file(s)" in captured.err and "unexpected error" not in captured.err
    assert len(captured.out.splitlines()) == 3 and all("\terror: " in line for line in captured.out.splitlines())


def test_unreadable_video_is_an_error_row(tmp_path: Path, capsys, fifo: FifoWatch) -> None:
    np.save(tmp_path / "good.npy", _good_clip(np.random.default_rng(0)))
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    fifo(tmp_path / "pipe.mp4")
    rc = main(["predict", str(tmp_path / "good.npy"), str(tmp_path / "bad.mp4"), str(tmp_path / "pipe.mp4"),
               "--model", "words", "--no-cache", "--json"])  # fmt: skip
    rows = {Path(r["path"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rc == 0
    assert rows["good.npy"]["error"] is None
    assert "bad.mp4" in rows["bad.mp4"]["error"] and rows["bad.mp4"]["label"] is None
    assert "FIFO" in rows["pipe.mp4"]["error"]


@pytest.mark.parametrize("kind", ["fifo-npy", "fifo-mp4"])
def test_recognizer_predict_checks_for_a_regular_file_first(tmp_path: Path, kind: str, fifo: FifoWatch) -> None:
    rec = SequenceRecognizer("words")
    p = tmp_path / ("x.npy" if kind == "fifo-npy" else "x.mp4")
    fifo(p)
    with pytest.raises(DatasetError, match="FIFO"):
        rec.predict(p)
    [row] = rec.predict_paths([p])
    assert row.label is None and "FIFO" in row.error


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (np.array([["a"] * 258] * 3), "numbers"),
        (np.ones((3, 258), complex), "complex"),
        (np.array([[None] * 258] * 3, dtype=object), "numbers"),
        (np.zeros((0, 258), np.float32), "no frames"),
        (np.zeros((3, 4, 258), np.float32), r"\(T, F\)"),
    ],
    ids=["str", "complex", "object", "zero-length", "ndim-3"],
)
def test_predict_frames_refuses_arrays_that_are_not_frames(frames: np.ndarray, match: str) -> None:
    rec = SequenceRecognizer("words")
    with pytest.raises(DatasetError, match=match):
        rec.predict_frames(frames)


def test_nan_inf_and_huge_frames_still_get_an_answer() -> None:
    """NaN/inf mark "not found" in some exports: those frames read as missing, the clip still gets an answer,
    and values beyond float32 neither warn nor turn the answer into NaN."""
    rec = SequenceRecognizer("words")
    rng = np.random.default_rng(0)
    clip = _good_clip(rng)
    clip[3], clip[4, :10], clip[5, 100:] = np.nan, np.inf, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for frames in (clip, np.full((10, 258), np.nan, np.float32), np.full((10, 258), 1e300), clip * 1e30):
            p = rec.predict_frames(frames)
            assert p.label in rec.labels and np.isfinite(p.confidence) and 0 <= p.confidence <= 1
            assert all(np.isfinite(c) for _, c in p.top)
    empty = rec.predict_frames(np.full((10, 258), np.nan, np.float32))
    assert empty.hand is False and empty.hand_frames == 0


def test_predict_paths_turns_unexpected_errors_into_rows_but_not_interrupts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = SequenceRecognizer("words")
    rng = np.random.default_rng(0)
    paths = [tmp_path / f"{i}.npy" for i in range(3)]
    for p in paths:
        np.save(p, _good_clip(rng))
    real = rec.predict

    def flaky(clip):
        if Path(clip).name == "1.npy":
            raise RuntimeError("something nobody expected")
        return real(clip)

    monkeypatch.setattr(rec, "predict", flaky)
    rows = rec.predict_paths(paths)
    assert [r.error is None for r in rows] == [True, False, True]
    assert "RuntimeError" in rows[1].error and "something nobody expected" in rows[1].error

    def interrupted(clip):
        raise KeyboardInterrupt

    monkeypatch.setattr(rec, "predict", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rec.predict_paths(paths)


# evaluate: a folder of <sign>/<take>.npy with bad takes
EVAL_BAD = ["zero-length", "zero-bytes", "truncated", "object-dtype", "str-dtype", "complex-dtype", "ndim-3",
            "width-7", "fifo", "giant-header", "folder-take"]  # fmt: skip


def _clip_folder(root: Path, bad: list[str], make_fifo: Callable[[Path], Any]) -> Path:
    rng = np.random.default_rng(0)
    for sign in ("hello", "water"):
        (root / sign).mkdir(parents=True, exist_ok=True)
        for t in range(2):
            np.save(root / sign / f"good{t}.npy", _good_clip(rng, 15 + t))
    for kind in bad:
        if kind == "folder-take":  # <sign>/<take>/<frame>.npy with a broken frame
            take = root / "water" / "take-of-frames"
            take.mkdir()
            np.save(take / "0.npy", rng.random(258).astype(np.float32))
            (take / "1.npy").write_bytes(b"")
        else:
            _write_bad_clip(root / "hello", kind, make_fifo)
    return root


@pytest.mark.parametrize("kind", EVAL_BAD)
def test_load_sequences_lists_a_bad_take_and_leaves_it_out(tmp_path: Path, kind: str, fifo: FifoWatch) -> None:
    s = load_sequences(_clip_folder(tmp_path / "clips", [kind], fifo))
    assert len(s) == 4 and sorted(set(s.labels)) == ["hello", "water"]
    assert len(s.errors) == 1 and "\n" not in s.errors[0][1]
    assert kind.split("-")[0] in s.errors[0][0] or "take-of-frames" in s.errors[0][0]


def test_evaluate_folder_with_bad_takes(tmp_path: Path, capsys, fifo: FifoWatch) -> None:
    data = _clip_folder(tmp_path / "clips", EVAL_BAD, fifo)
    rc = main(["evaluate", str(data), "--model", "words", "--no-cache", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    m = json.loads(captured.out)
    assert m["n"] == 4
    assert len(m["errors"]) == len(EVAL_BAD)
    assert all("\n" not in e for e in m["errors"])
    rc = main(["evaluate", str(data), "--model", "words", "--no-cache"])
    out = capsys.readouterr().out
    assert rc == 0 and f"unreadable files left out: {len(EVAL_BAD)}" in out


def test_evaluate_folder_of_only_bad_takes_is_one_error(tmp_path: Path, capsys, fifo: FifoWatch) -> None:
    root = tmp_path / "clips"
    (root / "hello").mkdir(parents=True)
    for kind in ("zero-length", "zero-bytes", "fifo"):
        _write_bad_clip(root / "hello", kind, fifo)
    rc = main(["evaluate", str(root), "--model", "words", "--no-cache"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("aslkit: error:") and "none of its 3" in err and "unexpected error" not in err


def _npz_with_giant_member(p: Path) -> None:
    import io
    import zipfile

    head = io.BytesIO()
    npformat.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 20, 258)})
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("sequences.npy", head.getvalue() + b"\0" * 100)
        buf = io.BytesIO()
        np.save(buf, np.array(["hello"] * 3))
        z.writestr("label.npy", buf.getvalue())


@pytest.mark.parametrize(
    ("kind", "match"),
    [("zero-bytes", "not landmark clips"), ("str-sequences", "must be numbers"), ("giant-member", "truncated")],
)
def test_evaluate_bad_npz_is_one_error(tmp_path: Path, capsys, kind: str, match: str) -> None:
    p = tmp_path / "clips.npz"
    if kind == "zero-bytes":
        p.write_bytes(b"")
    elif kind == "str-sequences":
        np.savez(p, sequences=np.full((3, 5, 258), "x"), label=np.array(["hello"] * 3))
    else:
        _npz_with_giant_member(p)
    rc = main(["evaluate", str(p), "--model", "words", "--no-cache"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("aslkit: error:") and "unexpected error" not in err, err
    assert match in err and len(err.strip().splitlines()) == 1


def test_a_model_path_that_is_there_but_not_a_model_says_what_it_is(tmp_path: Path) -> None:
    """A model.json that is a FIFO or a folder read "no model.json in this folder"; an existing notes.txt read
    "not found ... huggingface-cli download"."""
    from aslkit.models.io import load_model

    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "model.json")
    (tmp_path / "dir" / "model.json").mkdir(parents=True)
    (tmp_path / "mk").mkdir()
    (tmp_path / "mk" / "notes.txt").write_text("hello", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.json")
    for target, why in ((tmp_path / "fifo", "model.json: is a FIFO (named pipe), not a regular file"),
                        (tmp_path / "dir", "model.json: is a folder, not a file"),
                        (tmp_path / "mk" / "notes.txt", "notes.txt: not a model: give a run folder"),
                        (tmp_path / "pipe.json", "pipe.json: is a FIFO")):  # fmt: skip
        with pytest.raises(ModelError, match=re.escape(why)):
            load_model(target)
    with pytest.raises(ModelError, match="huggingface-cli download acme/asl"):  # not there: the hint stays
        load_model("acme/asl")
