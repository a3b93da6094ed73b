"""The small conventions users of Ultralytics and other CLIs expect (issue 20, item 8): ``aslkit --version``,
``aslkit completion bash|zsh``, ``cfg=FILE.toml``, auto-numbered run folders (runs/train/exp, exp2, ...) and a
Dockerfile for ``aslkit serve``."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import write_grey

from aslkit import cli
from aslkit.cli_parser import CFG_SECTIONS, SHELLS, build_parser, kv_to_flags, parse_command_line
from aslkit.config import load_defaults
from aslkit.errors import AslkitError
from aslkit.outputs import claim_numbered_folder, remove_if_empty

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("aslkit: error: "), (code, err)
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def parse(*argv: str | Path):
    return parse_command_line(build_parser(), kv_to_flags([str(a) for a in argv]))


# ---- --version -----------------------------------------------------------------------------------------------------
def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"aslkit {version('aslkit')}\n"


def test_version_through_a_real_process(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "aslkit", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == f"aslkit {version('aslkit')}" and p.stderr == ""


# ---- completion ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bash_script() -> str:
    from aslkit.cli_parser import completion_script

    return completion_script("bash")


def test_completion_prints_the_script(capsys: pytest.CaptureFixture[str], bash_script: str) -> None:
    code, out, err = run_cli(capsys, "completion", "bash")
    assert code == 0 and err == "" and out == bash_script


def test_bash_completion_names_every_task_and_option(bash_script: str) -> None:
    tasks = re.search(r"^_shtab_aslkit_subparsers=\((.*)\)$", bash_script, re.M)
    assert tasks and set(tasks.group(1).split()) == set(cli.COMMANDS)
    for option in ("--model", "--out", "--cfg", "--json", "--top-k", "--record-dir", "--version"):
        assert option in bash_script, option


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_accepts_and_runs_the_script(tmp_path: Path, bash_script: str) -> None:
    script = tmp_path / "aslkit.bash"
    script.write_text(bash_script, encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    (tmp_path / "photo.jpg").write_bytes(b"")

    def complete(line: str) -> list[str]:
        words = shlex.split(line) + ([""] if line.endswith(" ") else [])
        probe = (
            f"source {shlex.quote(str(script))}; COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
            f"COMP_CWORD={len(words) - 1}; _shtab_aslkit; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
        p = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=30)
        assert p.returncode == 0, p.stderr
        return sorted(w for w in p.stdout.splitlines() if w)

    assert complete("aslkit tra") == ["train", "transcribe"]
    assert complete("aslkit predict --mo") == ["--model"]
    assert complete("aslkit completion ") == sorted(SHELLS)
    assert complete("aslkit predict --backend ") == ["onnx", "torch"]
    assert complete("aslkit predict pho") == ["photo.jpg"], "paths complete as file names"
    assert complete("aslkit train --cfg pho") == ["photo.jpg"]
    # models by name (shipped, registered) or a run folder; the settings --help lists, as options
    assert complete("aslkit predict --model wo") == ["words"]
    assert {"letters", "seq-tcn", "landmark-mlp"} <= set(complete("aslkit train --model "))
    assert complete("aslkit live --motion-model letters-m") == ["letters-motion"]
    assert complete("aslkit train --model pho") == ["photo.jpg"]
    assert complete("aslkit train --epo") == ["--epochs"]
    assert complete("aslkit live --lm-w") == ["--lm-weight"]
    assert complete("aslkit transcribe --decoder ") == ["hold", "spelling"]
    assert complete("aslkit live --backend ") == ["onnx", "torch"]


def test_help_lists_the_settings_a_task_takes_beyond_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    """train --help named only its declared options; --epochs, --lr and the augmentation keys were nowhere."""
    from aslkit.config import load_defaults

    for task, sections in (("train", ("train", "augment", "image_augment")), ("live", ("live",))):
        with pytest.raises(SystemExit):
            cli.main([task, "--help"])
        out = capsys.readouterr().out
        epilog = out[out.index("settings of defaults.toml") :]
        for section in sections:
            for key, value in load_defaults()[section].items():
                if f"--{key.replace('_', '-')} " not in out.split("settings of defaults.toml")[0]:
                    shown = str(value).lower() if isinstance(value, bool) else str(value) or "''"
                    assert f"{key}={shown}" in epilog.replace("\n", " "), key
    with pytest.raises(SystemExit):  # transcribe declares the [live] keys: each says its default
        cli.main(["transcribe", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--lm-weight V default 1.0" in out and "--decoder {spelling,hold} default spelling" in out
    assert "--word-model V default ''" in out


def test_zsh_completion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "completion", "zsh")
    assert code == 0 and out.startswith("#compdef aslkit")
    assert all(task in out for task in cli.COMMANDS) and "--model" in out
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n"], input=out, text=True).returncode == 0


def test_completion_for_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["completion", "fish"])
    assert info.value.code == 2
    one_error_line(2, capsys.readouterr().err, "invalid choice: 'fish'")


# ---- key=value for every option ------------------------------------------------------------------------------------
def test_key_value_reaches_switches_and_finetune(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Switches take true or false, ``finetune=NAME`` starts from NAME, and a key=value is never read as DATA."""
    assert parse("predict", "x.jpg", "json=true", "top_k=3").json is True
    assert parse("predict", "x.jpg", "json=false").json is False
    assert parse("predict", "x.jpg", "json=yes", "quiet=on").quiet is True
    args = parse("train", "data", "finetune=letters", "epochs=2")
    assert (args.finetune, args.model, args.data, args.overrides) == (True, "letters", ["data"], {"epochs": "2"})
    assert parse("train", "data", "out=runs/x").out == "runs/x"
    after = parse("predict", "--json", "--", "json=true.jpg", "json=false.jpg")  # paths as typed after --
    assert after.json is True and after.paths == ["json=true.jpg", "json=false.jpg"]
    code, _, err = run_cli(capsys, "train", "epochs=2")  # DATA forgotten: said so, not "--epochs has no value"
    one_error_line(code, err, "no training data given")
    with pytest.raises(SystemExit) as usage:
        cli.main(["predict", str(tmp_path), "json=maybe"])
    assert usage.value.code == 2 and "ignored explicit argument 'maybe'" in capsys.readouterr().err


