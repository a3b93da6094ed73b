"""Training sequence models through aslkit.train: signer split, augmentation, saved preprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import template_landmarks, write_grey

from aslkit.data.sequences import HANDS, POSE_HANDS, SequenceSet
from aslkit.errors import DatasetError, ModelError
from aslkit.inference.sequence_recognizer import check_layout, sequence_probabilities
from aslkit.landmarks.holistic import load_sequences
from aslkit.models.io import load_model
from aslkit.training.sequence_fit import time_warp
from aslkit.training.trainer import train

SIGNS = ("hello", "no", "thank-you")


def _synthetic_npz(path: Path, per_class: int = 12, length: int = 16) -> Path:
    """Three 'signs' = the right hand moving in three directions; three signers, each filmed from a
    different distance and place in the frame, at a different speed and with landmark noise."""
    rng = np.random.default_rng(0)
    base = template_landmarks().astype(np.float32)
    base[:, :2] = (base[:, :2] - base[:, :2].mean(0)) / np.ptp(base[:, :2], axis=0).max() * 0.1
    seqs, labels, signers = [], [], []
    for s, (scale, off, frames) in enumerate(((1.0, 0.0, length), (0.7, 0.1, length + 6), (1.2, -0.05, length - 4))):
        for k, sign in enumerate(SIGNS):
            ang = 2 * np.pi * k / len(SIGNS)
            for _ in range(per_class):
                t = np.linspace(0, 1, frames)[:, None, None]
                hand = base[None] + t * 0.25 * np.array([np.cos(ang), np.sin(ang), 0], np.float32)
                hand = (hand * scale + 0.5 + off).astype(np.float32) + rng.normal(0, 0.004, hand.shape)
                right = hand.reshape(frames, -1)
                clip = np.concatenate([np.zeros_like(right), right], 1)
                pad = np.zeros((length + 6 - frames, 126), np.float32)  # stored padded: zeros = no hand
                seqs.append(np.concatenate([clip, pad]))
                labels.append(sign)
                signers.append(f"signer{s}")
    np.savez(path, sequences=np.stack(seqs).astype(np.float16), label=np.array(labels), signer=np.array(signers))
    return path


def test_time_warp_keeps_time_order_and_masks_with_frames() -> None:
    rng = np.random.default_rng(0)
    x = np.broadcast_to(np.arange(20, dtype=np.float32)[None, :, None], (8, 20, 3)).copy()
    m = np.ones((8, 20), bool)
    m[:, 15:] = False
    same_x, same_m = time_warp(x, m, rng, 0.0)
    assert np.array_equal(same_x, x) and np.array_equal(same_m, m)
    wx, wm = time_warp(x, m, rng, 0.3)
    assert wx.shape == x.shape and (np.diff(wx[..., 0], axis=1) >= 0).all(), "never plays backwards"
    assert not np.array_equal(wx, x), "it does change the timing"
    assert np.array_equal(wm, wx[..., 0] < 15), "each frame keeps its own mask"


@pytest.mark.parametrize("model", ["seq-tcn", "seq-lstm-attn"])
def test_train_on_two_signers_recognizes_the_third(tmp_path: Path, model: str) -> None:
    data = _synthetic_npz(tmp_path / "signs.npz")
    before = data.read_bytes()
    res = train(data, out=tmp_path / "run", model=model, holdout="signer2", epochs=25, batch_size=16, progress=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["split_sizes"]["test"] == 36, "the test side is exactly the held-out signer"
    assert config["split_sizes"]["train"] + config["split_sizes"]["valid"] == 72, "both other signers train"
    assert res.metrics["test"]["accuracy"] >= 0.9, res.metrics["test"]["accuracy"]
    m = load_model(tmp_path / "run")
    assert m.preprocessing["input"] == "sequence" and m.preprocessing["layout"] == "hands"
    assert m.preprocessing["length"] == 20 and m.labels == sorted(SIGNS)
    s = load_sequences(data)
    probs = sequence_probabilities(m, s.subset(np.flatnonzero(np.array(s.signers) == "signer2")))
    assert probs.shape == (36, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert data.read_bytes() == before, "the data file is only read"


def test_held_out_signer_classes_nobody_else_signed_are_left_out_and_counted(tmp_path: Path) -> None:
    data = _synthetic_npz(tmp_path / "signs.npz", per_class=6)
    s = load_sequences(data)
    labels = ["wave" if (g == "signer2" and lab == "no") else lab for lab, g in zip(s.labels, s.signers, strict=True)]
    np.savez(tmp_path / "odd.npz", sequences=np.stack(s.sequences), label=np.array(labels), signer=np.array(s.signers))
    res = train(
        tmp_path / "odd.npz", out=tmp_path / "run", model="seq-tcn", holdout="signer2", epochs=2, progress=False
    )
    assert res.metrics["test_left_out"] == {"wave": 6}
    assert res.metrics["test"]["n"] == 12 and "wave" not in res.model.labels
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["split_sizes"]["train"] + config["split_sizes"]["valid"] == 36, "both other signers train"
    with pytest.raises(DatasetError, match=r"holdout signer\(s\) \['nobody'\] not in the data"):
        train(tmp_path / "odd.npz", out=tmp_path / "run2", model="seq-tcn", holdout="nobody", progress=False)


def test_sequence_model_refuses_image_folders(tmp_path: Path) -> None:
    folder = tmp_path / "photos" / "A"
    folder.mkdir(parents=True)
    write_grey(folder / "a.png")
    with pytest.raises(DatasetError, match="sequence models train on landmark clips"):
        train(tmp_path / "photos", out=tmp_path / "run", model="seq-tcn", progress=False)
    assert not (tmp_path / "run" / "config.json").exists()


def test_layout_check_between_model_and_data(tmp_path: Path) -> None:
    data = _synthetic_npz(tmp_path / "s.npz", per_class=2)
    train(data, out=tmp_path / "run", model="seq-tcn", epochs=1, progress=False, split="0.5,0.5")
    m = load_model(tmp_path / "run")
    hands = load_sequences(data)
    rng = np.random.default_rng(1)
    pose = np.concatenate([rng.uniform(0, 1, (hands.sequences[0].shape[0], 132)).astype(np.float32)], 1)
    with_pose = SequenceSet([np.concatenate([pose, x], 1) for x in hands.sequences], hands.labels, POSE_HANDS)
    assert check_layout(m, with_pose).layout is HANDS, "a hands model reads the hands of pose + hands clips"
    assert np.allclose(sequence_probabilities(m, with_pose), sequence_probabilities(m, hands), atol=1e-6)
    m.preprocessing["layout"] = "pose-hands"
    with pytest.raises(ModelError, match="has no pose to give"):
        check_layout(m, hands)


def test_a_bad_take_is_left_out_of_training_and_reported(tmp_path: Path, capsys) -> None:
    """A <sign>/<take>.npy folder with a 0-byte take and a zero-length one: trained on the rest, and said so."""
    from aslkit.cli import main

    z = np.load(_synthetic_npz(tmp_path / "signs.npz", per_class=4))
    data = tmp_path / "takes"
    for i, (seq, label) in enumerate(zip(z["sequences"], z["label"], strict=True)):
        (data / str(label)).mkdir(parents=True, exist_ok=True)
        np.save(data / str(label) / f"take{i}.npy", seq.astype(np.float32))
    (data / "hello" / "empty.npy").write_bytes(b"")
    np.save(data / "no" / "zero.npy", np.zeros((0, 126), np.float32))
    args = ["train", str(data), "--out", str(tmp_path / "run"), "--model", "seq-tcn", "--epochs", "2", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "unreadable files left out: 2" in out
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["unreadable"] == 2 and len(m["left_out_files"]) == 2
    assert any("empty.npy" in why for why in m["left_out_files"])


def test_camera_jitter_moves_found_points_only_and_keeps_shapes_rigid_without_aspect() -> None:
    from aslkit.data.sequences import POSE_HANDS
    from aslkit.training.sequence_fit import camera_jitter

    rng = np.random.default_rng(0)
    clip = rng.uniform(0.2, 0.8, (6, 258)).astype(np.float32)
    clip[2, 132:195] = 0.0  # left hand not found in frame 2
    same = camera_jitter([clip], POSE_HANDS, rng, 0.0, 0.0)[0]
    assert np.allclose(same, clip, atol=1e-6), "no aspect, no roll: the clip as it was"
    turned = camera_jitter([clip], POSE_HANDS, np.random.default_rng(1), 0.0, 30.0)[0]
    assert (turned[2, 132:195] == 0).all(), "a hand not found stays not found"
    hand_before, hand_after = clip[0, 195:258].reshape(21, 3), turned[0, 195:258].reshape(21, 3)
    d = np.linalg.norm(hand_before[:, None, :2] - hand_before[None, :, :2], axis=-1)
    d2 = np.linalg.norm(hand_after[:, None, :2] - hand_after[None, :, :2], axis=-1)
    assert np.allclose(d, d2, atol=1e-5) and not np.allclose(hand_before, hand_after), "a pure roll is rigid"
    assert np.array_equal(turned[:, 195 + 2 :: 3], clip[:, 195 + 2 :: 3]), "depth is left alone"
    vis = turned[0, :132].reshape(33, 4)[:, 3]
    assert np.array_equal(vis, clip[0, :132].reshape(33, 4)[:, 3]), "pose visibility is not a coordinate"
    stretched = camera_jitter([clip], POSE_HANDS, np.random.default_rng(2), 0.5, 0.0)[0]
    ratio = (stretched[0, 196::3] - 0.5) / (clip[0, 196::3] - 0.5)  # right hand's y about the centre
    assert np.allclose(ratio, ratio[0], atol=1e-4) and abs(np.log(ratio[0])) <= 0.5 and ratio[0] != 1.0


def test_training_with_camera_jitter_still_learns_and_records_it(tmp_path: Path) -> None:
    data = _synthetic_npz(tmp_path / "signs.npz")
    opts = {"holdout": "signer2", "epochs": 25, "batch_size": 16, "progress": False, "seq_aspect": 0.3}
    res = train(data, out=tmp_path / "run", model="seq-tcn", seq_rotate_deg=15.0, **opts)
    assert res.metrics["test"]["accuracy"] >= 0.9, res.metrics["test"]["accuracy"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["train"]["seq_aspect"], config["train"]["seq_rotate_deg"]) == (0.3, 15.0)
    plain = train(data, out=tmp_path / "plain", model="seq-tcn", **{**opts, "seq_aspect": 0.0})
    assert not np.allclose(plain.model.tensors["stem.0.weight"], res.model.tensors["stem.0.weight"]), (
        "the jitter changes what the network sees"
    )


def test_one_handed_takes_out_the_hand_seen_less_and_its_pose_wrist() -> None:
    from aslkit.landmarks.sequence_features import sequence_features
    from aslkit.training.sequence_fit import one_handed

    rng = np.random.default_rng(0)
    clip = rng.uniform(0.2, 0.8, (6, 258)).astype(np.float32)
    clip[:2, 132:195] = 0.0  # the left hand is seen in 4 frames, the right in 6: the right leads
    mirrored = clip.copy()
    mirrored[:, 132:195], mirrored[:, 195:258] = clip[:, 195:258], clip[:, 132:195]  # now the left leads
    for raw, gone, kept, arm in ((clip, 132, 195, (15, 17, 19, 21)), (mirrored, 195, 132, (16, 18, 20, 22))):
        single = one_handed(SequenceSet([raw], ["hello"], POSE_HANDS)).sequences[0]
        assert (single[:, gone : gone + 63] == 0).all(), "the hand seen less is gone"
        assert np.array_equal(single[:, kept : kept + 63], raw[:, kept : kept + 63]), "the leading hand is kept"
        pose, before = single[:, :132].reshape(6, 33, 4), raw[:, :132].reshape(6, 33, 4)
        assert (pose[:, list(arm)] == 0).all(), "so are its wrist and hand points in the pose"
        others = [k for k in range(33) if k not in arm]
        assert np.array_equal(pose[:, others], before[:, others]), "the rest of the body is kept"
        f_raw, _ = sequence_features(raw, POSE_HANDS)
        f_one, m_one = sequence_features(single, POSE_HANDS)
        assert np.array_equal(f_one[:, 65:130], f_raw[:, 65:130]), "the dominant block reads the same"
        assert (f_one[:, :65] == 0).all() and (f_one[:, 130] == 0).all() and m_one.all()
    assert raw is mirrored and clip[0, 195] != 0, "the input clips are not changed"


def test_training_with_hand_dropout_reads_a_one_handed_signer(tmp_path: Path) -> None:
    """Training signers sign hello with a still second hand in view; the held-out one signs it with
    one hand. The second hand is a habit: dropping it in training keeps the sign readable without it."""
    rng = np.random.default_rng(1)
    base = template_landmarks().astype(np.float32)
    base[:, :2] = (base[:, :2] - base[:, :2].mean(0)) / np.ptp(base[:, :2], axis=0).max() * 0.1
    seqs, labels, signers = [], [], []
    for s in range(3):
        for k, sign in enumerate(SIGNS):
            for _ in range(12):
                t = np.linspace(0, 1, 16)[:, None, None]
                ang = 2 * np.pi * k / len(SIGNS)
                hand = base[None] + t * 0.25 * np.array([np.cos(ang), np.sin(ang), 0], np.float32)
                right = (hand + 0.5).astype(np.float32) + rng.normal(0, 0.004, hand.shape)
                left = np.zeros_like(right)
                if sign == "hello" and s < 2:  # a still second hand, low in the frame
                    left = np.broadcast_to(base[None] + np.array([0.25, 0.8, 0], np.float32), right.shape).copy()
                seqs.append(np.concatenate([left.reshape(16, -1), right.reshape(16, -1)], 1))
                labels.append(sign)
                signers.append(f"signer{s}")
    path = tmp_path / "signs.npz"
    np.savez(path, sequences=np.stack(seqs).astype(np.float32), label=np.array(labels), signer=np.array(signers))
    opts = {"holdout": "signer2", "epochs": 25, "batch_size": 16, "progress": False, "model": "seq-tcn"}
    res = train(path, out=tmp_path / "run", seq_hand_dropout=0.5, **opts)
    assert res.metrics["test"]["accuracy"] >= 0.9, res.metrics["test"]["accuracy"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["seq_hand_dropout"] == 0.5


def test_a_sign_with_a_single_take_is_named_and_still_trained(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    for label, takes in (("hello", 6), ("no", 1)):
        (tmp_path / "clips" / label).mkdir(parents=True)
        for i in range(takes):
            np.save(tmp_path / "clips" / label / f"t{i}.npy", rng.uniform(0.3, 0.7, (20, 126)).astype(np.float32))
    res = train(tmp_path / "clips", out=tmp_path / "run", model="seq-tcn", epochs=2, progress=False)
    err = capsys.readouterr().err
    assert "1 class(es) have a single example, trained on but never validated or tested: no" in err
    assert res.model.labels == ["hello", "no"]


def test_finetune_starts_from_a_trained_model_and_allows_new_signs(tmp_path: Path, capsys) -> None:
    from aslkit.cli import main

    data = _synthetic_npz(tmp_path / "signs.npz", per_class=6)
    base = train(data, out=tmp_path / "base", model="seq-tcn", classes="hello,no", epochs=3, progress=False,
                 model_kwargs={"dim": 32, "blocks": 1}, seq_length=12)  # fmt: skip
    # a tiny learning rate: what the fine-tuned network holds is what it started from
    argv = ["train", str(data), "--model", str(tmp_path / "base"), "--finetune", "--out", str(tmp_path / "ft"),
            "--epochs", "1", "--lr", "1e-12", "-q"]  # fmt: skip
    assert main(argv) == 0
    ft = load_model(tmp_path / "ft")
    assert ft.labels == sorted(SIGNS) and ft.architecture == "seq-tcn", "thank-you is a new sign"
    assert ft.kwargs["dim"] == 32 and ft.preprocessing["length"] == 12, "the sizes of the model started from"
    assert np.allclose(ft.tensors["stem.0.weight"], base.model.tensors["stem.0.weight"], atol=1e-6)
    assert ft.tensors["head.1.weight"].shape[0] == 3 != base.model.tensors["head.1.weight"].shape[0]
    fresh = train(data, out=tmp_path / "fresh", model="seq-tcn", epochs=1, lr=1e-12, progress=False,
                  model_kwargs={"dim": 32, "blocks": 1}, seq_length=12)  # fmt: skip
    assert not np.allclose(fresh.model.tensors["stem.0.weight"], base.model.tensors["stem.0.weight"], atol=1e-3)
    capsys.readouterr()
    assert main(["train", str(data), "--finetune", "--out", str(tmp_path / "x"), "-q"]) == 1
    assert "--finetune starts from --model" in capsys.readouterr().err
    assert main(["train", str(data), "--model", "letters", "--finetune", "--out", str(tmp_path / "y"), "-q"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "landmarks" in err, "letters reads hands, not these clips"
    assert main(["train", str(data), "--model", "seq-tcn", "--finetune", "--out", str(tmp_path / "z"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "'seq-tcn' is an architecture" in err and "leave out --finetune" in err, "not 'model not found'"
    assert main(["train", str(data), "--model", "words", "--out", str(tmp_path / "w"), "-q"]) == 1
    assert "'words' is a trained model, not an architecture: add --finetune" in capsys.readouterr().err
    assert main(["models", "seq-tcn"]) == 0, "an architecture that `aslkit models` lists is described"
    assert capsys.readouterr().out.startswith("seq-tcn [sequence] ")


@pytest.mark.parametrize("classes", ["no,thank-you", "hello,no,thank-you"])
def test_finetune_keeps_the_output_of_each_sign_the_model_knows_by_name(tmp_path: Path, classes: str) -> None:
    """A sign the trained model knows keeps its own output row, a new one gets a fresh row, whatever the
    count: with as many classes as the model had, rows were once copied by position ("no" got "hello"'s)."""
    data = _synthetic_npz(tmp_path / "signs.npz", per_class=6)
    base = train(data, out=tmp_path / "base", model="seq-tcn", classes="hello,no", epochs=3, progress=False,
                 model_kwargs={"dim": 32, "blocks": 1}, seq_length=12).model  # fmt: skip
    ft = train(data, out=tmp_path / "ft", finetune=str(tmp_path / "base"), classes=classes, epochs=1, lr=1e-12,
               progress=False).model  # fmt: skip
    w, b = base.tensors["head.1.weight"], base.tensors["head.1.bias"]
    for i, lab in enumerate(ft.labels):
        if lab in base.labels:
            j = base.labels.index(lab)
            assert np.allclose(ft.tensors["head.1.weight"][i], w[j], atol=1e-6), f"{lab} keeps its output"
            assert np.allclose(ft.tensors["head.1.bias"][i], b[j], atol=1e-6)
        else:
            assert not any(np.allclose(ft.tensors["head.1.weight"][i], w[j], atol=1e-5) for j in range(len(w))), (
                f"{lab} is new: a fresh output, not another sign's"
            )
    assert np.allclose(ft.tensors["stem.0.weight"], base.tensors["stem.0.weight"], atol=1e-6)
