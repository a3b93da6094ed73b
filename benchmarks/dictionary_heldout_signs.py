"""Signs by example on signs AND signers the encoder never saw: the honest figure for a sign dictionary.

    .venv/bin/python benchmarks/dictionary_heldout_signs.py --out runs/dict-heldout [--resume] [--with-letters]

The word labels of both landmark sets (words-many-signers.npz, words-pose-hands.npz: 61 labels) are the
dictionary. The 19 signs that two or more signers made are dealt into three folds; per fold, the shipped
``sign-encoder`` recipe (seq-tcn, 40 epochs, no threshold, seed 0) is trained without that fold's signs,
so each sign is scored by an encoder that never saw it. For each such sign and up to 20 (signer A, signer
B) pairs, the dictionary holds A's first take of that sign and one take of every other label (by the first
signer, sorted, who made it); every take of B is a query. Reported: top-1 and top-5 per sign, their mean over
signs, and over all queries. About 15 minutes on 2 cores. Writes one encoder run per fold and results.md.
``--with-letters`` also trains each fold's encoder on letters-hands.npz (fingerspelled letters, hands only, the
pose block left empty): a lead that is not the shipped recipe.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sign-sequences"
SOURCES = ("words-many-signers.npz", "words-pose-hands.npz")
LETTERS = "letters-hands.npz"
FOLDS = (
    ("thank-you", "yes", "help", "hungry", "A", "medium", "water"),  # labels as aslkit reads them (a -> A)
    ("hello", "no", "sorry", "can", "muffin", "tea"),
    ("iloveyou", "please", "fine", "coffee", "get", "small"),
)
PAIRS = 20


def _encoder(out: Path, k: int, labels: list[str], sources: tuple[str, ...]) -> Path:
    from aslkit.training.trainer import train

    run = out / f"encoder-fold{k}"
    if not (run / "model.json").exists():
        keep = ",".join(lab for lab in labels if lab not in FOLDS[k])
        train([DATA / s for s in sources], out=run, model="seq-tcn", classes=keep, seq_min_confidence=0.0,
              epochs=40, split="0.85,0.15", seed=0)  # fmt: skip
    return run


def _ranks(z: np.ndarray, labels: np.ndarray, signers: np.ndarray, sign: str, rng: np.random.Generator) -> list[int]:
    words = sorted(set(labels))
    first = {w: np.flatnonzero((labels == w) & (signers == sorted(set(signers[labels == w]))[0]))[0] for w in words}
    who = sorted(set(signers[labels == sign]))
    pairs = [(a, b) for a in who for b in who if a != b]
    rng.shuffle(pairs)
    out = []
    for a, b in pairs[:PAIRS]:
        entry = dict(first)
        entry[sign] = np.flatnonzero((labels == sign) & (signers == a))[0]
        g = z[[entry[w] for w in words]]
        sims = z[(labels == sign) & (signers == b)] @ g.T
        right = sims[:, words.index(sign)]
        out += ((sims > right[:, None]).sum(1) + 1).tolist()
    return out


def main() -> None:
    from aslkit.data.sequences import concat_sequences
    from aslkit.landmarks.holistic import load_sequences
    from aslkit.models.io import load_model
    from aslkit.outputs import check_new_folder
    from aslkit.training.dictionary import embed_clips

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--resume", action="store_true", help="reuse the fold encoders already in --out")
    ap.add_argument("--with-letters", action="store_true", help="the encoders also learn letters-hands.npz")
    a = ap.parse_args()
    if not a.resume:
        check_new_folder(a.out, [DATA], flag="--out", what="the data")
    a.out.mkdir(parents=True, exist_ok=True)
    data = concat_sequences([load_sequences(DATA / s) for s in SOURCES])
    labels, signers = np.array(data.labels), np.array(data.signers)
    sources = (*SOURCES, LETTERS) if a.with_letters else SOURCES
    every_label = sorted(
        {lab for s in sources for lab in (data.labels if s in SOURCES else load_sequences(DATA / s).labels)}
    )
    missing = sorted({s for fold in FOLDS for s in fold} - set(data.labels))
    if missing:
        raise SystemExit(f"signs not in the data: {missing}")
    per: dict[str, list[int]] = {}
    for k, fold in enumerate(FOLDS):
        z = embed_clips(load_model(_encoder(a.out, k, every_label, sources)), data)
        rng = np.random.default_rng(k)
        for sign in fold:
            per[sign] = _ranks(z, labels, signers, sign, rng)
    rows = ["| sign | signers | queries | top-1 | top-5 |", "|---|---|---|---|---|"]
    for sign, r in per.items():
        r = np.array(r)
        rows.append(f"| {sign} | {len(set(signers[labels == sign]))} | {len(r)} | {100 * np.mean(r == 1):.0f}% | "
                    f"{100 * np.mean(r <= 5):.0f}% |")  # fmt: skip
    t1 = np.mean([np.mean(np.array(r) == 1) for r in per.values()])
    t5 = np.mean([np.mean(np.array(r) <= 5) for r in per.values()])
    allr = np.concatenate([np.array(r) for r in per.values()])
    q1, q5 = 100 * np.mean(allr == 1), 100 * np.mean(allr <= 5)
    rows += ["", f"{len(set(data.labels))} words in the dictionary, one example each. Mean over signs: top-1 "
             f"{100 * t1:.1f}%, top-5 {100 * t5:.1f}%. Over all {len(allr)} queries: top-1 {q1:.1f}%, "
             f"top-5 {q5:.1f}%."]  # fmt: skip
    text = "\n".join(rows)
    (a.out / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