# ---- cfg=FILE.toml -------------------------------------------------------------------------------------------------
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_goes_under_the_command_line(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "my.toml",
        "[train]\nmodel = 'landmark-mlp-tiny'\nepochs = 7\nlr = 0.01\nworkers = 2\nclass_weights = false\n"
        "[augment]\nmirror_p = 0.0\n[image_augment]\nflip_p = 0.25\n[live]\nhold_s = 9.0\n",
    )
    args = parse("train", "data", f"cfg={cfg}")
    assert (args.model, args.workers) == ("landmark-mlp-tiny", 2), "declared options: typed by argparse"
    assert args.overrides == {"epochs": 7, "lr": 0.01, "class_weights": False, "mirror_p": 0.0, "flip_p": 0.25}
    assert "hold_s" not in args.overrides, "a section train does not read is left alone"
    # the command line wins, as key=value and as --key value, before or after cfg=
    args = parse("train", "data", "epochs=3", f"cfg={cfg}", "--model", "seq-tcn", "--workers", "1", "--lr", "0.5")
    assert (args.model, args.workers) == ("seq-tcn", 1)
    assert args.overrides["epochs"] == "3" and args.overrides["lr"] == "0.5" and args.overrides["mirror_p"] == 0.0


def test_settings_file_reaches_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through cli.main: the file's settings are typed by TrainConfig like any others."""
    from aslkit.config import TrainConfig
    from aslkit.training import trainer
    from aslkit.training.trainer import TrainResult

    seen = {}

    def fake(data, out, model=None, cache_dir="default", progress=True, command=None, resume=None, **overrides):
        seen["cfg"] = TrainConfig.from_defaults(model=model, **overrides)
        split = {"accuracy": 0.5, "accuracy_detected": 0.5, "macro_f1": 0.5}
        return TrainResult(Path(out), None, {"valid": split, "train_seconds": 1.0, "best_epoch": 1})

    monkeypatch.setattr(trainer, "train", fake)
    cfg = write(tmp_path / "my.toml", "[train]\nepochs = 7\nsplit = '0.8,0.2'\n[augment]\nrotate_deg = 5\n")
    code, _, err = run_cli(capsys, "train", tmp_path, "--out", tmp_path / "run", f"cfg={cfg}", "split=0.5,0.5")
    assert code == 0, err
    c = seen["cfg"]
    assert (c.epochs, c.split, c.augment.rotate_deg) == (7, "0.5,0.5", 5.0) and type(c.augment.rotate_deg) is float


