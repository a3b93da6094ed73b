"""The command line: one JSON line per image, one error line per user mistake, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHIPPED_LETTERS, SYNTH_LABELS, link_subset, make_images, shared_dir, snapshot, write_grey

from aslkit import cli
from aslkit.models import list_models

JSON_KEYS = {"path", "label", "confidence", "top", "hand", "error"}


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, out: str, err: str, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aslkit: error: "), err
    assert "Traceback" not in out + err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def model_args(synthetic_model_dir: Path, tmp_path: Path) -> list[str]:
    return ["--model", str(synthetic_model_dir), "--cache-dir", str(tmp_path / "cache"), "--quiet"]


# ---- models ---------------------------------------------------------------------------------------
def test_models_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "models", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    names = [a["name"] for a in data["architectures"]]
    assert names == list_models() and "landmark-mlp" in names
    assert all(a["input"] == "hand-landmarks" for a in data["architectures"] if a["name"].startswith("landmark"))
    assert sum(t["default"] for t in data["trained"]) <= 1
    for t in data["trained"]:
        assert set(t) == {"name", "architecture", "classes", "default", "labels"}
        assert t["architecture"] in names and t["classes"] == len(t["labels"])


def test_models_json_lists_the_shipped_letters_model(capsys: pytest.CaptureFixture[str]) -> None:
    if not SHIPPED_LETTERS.is_file():
        pytest.skip("no shipped weights yet: src/aslkit/weights/letters.json is absent")
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    trained = {t["name"]: t for t in json.loads(out)["trained"]}
    assert trained["letters"]["default"] is True
    assert trained["letters"]["classes"] == len(trained["letters"]["labels"]) >= 26


def test_models_json_marks_the_default_shipped_model(
    capsys: pytest.CaptureFixture[str], synthetic_model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With a (stand-in) shipped "letters" model, `models` lists it as default and `predict` uses it."""
    from aslkit.models import io

    monkeypatch.setattr(
        io,
        "shipped_models",
        lambda: {"letters": synthetic_model_dir / "model.json", "other": synthetic_model_dir / "model.json"},
    )
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    trained = {t["name"]: t for t in json.loads(out)["trained"]}
    assert trained["letters"]["default"] is True and trained["other"]["default"] is False
    assert trained["letters"]["labels"] == sorted(SYNTH_LABELS) and trained["letters"]["classes"] == 3
    code, out, _ = run_cli(capsys, "models")
    assert "letters" in out and "(default)" in out
    grey = write_grey(tmp_path / "g.png")
    code, out, err = run_cli(capsys, "predict", grey, "--json", "--cache-dir", tmp_path / "c")  # no --model
    assert code == 0, err
    assert json.loads(out)["label"] == "Nothing"


def test_models_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    for name in list_models():
        assert name in out


def test_no_task_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys)
    assert code == 2 and "predict" in out and "train" in out


# ---- predict ----------------------------------------------------------------------------------------
def test_predict_json_mixed_batch(capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str]) -> None:
    folder = tmp_path / "user photos"
    files = make_images(folder)
    grey = write_grey(folder / "grey.jpg")
    bad = {"zero_byte", "text_as_jpg", "truncated_jpeg", "one_pixel", "huge_header", "over_max_pixels"}
    before = snapshot(folder)
    code, out, err = run_cli(capsys, "predict", folder, "--json", *model_args)
    assert code == 0, err
    assert "Traceback" not in out + err
    rows = [json.loads(line) for line in out.splitlines()]
    by_path = {Path(r["path"]).name: r for r in rows}
    assert len(rows) == len(files) + 1 == len(by_path)
    for r in rows:
        assert set(r) == JSON_KEYS
    for kind, path in files.items():
        r = by_path[path.name]
        if kind in bad:
            assert r["error"] and r["label"] is None and r["hand"] is False, (kind, r)
            assert "\n" not in r["error"]
        else:  # alpha PNG, grayscale, 16-bit and palette images are readable
            assert r["error"] is None and r["label"] == "Nothing", (kind, r)
    g = by_path[grey.name]
    assert g["label"] == "Nothing" and g["hand"] is False and g["error"] is None and g["top"] == [["Nothing", 1.0]]
    assert snapshot(folder) == before, "nothing written or changed in the user's folder"
    assert (tmp_path / "cache" / "landmarks.sqlite").is_file(), "the cache goes to --cache-dir"


