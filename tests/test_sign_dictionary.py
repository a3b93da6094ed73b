"""Signs by example (`train --model sign-dictionary`): words from a few clips with no training, ranked by
cosine to each word's prototype, grown with --add without touching the words already there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import snapshot, template_landmarks

from aslkit.cli import main
from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.sequence_recognizer import SequenceRecognizer
from aslkit.models.io import load_model
from aslkit.training.dictionary import build_dictionary, embed_clips
from aslkit.training.trainer import train

# each "sign": a hand shape (which fingers are extended) and the direction it moves in (angle / pi). Each
# has its own shape: a pooled embedding keeps the shape far better than the direction of a movement
SIGNS = {"hello": ((True,) * 5, 0.0), "no": ((False,) * 5, 0.5), "thank-you": ((False, True, False, False, False), 0.5),
         "water": ((False, True, True, False, False), 0.0), "yes": ((True, False, False, False, True), 0.5),
         "help": ((True, True, True, False, False), 0.0)}  # fmt: skip


def _clip(word: str, signer: int, rng: np.random.Generator, frames: int = 14) -> np.ndarray:
    """The word's hand shape moving in its direction; each signer at their own size, place and speed."""
    scale, off, n = ((1.0, 0.0, frames), (0.7, 0.1, frames + 5), (1.2, -0.05, frames - 3))[signer]
    shape, direction = SIGNS[word]
    base = template_landmarks(shape).astype(np.float32)
    base[:, :2] = (base[:, :2] - base[:, :2].mean(0)) / np.ptp(base[:, :2], axis=0).max() * 0.1
    ang = np.pi * direction
    t = np.linspace(0, 1, n)[:, None, None]
    hand = base[None] + t * 0.25 * np.array([np.cos(ang), np.sin(ang), 0], np.float32)
    hand = (hand * scale + 0.5 + off) + rng.normal(0, 0.004, hand.shape)
    right = hand.reshape(n, -1).astype(np.float32)
    return np.concatenate([np.zeros_like(right), right], 1)