def test_settings_file_for_other_tasks(tmp_path: Path) -> None:
    cfg = write(tmp_path / "s.toml", "[predict]\ntop_k = 2\n[live]\nword_gap_s = 2.5\nlandmark_retry = false\n")
    assert parse("predict", "x.jpg", f"cfg={cfg}").top_k == 2
    assert parse("predict", "x.jpg", f"cfg={cfg}", "--top-k", "4").top_k == 4
    t = parse("transcribe", "v.mp4", f"cfg={cfg}")  # declared live options: strings, typed by LiveConfig
    assert t.overrides == {"word_gap_s": "2.5", "landmark_retry": "false"}
    assert parse("transcribe", "v.mp4", f"cfg={cfg}", "word_gap_s=1").overrides["word_gap_s"] == "1"
    live = parse("live", f"cfg={cfg}", "--landmark-retry", "true")
    assert live.overrides == {"word_gap_s": 2.5, "landmark_retry": "true"}
    from aslkit.config import LiveConfig

    assert LiveConfig.from_defaults(**live.overrides).word_gap_s == 2.5


@pytest.mark.parametrize("task", sorted(CFG_SECTIONS))
def test_the_shipped_defaults_are_a_valid_settings_file(task: str) -> None:
    defaults = ROOT / "src" / "aslkit" / "defaults.toml"
    paths = {"predict": ["x.jpg"], "train": ["d"], "augment": ["d", "--preview", "p.png"], "transcribe": ["v.mp4"]}
    args = parse(task, *paths.get(task, ["d"] if task in ("evaluate", "evaluate-spelling") else []), f"cfg={defaults}")
    assert args.task == task


def test_sections_do_not_share_a_key() -> None:
    """A task reads several sections as one set of options: no key may mean two things."""
    d = load_defaults()
    for task, sections in CFG_SECTIONS.items():
        keys = [k for s in sections for k in d[s]]
        assert len(keys) == len(set(keys)), task


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (None, ["no such file"]),
        ("[train]\nepoch = 3\n", ["[train] epoch is not a setting", "did you mean epochs?"]),
        ("[trian]\nepochs = 3\n", ["unknown section [trian]", "[train]"]),
        ("epochs = 3\n", ["epochs is outside any [section]"]),
        ("[train]\nepochs = '3'\n", ["[train] epochs = '3': expected a whole number"]),
        ("[train]\nlr = true\n", ["[train] lr = True: expected a number"]),
        ("[train]\nmodel = 5\n", ["[train] model = 5: expected a quoted string"]),
        ("[train]\nepochs = [1, 2]\n", ["expected a whole number"]),
        ("[train\nepochs = 3\n", ["not valid TOML", "line 1"]),
        (b"\xff\xfe[train]\n", ["not UTF-8 text"]),
        ("[train]\nepochs = 0\n", ["--epochs 0: must be between 1 and"]),
        ("[live]\nbogus = 1\n", ["[live] bogus is not a setting"]),  # checked even where train does not read it
        ("#" * (1 << 20) + "\n", ["larger than 1 MB"]),
    ],
)
def test_bad_settings_file_is_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str | bytes | None,
    needles: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "bad.toml"
    if isinstance(text, bytes):
        cfg.write_bytes(text)
    elif text is not None:
        write(cfg, text)
    (tmp_path / "data").mkdir()
    code, out, err = run_cli(capsys, "train", "data", f"cfg={cfg}")
    one_error_line(code, err, *needles)
    assert code == 1 and out == "" and not (tmp_path / "runs").exists()