def test_predict_text_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str], bad_files: dict[str, Path]
) -> None:
    grey = write_grey(tmp_path / "grey.png")
    code, out, _ = run_cli(capsys, "predict", grey, bad_files["zero_byte"], *model_args)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{grey}\tNothing\t1.000\t(no hand found)"
    assert lines[1].startswith(f"{bad_files['zero_byte']}\terror: ") and "empty file" in lines[1]


def test_predict_no_readable_file(
    capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], model_args: list[str]
) -> None:
    folder = bad_files["zero_byte"].parent
    before = snapshot(folder)
    code, out, err = run_cli(capsys, "predict", folder, "--json", *model_args)
    assert_one_error_line(code, out, err, f"none of the {len(bad_files)} file(s)")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(bad_files) and all(r["error"] for r in rows), "each file still gets its line"
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    "kind", ["zero_byte", "text_as_jpg", "truncated_jpeg", "one_pixel", "huge_header", "over_max_pixels"]
)
def test_predict_single_bad_file(
    capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], model_args: list[str], kind: str
) -> None:
    code, out, err = run_cli(capsys, "predict", bad_files[kind], *model_args)
    assert_one_error_line(code, out, err, "could be read")
    assert bad_files[kind].name in out, "the text line names the file and its problem"


@pytest.mark.parametrize("which", ["missing", "empty-folder", "folder-without-images"])
def test_predict_bad_paths(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str], which: str
) -> None:
    target = tmp_path / "target"
    if which != "missing":
        target.mkdir()
    if which == "folder-without-images":
        (target / "notes.txt").write_text("hi")
    before = snapshot(tmp_path)
    code, out, err = run_cli(capsys, "predict", target, *model_args)
    assert_one_error_line(code, out, err, "could be read")
    assert str(target) in out and "error:" in out, "the path gets its own error entry"
    assert snapshot(tmp_path) == before, "nothing created, not even the cache"


def test_predict_unknown_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    grey = write_grey(tmp_path / "grey.png")
    code, out, err = run_cli(capsys, "predict", grey, "--model", "no-such-model", "--cache-dir", tmp_path / "c")
    assert_one_error_line(code, out, err, "'no-such-model' not found")


def test_key_value_naming_an_existing_file_stays_a_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_grey(tmp_path / "shot=1.png")
    code, out, err = run_cli(capsys, "predict", "shot=1.png", "--json", *model_args)
    assert code == 0, err
    assert json.loads(out)["path"] == "shot=1.png"


def test_predict_top_k_and_key_value_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, synthetic_model_dir: Path
) -> None:
    f = sorted((shared_dir("asl-alphabet-photos") / "L").glob("*.jpg"))[0]
    code, out, err = run_cli(
        capsys,
        "predict",
        f,
        "--json",
        f"model={synthetic_model_dir}",
        "top_k=2",
        f"cache_dir={tmp_path / 'kv-cache'}",
        "-q",
    )
    assert code == 0, err
    r = json.loads(out)
    assert r["hand"] is True and r["label"] in SYNTH_LABELS and len(r["top"]) == 2
    assert r["top"][0] == [r["label"], r["confidence"]]
    assert (tmp_path / "kv-cache" / "landmarks.sqlite").is_file()


# ---- evaluate: bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["missing", "empty-folder", "no-class-folders"])
def test_evaluate_bad_data_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str], which: str
) -> None:
    data = tmp_path / "data"
    if which != "missing":
        data.mkdir()
    if which == "no-class-folders":
        write_grey(data / "a.jpg")
        write_grey(data / "b.jpg")
    before = snapshot(tmp_path) if which != "missing" else None
    code, out, err = run_cli(capsys, "evaluate", data, *model_args)
    assert_one_error_line(code, out, err, str(data))
    if which == "no-class-folders":
        assert "loose images" in err
    if before is not None:
        assert snapshot(tmp_path) == before