def _folder(root: Path, words: list[str], signer: int, takes: int = 2, seed: int = 0) -> Path:
    """``<word>/<take>.npy`` clips of one signer: what a user's example folder looks like."""
    rng = np.random.default_rng(seed)
    for w in words:
        (root / w).mkdir(parents=True, exist_ok=True)
        for k in range(takes):
            np.save(root / w / f"take{k}.npy", _clip(w, signer, rng))
    return root


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny seq-tcn trained on two of the four 'signs' (hello, no) by all three signers."""
    root = tmp_path_factory.mktemp("enc")
    rng = np.random.default_rng(1)
    seqs, labels, signers = [], [], []
    for s in range(3):
        for w in ("hello", "no"):
            for _ in range(8):
                c = _clip(w, s, rng)
                seqs.append(np.concatenate([c, np.zeros((20 - len(c), 126), np.float32)]))
                labels.append(w)
                signers.append(f"s{s}")
    np.savez(root / "enc.npz", sequences=np.stack(seqs), label=np.array(labels), signer=np.array(signers))
    train(root / "enc.npz", out=root / "run", model="seq-tcn", epochs=4, progress=False,
          model_kwargs={"dim": 32, "blocks": 1}, seq_length=12)  # fmt: skip
    return root / "run"


def test_words_the_encoder_never_saw_are_found_for_other_signers(encoder: Path, tmp_path: Path) -> None:
    words = list(SIGNS)  # all but hello and no are new to the encoder
    examples = _folder(tmp_path / "examples", words, signer=0)
    res = build_dictionary(examples, tmp_path / "dict", encoder=encoder, progress=False)
    d = load_model(tmp_path / "dict")
    assert d.architecture == "sign-dictionary" and d.labels == sorted(words)
    assert d.tensors["counts"].tolist() == [2.0] * 6 and res.metrics["examples_added"] == 12
    assert "encoder.stem.0.weight" in d.tensors and not any(k.startswith("encoder.head") for k in d.tensors)
    rec = SequenceRecognizer(tmp_path / "dict")
    rng = np.random.default_rng(7)
    hits = [rec.predict_frames(_clip(w, s, rng)).label == w for w in words for s in (1, 2) for _ in range(3)]
    assert np.mean(hits) >= 0.9, f"other signers' clips: {np.mean(hits):.2f} top-1"
    top = rec.predict_frames(_clip("water", 1, rng)).top
    assert len(top) == 5 and top[0][0] == "water" and top[0][1] > top[1][1] >= top[4][1], "five words, best first"


def test_prototype_is_the_mean_of_the_examples_unit_embeddings(encoder: Path, tmp_path: Path) -> None:
    from aslkit.landmarks.holistic import load_sequences

    examples = _folder(tmp_path / "ex", ["hello", "water"], signer=1, takes=3)
    build_dictionary(examples, tmp_path / "dict", encoder=encoder, progress=False)
    d = load_model(tmp_path / "dict")
    z = embed_clips(load_model(encoder), load_sequences(examples))
    labels = load_sequences(examples).labels
    for i, w in enumerate(d.labels):
        want = z[[j for j, lab in enumerate(labels) if lab == w]].sum(0)
        assert np.allclose(d.tensors["prototypes"][i], want, atol=1e-5)


def test_add_grows_a_copy_and_leaves_the_old_words_and_folder_alone(encoder: Path, tmp_path: Path, capsys) -> None:
    first = _folder(tmp_path / "first", ["hello", "no"], signer=0)
    more = _folder(tmp_path / "more", ["thank-you", "hello"], signer=1, takes=1, seed=3)
    assert main(["train", str(first), "--model", "sign-dictionary", "--encoder", str(encoder),
                 "--out", str(tmp_path / "d1"), "-q"]) == 0  # fmt: skip
    assert "2 words (2 new), 4 example(s)" in capsys.readouterr().out
    before = snapshot(tmp_path / "d1")
    assert main(["train", str(more), "--add", str(tmp_path / "d1"), "--out", str(tmp_path / "d2"), "-q"]) == 0
    assert "3 words (1 new), 2 example(s)" in capsys.readouterr().out
    assert snapshot(tmp_path / "d1") == before, "--add writes a new dictionary, never into the old one"
    d1, d2 = load_model(tmp_path / "d1"), load_model(tmp_path / "d2")
    assert d2.labels == ["hello", "no", "thank-you"]
    assert d2.tensors["counts"].tolist() == [3.0, 2.0, 1.0], "hello got one more example"
    assert np.array_equal(d2.tensors["prototypes"][1], d1.tensors["prototypes"][1]), "no is untouched"
    assert not np.allclose(d2.tensors["prototypes"][0], d1.tensors["prototypes"][0])
    assert d2.meta["encoder_id"] == d1.meta["encoder_id"]
    for k, v in d1.tensors.items():
        if k.startswith("encoder."):
            assert np.array_equal(v, d2.tensors[k]), f"{k}: the encoder is kept as it was"
    # the grown copy answers for the new word
    assert SequenceRecognizer(tmp_path / "d2").predict(more / "thank-you" / "take0.npy").label == "thank-you"
    rows = [line.split(",") for line in (tmp_path / "d2" / "words.csv").read_text().splitlines()[1:]]
    want = [("hello", "3", "first")] * 2 + [("hello", "3", "more")] + [("no", "2", "first")] * 2
    want += [("thank-you", "1", "more")]
    got = sorted((r[0], r[1], Path(r[2]).parent.parent.name) for r in rows)
    assert got == want, "every example of the grown dictionary, with its word's count now"
    # its own examples given again count once, not twice (each found itself in the self-check: 100%)
    assert main(["train", str(first), str(tmp_path / "more"), "--add", str(tmp_path / "d2"), "--out",
                 str(tmp_path / "d3"), "-q"]) == 1  # fmt: skip
    assert "every example given (6) is already in the dictionary" in capsys.readouterr().err
    extra = _folder(tmp_path / "extra", ["no"], signer=2, takes=1, seed=5)
    res = build_dictionary([first, extra], tmp_path / "d4", add=tmp_path / "d2", progress=False)
    assert load_model(tmp_path / "d4").tensors["counts"].tolist() == [3.0, 3.0, 1.0], "only the new example counts"
    assert sum("already an example of this dictionary" in w for w in res.metrics["left_out_files"]) == 4


def test_examples_with_no_hand_or_too_few_frames_are_left_out(encoder: Path, tmp_path: Path, capsys) -> None:
    """predict refuses a clip under 5 frames, and a clip with no hand stands for no sign: neither becomes a word's
    example; a clip with no hand is answered with no word, not whichever word is nearest to nothing."""
    examples = _folder(tmp_path / "ex", ["hello", "water"], signer=0)
    np.save(examples / "water" / "short.npy", _clip("water", 0, np.random.default_rng(0), frames=4))
    (examples / "empty").mkdir()
    np.save(examples / "empty" / "none.npy", np.zeros((12, 126), np.float32))
    res = build_dictionary(examples, tmp_path / "dict", encoder=encoder, progress=False)
    assert load_model(tmp_path / "dict").labels == ["hello", "water"] and res.metrics["examples_added"] == 4
    why = sorted(w.split(": ", 1)[1] for w in res.metrics["left_out_files"])
    assert why == ["no hand in any frame", "the clip has 4 frame(s); a sign needs at least 5"], why
    got = SequenceRecognizer(tmp_path / "dict").predict(examples / "empty" / "none.npy")
    assert (got.label, got.top, got.hand) == (None, [], False) and "\tno sign\t" in got.text_line()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--add", "letters"], "--add takes a sign dictionary"),
        (["--model", "sign-dictionary", "--encoder", "letters"], "seq-tcn sign model"),
        (["--model", "sign-dictionary", "--epochs", "5"], "takes no training options (got epochs)"),
        (["--model", "sign-dictionary", "--encoder", "no-such-model"], "not found"),
    ],
)
def test_bad_dictionary_requests_are_one_line(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    examples = _folder(tmp_path / "ex", ["hello", "no"], signer=0, takes=1)
    assert main(["train", str(examples), "--out", str(tmp_path / "d"), "-q", *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists(), "nothing written on a refused request"


def test_one_word_and_out_inside_the_examples_are_refused(encoder: Path, tmp_path: Path) -> None:
    one = _folder(tmp_path / "one", ["hello"], signer=0)
    with pytest.raises(AslkitError, match="at least 2 words"):
        build_dictionary(one, tmp_path / "d", encoder=encoder, progress=False)
    assert not (tmp_path / "d").exists()
    two = _folder(tmp_path / "two", ["hello", "no"], signer=0)
    with pytest.raises(AslkitError, match="--out"):
        build_dictionary(two, two / "dict", encoder=encoder, progress=False)
    build_dictionary(two, tmp_path / "d2", encoder=encoder, progress=False)
    with pytest.raises(AslkitError, match="already holds a trained model"):
        build_dictionary(two, tmp_path / "d2", encoder=encoder, progress=False)


def test_evaluate_scores_a_dictionary_top1_and_top5(encoder: Path, tmp_path: Path) -> None:
    from aslkit.evaluation.evaluate import evaluate_sequences, evaluate_text

    build_dictionary(
        _folder(tmp_path / "ex", list(SIGNS), signer=0), tmp_path / "dict", encoder=encoder, progress=False
    )
    queries = _folder(tmp_path / "queries", list(SIGNS), signer=2, takes=2, seed=5)
    m = evaluate_sequences(queries, model=tmp_path / "dict", progress=False)
    assert m["n"] == 12 and 0.9 <= m["accuracy"] <= m["top5_accuracy"] == 1.0
    assert "top-5 accuracy: 100.00%" in evaluate_text(m)
    wrong = tmp_path / "wrong"  # every take filed under the next word: nothing right, even in the top 5 of 6?
    names = list(SIGNS)
    for i, w in enumerate(names):
        (wrong / names[(i + 1) % 6]).mkdir(parents=True)
        for f in (queries / w).iterdir():
            (wrong / names[(i + 1) % 6] / f.name).write_bytes(f.read_bytes())
    m2 = evaluate_sequences(wrong, model=tmp_path / "dict", progress=False)
    assert m2["accuracy"] <= 0.1 and m2["top5_accuracy"] < 1.0


def test_two_spellings_of_one_word_are_one_word_or_refused(tmp_path: Path) -> None:
    """Hello and hello became two words (and two classes when trained); evaluation matches them as one."""
    from aslkit.training.trainer import train

    src = tmp_path / "src.npz"
    rng = np.random.default_rng(0)
    seqs = rng.uniform(0.3, 0.7, (6, 20, 258)).astype(np.float32)
    np.savez(src, sequences=seqs, label=np.array(["Hello", "hello", "water", "water", "Hello", "tea"]))
    with pytest.raises(DatasetError, match="'Hello' and 'hello' name one sign"):
        train(src, tmp_path / "run", model="seq-tcn", epochs=1, progress=False, cache_dir=None)
    with pytest.raises(DatasetError, match="'Hello' and 'hello' name one sign"):
        build_dictionary(src, tmp_path / "dict", progress=False, cache_dir=None)
    assert not (tmp_path / "run").exists() and not (tmp_path / "dict").exists()