def test_settings_file_that_is_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "train", "data", "--out", tmp_path / "run", "--cfg", tmp_path)
    one_error_line(code, err, "is a folder, not a file")


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="no FIFOs or /dev/zero")
def test_settings_file_that_never_ends_is_refused_unread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A FIFO blocked forever, and a link to /dev/zero was read whole until the kernel killed the process."""
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    for cfg, why in (("pipe.toml", "is a FIFO (named pipe), not a regular file"), ("zero.toml", "is a device")):
        code, _, err = run_cli(capsys, "predict", "x.jpg", f"cfg={tmp_path / cfg}")
        one_error_line(code, err, f"{cfg}: {why}")


def test_cfg_on_a_task_without_settings_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = write(tmp_path / "s.toml", "[train]\nepochs = 3\n")
    with pytest.raises(SystemExit) as info:
        cli.main(["detect", str(tmp_path), f"cfg={cfg}"])
    assert info.value.code == 2
    one_error_line(2, capsys.readouterr().err, "unrecognized arguments: --cfg")


# ---- runs/train/exp, exp2, ... -------------------------------------------------------------------------------------
def test_numbered_folders_never_reuse_anything(tmp_path: Path) -> None:
    parent = tmp_path / "runs" / "train"
    assert claim_numbered_folder(parent) == parent / "exp"
    (parent / "exp2").write_text("a file, not ours")
    assert claim_numbered_folder(parent) == parent / "exp3"
    (parent / "exp").rmdir()
    assert claim_numbered_folder(parent) == parent / "exp", "a free number is reused, like Ultralytics"
    assert (parent / "exp2").read_text() == "a file, not ours"
    remove_if_empty(parent / "exp3")
    (parent / "exp").joinpath("keep").write_text("x")
    remove_if_empty(parent / "exp")
    assert sorted(p.name for p in parent.iterdir()) == ["exp", "exp2"]


def test_numbered_folders_are_race_safe(tmp_path: Path) -> None:
    got: list[Path] = []
    start = threading.Barrier(12)

    def claim() -> None:
        start.wait()
        got.append(claim_numbered_folder(tmp_path / "runs" / "train"))

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 12 and {p.name for p in got} == {"exp", *(f"exp{k}" for k in range(2, 13))}


def test_numbered_folder_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(AslkitError, match="cannot create runs/train|cannot create .*runs"):
        claim_numbered_folder(tmp_path / "runs" / "train")


def test_train_without_out_numbers_its_run_folders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_sequence_training import _synthetic_npz

    data = _synthetic_npz(tmp_path / "clips.npz", per_class=2)
    monkeypatch.chdir(tmp_path)
    args = ("train", data, "model=seq-tcn", "epochs=1", "split=0.5,0.5", "-q")
    for name in ("exp", "exp2"):
        code, out, err = run_cli(capsys, *args)
        assert code == 0, err
        assert f"run folder: {Path('runs', 'train', name)}" in out
        assert (tmp_path / "runs" / "train" / name / "model.json").is_file()
    config = json.loads((tmp_path / "runs" / "train" / "exp" / "config.json").read_text())
    assert config["train"]["epochs"] == 1


def test_train_without_out_that_cannot_start_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", "nowhere", "-q")  # the data is read after the folder is claimed
    one_error_line(code, err, "nowhere")
    code, _, err = run_cli(capsys, "train", "nowhere", "epochs=0")  # a bad option: nothing is claimed at all
    one_error_line(code, err, "--epochs 0")
    code, _, err = run_cli(capsys, "train", "-q")  # no data at all
    one_error_line(code, err, "no training data")
    assert not list(tmp_path.glob("runs/train/exp*"))
    # the data folder holding the default runs/ folder: refused, and the folder claimed for it given back
    (tmp_path / "A").mkdir()
    write_grey(tmp_path / "A" / "x.png", 32)
    code, _, err = run_cli(capsys, "train", ".", "-q")
    one_error_line(code, err, "inside the training data")
    assert not list(tmp_path.glob("runs/train/exp*"))


# ---- Dockerfile ----------------------------------------------------------------------------------------------------
INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG",
    "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile: comments dropped, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical, out = "", []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        word, _, rest = logical.strip().partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
        logical = ""
    assert not logical, "the Dockerfile ends inside a continued line"
    return out


def _readme_install() -> str:
    """The README's install command, found the way .ci/run finds it (the line after <!-- ci:install -->)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "<!-- ci:install -->" in line)
    return next(line for line in lines[at + 1 :] if line.strip() and not line.startswith(("`", "<")))


