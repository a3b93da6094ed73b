"""Model cards (README.md with YAML front matter) for shipped models, run folders and sign dictionaries;
`aslkit models NAME` prints them; model.json never carries the folders of the machine a model was trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import load_repo_module, template_landmarks, write_shapes_npz
from huggingface_hub import ModelCard

from aslkit.cli import main
from aslkit.models.card import data_facts, data_name, portable_command, read_model_card
from aslkit.models.io import load_model, shipped_models

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "aslkit" / "weights"
MACHINE = ("/work", "/home", "/tmp", "/root", "/Users", "../", "~/", "shared/data")


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _no_machine_paths(text: str, *roots: Path) -> None:
    for needle in (*MACHINE, *(str(r) for r in roots), str(Path.home())):
        assert needle not in text, needle


# ---- shipped models ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_shipped_card_parses_with_huggingface_hub(name: str) -> None:
    card = ModelCard.load(WEIGHTS / f"{name}.md")
    meta = card.data.to_dict()
    model = load_model(name)
    assert meta["language"] == ["ase"] and meta["labels"] == model.labels
    assert meta["license"] in ("unknown", "other") and meta["pipeline_tag"]
    assert meta["datasets"] == model.meta["data"], "the card names the data model.json names"
    assert card.data.eval_results, "held-out figures in model-index"
    for section in ("## What it reads", "## Training data", "## Training command", "## Scores", "## Limits"):
        assert section in card.text, section
    assert model.meta["command"] in card.text


def test_shipped_cards_are_what_the_script_writes() -> None:
    mod = load_repo_module("scripts/write_model_cards.py")
    assert mod.main(["--check"]) == 0, "run scripts/write_model_cards.py"


def test_aslkit_models_letters_prints_its_card_with_the_gpl_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "models", "letters")
    assert code == 0 and err == ""
    assert out.startswith("---\nlanguage:\n- ase\n")
    kaggle = [line for line in out.splitlines() if line.startswith("| asl-alphabet-kaggle |")]
    assert len(kaggle) == 1 and kaggle[0].endswith("| GPL-2.0 |"), kaggle
    assert "| asl-alphabet-photos |" in out and "| Apache-2.0 |" in out
    for figure in ("96.14%", "86.05% / 80.19%", "prasukj7 | 80.19%", "benchmarks/lopo_letters.py"):
        assert figure in out, figure  # the README's held-out figures, and how they were measured
    code, out, _ = _cli(capsys, "models", "letters", "--json")
    d = json.loads(out)
    assert code == 0 and d["metadata"]["language"] == ["ase"] and "GPL-2.0" in d["text"]
    assert Path(d["card"]).name == "letters.md"


def test_shipped_model_json_holds_no_machine_path_and_still_loads() -> None:
    for name, path in shipped_models().items():
        _no_machine_paths(path.read_text(encoding="utf-8"))
        m = load_model(name)
        assert m.meta["data"] and all(not Path(d).is_absolute() for d in m.meta["data"]), name
        assert m.meta["command"].startswith("aslkit train "), name


# ---- names without the machine's folders ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/home/alice/asl/my_letters", "my_letters"),
        ("/home/alice/asl/my_letters/", "my_letters"),
        ("../shared/data/asl-letters-detection/train/", "asl-letters-detection/train"),
        ("/data/x/letters-more-people/kynmiiso", "letters-more-people/kynmiiso"),
        ("/srv/mine/valid", "mine/valid"),
        ("~/clips.npz", "clips.npz"),
        ("/home/alice/train", "train"),  # a home folder's name is a user's name
        (str(Path.home() / "valid"), "valid"),
        ("/home/alice/data", "data"),
    ],
)
def test_data_name_keeps_the_set_and_drops_the_machine(path: str, name: str) -> None:
    assert data_name(path) == name


def test_portable_command_and_known_licences(tmp_path: Path) -> None:
    cmd = (f"aslkit train {tmp_path}/a.npz ../x/asl-alphabet-kaggle --out={tmp_path}/run out={tmp_path}/r2 "
           "--group-pattern 'hand(\\d+)' --classes a,b")  # fmt: skip
    assert portable_command(cmd) == (
        "aslkit train a.npz asl-alphabet-kaggle --out=run out=r2 --group-pattern 'hand(\\d+)' --classes a,b"
    )
    assert portable_command(None) is None and portable_command("pytest") == "pytest"
    assert data_facts("/x/asl-alphabet-kaggle")[1] == "GPL-2.0"
    assert data_facts("../shared/data/asl-alphabet-photos")[1] == "Apache-2.0"
    assert data_facts("/x/massey-letters")[1] == "unknown" and data_facts("mine")[1] == "unknown"


# ---- a run folder -----------------------------------------------------------------------------------------------
def test_a_fresh_run_gets_its_own_card_and_a_model_json_without_machine_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aslkit.training.trainer import train

    (tmp_path / "sets").mkdir()
    data = write_shapes_npz(tmp_path / "sets" / "shapes.npz")
    out = tmp_path / "runs" / "mine"
    command = f"aslkit train {data} --model landmark-mlp-tiny --out {out} --epochs 3"
    res = train(data, out, model="landmark-mlp-tiny", epochs=3, progress=False, cache_dir=None, command=command)
    spec = (out / "model.json").read_text(encoding="utf-8")
    _no_machine_paths(spec, tmp_path)
    meta = json.loads(spec)["meta"]
    assert meta["data"] == ["shapes.npz"]
    assert meta["command"] == "aslkit train shapes.npz --model landmark-mlp-tiny --out mine --epochs 3"
    assert json.loads((out / "config.json").read_text())["data_resolved"] == [str(data)], "--resume keeps the path"

    card = ModelCard.load(out / "README.md")
    assert card.data.language == ["ase"] and card.data.to_dict()["labels"] == ["B", "L", "V"]
    _no_machine_paths(card.content, tmp_path)
    test = res.metrics["test"]
    assert f"| test (random split: in-distribution) | {test['n']} | {100 * test['accuracy']:.2f}% |" in card.text
    assert "aslkit train shapes.npz --model landmark-mlp-tiny --out mine --epochs 3" in card.text
    assert "Scored on a random split of your own data: not a figure for other people" in card.text
    assert card.data.eval_results[0].metric_value == round(100 * test["accuracy"], 2)
    code, printed, _ = _cli(capsys, "models", out)
    assert code == 0 and printed.rstrip("\n") == (out / "README.md").read_text(encoding="utf-8").rstrip("\n")


def _clip(shape: tuple[bool, ...], angle: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    base = template_landmarks(shape).astype(np.float32)
    base[:, :2] = (base[:, :2] - base[:, :2].mean(0)) / np.ptp(base[:, :2], axis=0).max() * 0.1
    t = np.linspace(0, 1, 14)[:, None, None]
    hand = base[None] + t * 0.25 * np.array([np.cos(angle), np.sin(angle), 0], np.float32)
    right = (hand * scale + 0.5 + rng.normal(0, 0.004, hand.shape)).reshape(14, -1).astype(np.float32)
    return np.concatenate([np.zeros_like(right), right], 1)


def test_held_out_signer_run_and_a_dictionary_built_on_it_say_what_they_measured(tmp_path: Path) -> None:
    """A --holdout run's card is signer-independent and names the signer; a dictionary built with it as the
    encoder gets a card of its own words, and neither model.json names the machine's folders."""
    from aslkit.training.dictionary import build_dictionary
    from aslkit.training.trainer import train

    rng = np.random.default_rng(0)
    signs = {"hello": ((True,) * 5, 0.0), "no": ((False,) * 5, 1.5)}
    seqs, labels, signers = [], [], []
    for s, scale in enumerate((1.0, 0.8, 1.2)):
        for w, (shape, ang) in signs.items():
            for _ in range(6):
                seqs.append(_clip(shape, ang, scale, rng))
                labels.append(w)
                signers.append(f"signer{s}")
    data = tmp_path / "clips.npz"
    np.savez(data, sequences=np.stack(seqs), label=np.array(labels), signer=np.array(signers))
    enc = tmp_path / "enc"
    train(data, out=enc, model="seq-tcn", holdout="signer2", epochs=2, progress=False, cache_dir=None,
          model_kwargs={"dim": 16, "blocks": 1}, seq_length=8)  # fmt: skip
    card = (enc / "README.md").read_text(encoding="utf-8")
    assert "**Signer-independent**" in card and "every clip of `signer2` is on the test side" in card
    assert "test (held out: never trained on)" in card and "random split of your own data" not in card
    assert ModelCard.load(enc / "README.md").data.pipeline_tag == "video-classification"

    ex = tmp_path / "examples"
    for w in ("water", "yes"):
        (ex / w).mkdir(parents=True)
        for k in range(2):
            np.save(ex / w / f"take{k}.npy", _clip((k == 0, True, True, False, False), 0.5 * k, 1.0, rng))
    command = f"aslkit train {ex} --model sign-dictionary --encoder {enc} --out {tmp_path}/dict"
    res = build_dictionary(ex, tmp_path / "dict", encoder=enc, cache_dir=None, progress=False, command=command)
    spec = (tmp_path / "dict" / "model.json").read_text(encoding="utf-8")
    _no_machine_paths(spec, tmp_path)
    assert res.model.meta["encoder"] == "enc" and res.model.meta["data"] == ["examples"]
    dcard = ModelCard.load(tmp_path / "dict" / "README.md")
    assert dcard.data.to_dict()["labels"] == ["water", "yes"] and dcard.data.language == ["ase"]
    assert "**In-distribution**: the examples' own signers" in dcard.text
    assert "aslkit train examples --model sign-dictionary --encoder enc --out dict" in dcard.text