def test_evaluate_unknown_classes_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_args: list[str]
) -> None:
    (tmp_path / "data" / "hello").mkdir(parents=True)
    write_grey(tmp_path / "data" / "hello" / "1.jpg", 64)
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "data", *model_args)
    assert_one_error_line(code, out, err, "none of its classes", "hello")


# ---- train: options ---------------------------------------------------------------------------------
@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    for lab in ("A", "B"):
        (tmp_path / "data" / lab).mkdir(parents=True)
        write_grey(tmp_path / "data" / lab / "x.png", 32)
    return tmp_path / "data"


@pytest.fixture
def fake_train(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """Replace the real training with a recorder; the CLI's parsing and typing is what is tested."""
    from aslkit.training import trainer
    from aslkit.training.trainer import TrainResult

    seen: dict = {}

    def fake(data, out, model=None, cache_dir="default", progress=True, command=None, resume=None, **overrides):
        seen.update(data=data, out=out, model=model, cache_dir=cache_dir, overrides=overrides, command=command)
        seen["cfg"] = trainer.TrainConfig.from_defaults(model=model, **overrides)  # what the real train() types
        split = {"accuracy": 0.5, "accuracy_detected": 0.75, "macro_f1": 0.4}
        return TrainResult(Path(out), None, {"valid": split, "train_seconds": 1.0, "best_epoch": 2})

    monkeypatch.setattr(trainer, "train", fake)
    return seen


def test_train_key_value_syntax(
    capsys: pytest.CaptureFixture[str], tiny_data: Path, tmp_path: Path, fake_train: dict
) -> None:
    code, out, err = run_cli(
        capsys,
        "train",
        tiny_data,
        f"out={tmp_path / 'run'}",
        "model=landmark-mlp-tiny",
        "epochs=2",
        "lr=0.01",
        "class_weights=false",
        "mirror_p=0",
        "split=0.8,0.2",
        "--batch-size",
        "16",
        'model_kwargs={"hidden": 32}',
        "--cache-dir",
        tmp_path / "c",
    )
    assert code == 0, err
    assert fake_train["model"] == "landmark-mlp-tiny" and fake_train["out"] == str(tmp_path / "run")
    assert fake_train["data"] == [str(tiny_data)] and fake_train["cache_dir"] == str(tmp_path / "c")
    cfg = fake_train["cfg"]
    assert (cfg.epochs, cfg.lr, cfg.class_weights, cfg.augment.mirror_p, cfg.split, cfg.batch_size) == (
        2,
        0.01,
        False,
        0.0,
        "0.8,0.2",
        16,
    )
    assert cfg.model_kwargs == {"hidden": 32} and type(cfg.epochs) is int
    assert "valid end-to-end accuracy: 50.00%" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["foo=1"], "unknown training option --foo"),
        (["--foo", "1"], "unknown training option --foo"),
        (["epochs=abc"], "cannot use 'abc' as int"),
        (["--epochs"], "option --epochs has no value"),
        (["stray"], "unexpected argument 'stray'"),
    ],
)
def test_train_bad_options(
    capsys: pytest.CaptureFixture[str], tiny_data: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    before = snapshot(tiny_data)
    code, out, err = run_cli(
        capsys, "train", tiny_data, "--out", tmp_path / "run", "--cache-dir", tmp_path / "c", *args
    )
    assert_one_error_line(code, out, err, needle)
    assert not (tmp_path / "run").exists() and not (tmp_path / "c").exists()
    assert snapshot(tiny_data) == before


def test_train_unknown_model(capsys: pytest.CaptureFixture[str], tiny_data: Path, tmp_path: Path) -> None:
    code, out, err = run_cli(
        capsys, "train", tiny_data, "--out", tmp_path / "run", "model=resnet-xl", "--cache-dir", tmp_path / "c"
    )
    assert_one_error_line(code, out, err, "unknown model architecture 'resnet-xl'", "landmark-mlp")
    assert not (tmp_path / "run").exists()


def test_train_cv_requires_out(tiny_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Plain train numbers its own folder without --out (test_conventions.py); --cv still takes one."""
    code, out, err = run_cli(capsys, "train", tiny_data, "--cv", "signer")
    assert_one_error_line(code, out, err, "--out")


def test_unrecognized_argument_for_predict(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["predict", str(write_grey(tmp_path / "g.png")), "--bogus"])
    assert info.value.code == 2
    assert "unrecognized arguments: --bogus (see `aslkit predict --help`)" in capsys.readouterr().err, "the task's help"


def test_train_real_run_with_key_value(capsys: pytest.CaptureFixture[str], tmp_path: Path, real_cache: Path) -> None:
    data = link_subset(tmp_path / "photos", shared_dir("asl-alphabet-photos"), {"B": "B", "L": "L", "V": "V"}, 8)
    before = snapshot(data)
    run = tmp_path / "run"
    code, out, err = run_cli(
        capsys, "train", data, f"out={run}", "model=landmark-mlp-tiny", "epochs=2", f"cache_dir={real_cache}", "-q"
    )
    assert code == 0, err
    assert f"run folder: {run}" in out
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["epochs"] == 2 and cfg["train"]["model"] == "landmark-mlp-tiny"
    assert cfg["command"].startswith("aslkit ")
    assert len(json.loads((run / "history.json").read_text())) == 2
    assert (run / "model.safetensors").is_file()
    assert snapshot(data) == before
    # a second train into the same folder is refused, and the model is left as it was
    model_before = snapshot(run)
    code, out, err = run_cli(
        capsys, "train", data, f"out={run}", "model=landmark-mlp-tiny", "epochs=2", f"cache_dir={real_cache}", "-q"
    )
    assert_one_error_line(code, out, err, "already holds a trained model")
    assert snapshot(run) == model_before


# ---- through a real process ---------------------------------------------------------------------------
def _aslkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aslkit", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_subprocess_bad_input_is_one_line(tmp_path: Path, synthetic_model_dir: Path) -> None:
    bad = make_images(tmp_path / "in")["truncated_jpeg"]
    before = snapshot(tmp_path / "in")
    p = _aslkit("predict", bad, "--json", "--model", synthetic_model_dir, "--cache-dir", tmp_path / "c", cwd=tmp_path)
    assert p.returncode == 1
    assert "Traceback" not in p.stdout + p.stderr
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and p.stderr.startswith("aslkit: error: ")
    row = json.loads(p.stdout)
    assert set(row) == JSON_KEYS and "truncated" in row["error"]
    assert snapshot(tmp_path / "in") == before

    p = _aslkit("evaluate", tmp_path / "nowhere", "--model", synthetic_model_dir, cwd=tmp_path)
    assert p.returncode == 1 and "Traceback" not in p.stdout + p.stderr
    assert p.stderr.startswith("aslkit: error: ") and len(p.stderr.strip().splitlines()) == 1


def test_subprocess_models_json(tmp_path: Path) -> None:
    p = _aslkit("models", "--json", cwd=tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert [a["name"] for a in json.loads(p.stdout)["architectures"]] == list_models()


# ---- the CLI itself ---------------------------------------------------------------------------------------------
def test_every_task_has_a_command() -> None:
    """Each task the parser declares runs a command, and no command is left without its task."""
    import argparse

    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(cli.COMMANDS)
    assert {"predict", "train", "models", "serve"} <= set(cli.COMMANDS)


def test_cli_stays_thin() -> None:
    """cli.py parses, calls the API, prints and maps errors (issue 18): declarations live in cli_parser."""
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert len(source.splitlines()) < 400
    assert "add_argument" not in source and "add_parser" not in source
