"""Leave-signers-out cross-validation: `aslkit train --cv signer`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_sequence_training import _synthetic_npz

from aslkit.cli import main
from aslkit.data.split import group_folds
from aslkit.errors import AslkitError, DatasetError
from aslkit.training.cv import Scored, cross_validate, cv_markdown, cv_text, summarize


def test_group_folds_keep_signers_whole_and_balance_the_clips() -> None:
    groups = ["a"] * 30 + ["b"] * 30 + ["c"] * 10 + ["d"] * 10 + ["e"] * 10 + ["f"] * 10
    folds = group_folds(groups, 3)
    assert sorted(g for f in folds for g in f) == list("abcdef"), "every signer in exactly one fold"
    sizes = sorted(sum(groups.count(g) for g in f) for f in folds)
    assert sizes == [30, 30, 40]
    assert folds == group_folds(list(reversed(groups)), 3), "the same folds whatever the order of the clips"
    with pytest.raises(DatasetError, match="3 folds need at least 3 groups"):
        group_folds(["a", "b"], 3)
    with pytest.raises(DatasetError, match="at least 2 folds"):
        group_folds(["a", "b"], 1)


def test_summary_per_sign_and_worst_signers_first() -> None:
    rows = [Scored("s1", "hello", "hello", 1), Scored("s1", "no", "hello", 1), Scored("s2", "hello", "hello", 2),
            Scored("s2", "no", "no", 2), Scored("s3", "hello", "no", 3)]  # fmt: skip
    folds = [{"fold": k, "accuracy": a} for k, a in ((1, 0.5), (2, 1.0), (3, 0.0))]
    r = summarize(rows, folds, {"yes": 2})
    assert r["accuracy"] == pytest.approx(3 / 5) and r["mean_fold_accuracy"] == pytest.approx(0.5)
    assert r["mean_signer_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    hello = next(v for v in r["per_sign"] if v["sign"] == "hello")
    assert (hello["signers"], hello["clips"], hello["accuracy"], hello["read_as"]) == (3, 3, 2 / 3, {"no": 1})
    assert hello["worst_signer_accuracy"] == 0.0
    assert [v["signer"] for v in r["per_signer"]] == ["s3", "s1", "s2"], "worst first"
    with pytest.raises(DatasetError, match="no held-out clip"):
        summarize([], folds, {})


def test_signs_read_as_each_other_both_ways_are_named_as_possible_swaps() -> None:
    def clips(signer: str, label: str, answers: str) -> list[Scored]:
        return [Scored(signer, label, a, 1) for a in answers.split()]

    rows = (
        clips("swapped", "please", "thank-you thank-you thank-you please")  # 3/4 one way...
        + clips("swapped", "thank-you", "please please please")  # ...3/3 the other: named
        + clips("one-way", "please", "thank-you thank-you thank-you")  # always wrong one way only: not a swap
        + clips("one-way", "thank-you", "thank-you thank-you thank-you")
        + clips("few", "hello", "no no")  # under 3 clips each: too few to say
        + clips("few", "no", "hello hello")
        + clips("fine", "hello", "hello hello hello")
    )
    r = summarize(rows, [{"fold": 1, "accuracy": 0.5}], {})
    assert r["possible_swaps"] == [
        {"signer": "swapped", "signs": ["please", "thank-you"], "a_as_b": [3, 4], "b_as_a": [3, 3]}
    ]
    assert "| swapped | please, thank-you | 3/4 | 3/3 |" in cv_markdown({**r, "model": "m", "data": ["d"]})
    assert "possible label swaps (read as each other both ways): swapped please<->thank-you" in cv_text(r, "out")
    clean = summarize(rows[7:], [{"fold": 1, "accuracy": 0.5}], {})
    assert clean["possible_swaps"] == [] and "label swaps" not in cv_text(clean, "out")


def test_cv_from_the_command_line(tmp_path: Path, capsys) -> None:
    npz = _synthetic_npz(tmp_path / "signs.npz", per_class=6)
    out = tmp_path / "cv"
    code = main(["train", str(npz), "--model", "seq-tcn", "--cv", "signer", "--folds", "3", "--out", str(out),
                 "--epochs", "4", "--no-cache", "-q"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    r = json.loads((out / "cv.json").read_text())
    assert printed.startswith("leave-signers-out, 3 folds, 3 signers, 54 clips")
    assert sorted(s for f in r["folds"] for s in f["signers"]) == ["signer0", "signer1", "signer2"]
    assert r["clips"] == 54 and sum(v["clips"] for v in r["per_sign"]) == 54
    weighted = sum(v["accuracy"] * v["clips"] for v in r["per_sign"]) / 54
    assert r["accuracy"] == pytest.approx(weighted)
    for k, f in enumerate(r["folds"], 1):  # each fold's model never saw its signers
        config = json.loads((out / f"fold-{k}" / "config.json").read_text())
        assert config["train"]["holdout"] == ",".join(f["signers"])
        assert (out / f"fold-{k}" / "model.json").is_file() and f["clips"] == 18
    md = (out / "cv.md").read_text()
    assert all(f"| signer{i} | 18 |" in md for i in range(3)) and (out / "per_sign.png").stat().st_size > 0
    assert main(["train", str(npz), "--model", "seq-tcn", "--cv", "signer", "--out", str(out), "-q"]) == 1
    assert "already exists and is not an empty folder" in capsys.readouterr().err, "never over an earlier run"


def test_a_signer_with_swapped_labels_is_named_and_relabel_fixes_it_in_memory(tmp_path: Path, capsys) -> None:
    npz = _synthetic_npz(tmp_path / "signs.npz", per_class=6)
    d = dict(np.load(npz))
    d["label"] = d["label"].copy()
    two = d["signer"] == "signer2"
    hello, no = two & (d["label"] == "hello"), two & (d["label"] == "no")
    d["label"][hello], d["label"][no] = "no", "hello"  # signer2's hello and no swapped in the recording
    np.savez(npz, **d)
    before = npz.read_bytes()
    opts = ["--model", "seq-tcn", "--cv", "signer", "--folds", "3", "--epochs", "25", "--no-cache", "-q"]
    assert main(["train", str(npz), *opts, "--out", str(tmp_path / "as-is")]) == 0
    printed = capsys.readouterr().out
    assert "possible label swaps (read as each other both ways): signer2 hello<->no" in printed
    fix = tmp_path / "fix.csv"
    fix.write_text("signer,label,new_label\nsigner2,hello,no\nsigner2,no,hello\n")
    assert main(["train", str(npz), *opts, "--relabel", str(fix), "--out", str(tmp_path / "fixed")]) == 0
    assert "label swaps" not in capsys.readouterr().out
    as_is = json.loads((tmp_path / "as-is" / "cv.json").read_text())
    fixed = json.loads((tmp_path / "fixed" / "cv.json").read_text())
    assert fixed["possible_swaps"] == [] and fixed["accuracy"] > as_is["accuracy"]
    assert npz.read_bytes() == before, "the data file is never changed"


def test_relabel_refusals(tmp_path: Path, capsys) -> None:
    from aslkit.data.sequences import read_sequence_npz, relabelled

    data = read_sequence_npz(_synthetic_npz(tmp_path / "signs.npz", per_class=2))
    for text, why in (
        ("signer,label\nsigner0,hello\n", "missing columns \\['new_label'\\]"),
        ("signer,label,new_label\n", "no rows"),
        ("signer,label,new_label\nsignerX,hello,no\n", "line 2: no clip of signer 'signerX' is labelled 'hello'"),
        ("signer,label,new_label\nsigner0,hello,\n", "line 2: signer, label and new_label must all be given"),
        (
            "signer,label,new_label\nsigner0,hello,no\nsigner0,hello,thank-you\n",
            "line 3: 'hello' of signer 'signer0' is relabelled on line 2 already",
        ),
        ("signer,label,new_label\nsigner0,hello,no,extra\n", "line 2: more fields than the header's"),  # was dropped
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(DatasetError, match=why):
            relabelled(data, bad)
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(DatasetError, match="cannot read CSV"):
        relabelled(data, tmp_path / "bin.csv")
    with pytest.raises(DatasetError, match="not a file|no such|does not exist"):
        relabelled(data, tmp_path / "missing.csv")
    assert main(["train", str(tmp_path / "signs.npz"), "--model", "landmark-mlp", "--relabel", str(bad), "-q"]) == 1
    assert "--relabel corrects signers' labels of sign clips; 'landmark-mlp'" in capsys.readouterr().err
    ok = tmp_path / "ok.csv"
    ok.write_text("Signer,Label,New_Label\nsigner1,thank-you,no\n")
    fixed, changed = relabelled(data, ok)
    assert changed == {"signer1:thank-you->no": 2}
    moved = [i for i, (a, b) in enumerate(zip(data.labels, fixed.labels, strict=True)) if a != b]
    assert len(moved) == 2 and all(data.signers[i] == "signer1" and fixed.labels[i] == "no" for i in moved)


def test_cv_refusals(tmp_path: Path) -> None:
    npz = _synthetic_npz(tmp_path / "signs.npz", per_class=2)
    with pytest.raises(AslkitError, match="chooses the held-out signers itself"):
        cross_validate(npz, tmp_path / "a", model="seq-tcn", holdout="signer0", progress=False)
    with pytest.raises(DatasetError, match="4 folds need at least 4 groups"):
        cross_validate(npz, tmp_path / "b", model="seq-tcn", folds=4, progress=False, cache_dir=None)
    with pytest.raises(AslkitError, match="for sign models"):
        cross_validate(npz, tmp_path / "c", model="landmark-mlp", progress=False)
    np.savez(tmp_path / "nosigner.npz", sequences=np.ones((4, 5, 126), np.float32), label=np.array(["a", "b"] * 2))
    with pytest.raises(DatasetError, match="names each clip's signer"):
        cross_validate(tmp_path / "nosigner.npz", tmp_path / "d", model="seq-tcn", progress=False, cache_dir=None)
    assert not any((tmp_path / x).exists() for x in "abcd"), "a refused run leaves no folder"


def test_cv_of_a_finetune_and_of_chosen_classes(tmp_path: Path) -> None:
    """--cv with --finetune folds like the trained model's architecture; with --classes, a signer who made
    none of them is in no fold (it used to fail: 'holdout signer(s) not in the data')."""
    from aslkit.training.trainer import train

    npz = _synthetic_npz(tmp_path / "signs.npz", per_class=4)
    d = np.load(npz)
    keep = ~((d["signer"] == "signer2") & (d["label"] != "thank-you"))  # signer2 made only thank-you
    np.savez(tmp_path / "some.npz", sequences=d["sequences"][keep], label=d["label"][keep], signer=d["signer"][keep])
    base = train(npz, out=tmp_path / "base", model="seq-tcn", epochs=2, progress=False,
                 model_kwargs={"dim": 32, "blocks": 1}, seq_length=12)  # fmt: skip
    r = cross_validate(tmp_path / "some.npz", tmp_path / "cv", model=str(base.run_dir), folds=2, progress=False,
                       cache_dir=None, finetune=str(base.run_dir), classes="hello,no", epochs=1)  # fmt: skip
    assert sorted(s for f in r["folds"] for s in f["signers"]) == ["signer0", "signer1"]
    assert r["clips"] == 16 and {v["sign"] for v in r["per_sign"]} <= {"hello", "no"}
    fold = json.loads((tmp_path / "cv" / "fold-1" / "config.json").read_text())
    assert fold["train"]["model"] == "seq-tcn" and fold["train"]["finetune"] == str(base.run_dir)