def test_dockerfile_parses_and_runs_serve_on_every_interface() -> None:
    steps = dockerfile()
    assert all(word in INSTRUCTIONS for word, _ in steps), steps
    assert steps[0] == ("FROM", "python:3.11-slim")
    entry = [json.loads(a) for w, a in steps if w == "ENTRYPOINT"]
    cmd = [json.loads(a) for w, a in steps if w == "CMD"]
    assert len(entry) == 1 and len(cmd) == 1, "one ENTRYPOINT and one CMD, both in exec form (JSON)"
    argv = entry[0] + cmd[0]
    assert argv[0] == "aslkit"
    args = parse(*argv[1:])
    assert (args.task, args.host) == ("serve", "0.0.0.0")
    exposed = [a for w, a in steps if w == "EXPOSE"]
    assert exposed == [str(args.port)] == ["7860"]
    assert any(w == "USER" and a != "root" for w, a in steps), "the server does not run as root"


def test_dockerfile_installs_what_the_readme_installs() -> None:
    import tomllib

    runs = " ".join(a for w, a in dockerfile() if w == "RUN")
    readme = _readme_install()
    assert re.search(r"pip install -e \"?\.\[test\]\"?", readme), readme  # the README installs this project...
    assert re.search(r"pip install /tmp/aslkit-src(?: |$)", runs), "...and so does the image (not editable, no tests)"
    copied = " ".join(a for w, a in dockerfile() if w == "COPY")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for needed in ("pyproject.toml", project["readme"], "src"):
        assert needed in copied.split(), f"the build needs {needed}"
    torch = next(r for r in project["dependencies"] if r.startswith("torch=="))
    assert f"{torch}+cpu" in runs, "the image's torch is pyproject's pin, the CPU build"
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs
    assert "pip check" in runs
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    libs = set(re.findall(r"need\+=\(([\w.+-]+)\)", ci)) - {"chromium"}  # the browser is for the tests only
    assert libs and all(lib in runs.split() for lib in libs), f"the libraries .ci/run installs: {sorted(libs)}"


def test_dockerfile_runs_offline() -> None:
    env = " ".join(a for w, a in dockerfile() if w == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "GRADIO_ANALYTICS_ENABLED=False" in env
    health = next(a for w, a in dockerfile() if w == "HEALTHCHECK")
    assert "http://127.0.0.1:7860/v1/health" in health


def test_dockerignore_keeps_the_context_to_what_the_build_copies() -> None:
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r and not r.startswith("#")]
    assert rules[0] == "*" and {"!pyproject.toml", "!README.md", "!src/"} <= set(rules)