# ---- missing and crafted cards ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no model card (README.md)"),
        (b"# just a heading\n", "no YAML front matter"),
        (b"---\nlanguage: [ase\n---\n", "not valid YAML at line"),
        (b"---\n- a\n- b\n---\n", "not a mapping"),
        (b"---\na: &x [1]\nb: *x\n---\n", "anchors or aliases"),
        (b"---\nlanguage: ase\n---\n\x1b]0;owned\x07 hi\n", "control characters"),
        (b"---\nlanguage: ase\n---\nsafe\rhidden\n", "control characters"),
        (b"---\nlanguage: ase\n---\n\xff\xfe\n", "not UTF-8"),
        (b"---\nlanguage: ase\n---\n" + b"x" * (2**20 + 1), "too large"),
        ("folder", "cannot read the model card (is a folder"),
    ],
)
def test_missing_or_crafted_card_is_one_clear_line(
    synthetic_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str | None,
    message: str,
) -> None:  # fmt: skip
    run = tmp_path / "run"
    shutil.copytree(synthetic_model_dir, run)
    (run / "README.md").unlink(missing_ok=True)
    if content == "folder":
        (run / "README.md").mkdir()
    elif content is not None:
        (run / "README.md").write_bytes(content)
    code, out, err = _cli(capsys, "models", run)
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and len(lines) == 1 and lines[0].startswith("aslkit: error: "), err
    assert message in lines[0], lines[0]
    assert "\x1b" not in err and "\r" not in err


def test_a_good_card_with_windows_line_ends_is_read(synthetic_model_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(synthetic_model_dir, run)
    (run / "README.md").write_bytes(b"---\r\nlanguage:\r\n- ase\r\nlabels: [B, L, V]\r\n---\r\n\r\n# run\r\n")
    card = read_model_card(run)
    assert card.metadata == {"language": ["ase"], "labels": ["B", "L", "V"]} and "\r" not in card.text