def test_sigterm_unwinds_like_ctrl_c_and_the_old_handler_comes_back(capsys: pytest.CaptureFixture[str]) -> None:
    """Docker and systemd stop with SIGTERM: a live run must keep its transcript as with Ctrl-C."""
    import os
    import signal

    before = signal.getsignal(signal.SIGTERM)
    old = cli._term_as_interrupt()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, old)
    assert old is before
    cli.main(["models", "--json"])
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before, "main puts the caller's handler back"


# ---- values the settings refuse before any folder is made ----------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("seed=-1", "--seed -1: must be between 0 and 4294967295"),
        ("seed=99999999999999999999999", "must be between 0 and 4294967295"),
        ("class_weights=maybe", "--class-weights: cannot use 'maybe' as true or false"),
        ("class_weights=", "cannot use '' as true or false"),
        ("model_kwargs=[1]", "--model-kwargs: must be an object of options, got a list"),
        ("model_kwargs=null", "--model-kwargs: must be an object of options, got null"),
        ('model_kwargs={"members": 0}', "option members=0 of 'landmark-mlp': must be between 1 and"),
        ('model_kwargs={"dropout": "x"}', "option dropout='x'"),
        ('model_kwargs={"hidden": 1000000000}', "option hidden=1000000000"),
    ],
)
def test_a_bad_training_value_is_one_line_and_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, setting: str, needle: str
) -> None:
    """These crashed with exit 3 (ValueError, TypeError, a 1.4 TB allocation) or read a typo as false, and the
    failed run left a folder holding config.json that blocked a rerun and could not be resumed."""
    for c in "AB":
        (tmp_path / "data" / c).mkdir(parents=True)
        write_grey(tmp_path / "data" / c / "x.png", 40)
    code, out, err = run_cli(capsys, "train", tmp_path / "data", "--out", tmp_path / "run", "epochs=1", setting)
    one_error_line(code, err, needle)
    assert code == 1 and not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "task", [["augment", "d", "--preview", "p.png"], ["make-spelling-video", "AB", "--out", "v.mp4"]]
)
def test_seeds_are_whole_numbers_a_generator_takes(capsys: pytest.CaptureFixture[str], task: list[str]) -> None:
    for seed in ("-1", str(2**32)):
        with pytest.raises(SystemExit) as info:
            cli.main([*task, "--seed", seed])
        assert info.value.code == 2
        one_error_line(2, capsys.readouterr().err, f"expected 0 to 4294967295, got {seed}")


def test_a_file_value_the_command_line_replaces_is_never_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """[predict] top_k = 0 with top_k=2 on the command line failed on the file's 0, naming no file."""
    cfg = write(tmp_path / "s.toml", "[predict]\ntop_k = 0\n")
    assert parse("predict", "x.jpg", f"cfg={cfg}", "top_k=2").top_k == 2
    assert parse("predict", "x.jpg", f"cfg={cfg}", "--top-k", "3").top_k == 3
    code, _, err = run_cli(capsys, "predict", "x.jpg", f"cfg={cfg}")
    one_error_line(code, err, f"--cfg {cfg}: top_k = '0': expected 1 to 1000, got 0")
    ok = write(tmp_path / "ok.toml", "[predict]\ntop_k = 7\n")
    assert parse("predict", "x.jpg", f"cfg={ok}").top_k == 7, "a file's good value is still used"


def test_evaluate_detection_takes_the_views_detect_takes() -> None:
    """README's one-view detection figure could not be reproduced: evaluate-detection had no --views."""
    assert parse("evaluate-detection", "d", "--views", "1").views == 1
    assert parse("evaluate-detection", "d", "views=2").views == 2 and parse("evaluate-detection", "d").views is None


def test_a_setting_before_the_data_keeps_its_value(tmp_path: Path) -> None:
    """``train --epochs 1 DATA`` read 1 as a data folder and then said --epochs had no value."""
    args = parse("train", "--epochs", "1", "--unfreeze-blocks", "-1", tmp_path, "--out", tmp_path / "run")
    assert args.data == [str(tmp_path)] and args.overrides == {"epochs": "1", "unfreeze_blocks": "-1"}
    assert parse("live", "--lm-weight", "0.5", "--source", "v.mp4").overrides == {"lm_weight": "0.5"}
    assert parse("train", tmp_path, "--", "--epochs", "1").data == [str(tmp_path), "--epochs", "1"], "after --: data"


def test_output_paths_are_printed_escaped_and_default_names_readable(tmp_path: Path) -> None:
    """The README promises odd names printed escaped; train's run folder, evaluate's and the other reports'
    paths were printed raw (a newline split the line), and audit's default folder kept a raw 0xFF byte."""
    from types import SimpleNamespace

    from aslkit.evaluation.audit import default_report_folder
    from aslkit.evaluation.evaluate import evaluate_text
    from aslkit.training.trainer import train_text

    odd = tmp_path / "run\udcff\nx"
    res = SimpleNamespace(run_dir=odd, metrics={"valid": {"accuracy": 1.0, "macro_f1": 1.0}, "train_seconds": 1,
                                                "best_epoch": 1})  # fmt: skip
    assert train_text(res).splitlines()[0] == f"run folder: {tmp_path}/run\\xff\\nx"
    m = {"n": 1, "data": "d", "model": "m", "accuracy": 1.0, "accuracy_detected": 1.0, "detection_rate": 1.0,
         "weighted_f1": 1.0, "macro_f1": 1.0, "unknown_labels": [], "errors": []}  # fmt: skip
    assert evaluate_text(m, odd).splitlines()[-1] == f"report: {tmp_path}/run\\xff\\nx/report.md"
    assert default_report_folder(tmp_path / "set\udcff\nx").name == "set%FF_x"


def test_a_run_that_fails_before_its_first_epoch_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only AslkitError cleaned up: any other failure left config.json, which then blocked the rerun ("holds an
    unfinished run; --resume") and could not be resumed ("no checkpoint")."""
    from aslkit.training import trainer

    for c in "AB":
        (tmp_path / "data" / c).mkdir(parents=True)
        write_grey(tmp_path / "data" / c / "x.png", 40)

    def broken(*a, **k):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(trainer, "fit_model", broken)
    code, _, err = run_cli(capsys, "train", tmp_path / "data", "--out", tmp_path / "run", "epochs=1")
    assert code == 3 and "RuntimeError: out of memory" in err and not (tmp_path / "run").exists()


def test_a_settings_files_mediapipe_api_applies_to_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[landmarks] mediapipe_api passed the file's check and then nothing read it; evaluate took no cfg= at all."""
    cfg = write(tmp_path / "s.toml", '[landmarks]\nmediapipe_api = "tasks"\n')
    monkeypatch.delenv("ASLKIT_MEDIAPIPE_API", raising=False)
    parse("evaluate", "d", f"cfg={cfg}")
    assert os.environ["ASLKIT_MEDIAPIPE_API"] == "tasks"
    monkeypatch.setenv("ASLKIT_MEDIAPIPE_API", "legacy")  # the environment, set for this run, wins
    parse("predict", "x.jpg", f"cfg={cfg}")
    assert os.environ["ASLKIT_MEDIAPIPE_API"] == "legacy"
    monkeypatch.delenv("ASLKIT_MEDIAPIPE_API")
    bad = write(tmp_path / "bad.toml", '[landmarks]\nmediapipe_api = "new"\n')
    with pytest.raises(AslkitError, match="unknown MediaPipe API 'new'"):
        parse("predict", "x.jpg", f"cfg={bad}")
    assert "ASLKIT_MEDIAPIPE_API" not in os.environ
