"""How a leave-signers-out run reads iloveyou, split by whether each signer makes the I-love-you hand shape.

    .venv/bin/python benchmarks/words_handshape_split.py runs/cv/RUN [--data DIR] [--min-share 0.5]

Why: iloveyou is the weakest sign held out (78.9% on the words recipe), and some signers sign "I love you" other
ways (two fists at the chest, the little finger alone) or recorded takes under the wrong label. A check that uses
neither the model nor the labels tells those apart: the share of a signer's hand frames, in their iloveyou clips,
in the I-love-you shape (index and little finger out, middle and ring folded; each finger's tip-to-wrist distance
against its knuckle-to-wrist distance). Each fold model of RUN (``aslkit train ... --cv signer``) then reads its
own held-out signers' clips, as ``--cv`` scored them, and the iloveyou figure is given for signers with at least
``--min-share`` of such frames and for the others. Nothing is tuned here; it only reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = ("sign-sequences/words-many-signers.npz", "sign-sequences/words-pose-hands.npz")
SIGN = "iloveyou"


def ily_shape(hand: np.ndarray) -> bool:
    """One hand (21, 3): index and little finger out, middle and ring folded."""
    wrist = hand[0, :2]

    def out(knuckle: int, tip: int) -> float:
        return float(np.linalg.norm(hand[tip, :2] - wrist) / max(np.linalg.norm(hand[knuckle, :2] - wrist), 1e-6))

    index, middle, ring, little = out(5, 8), out(9, 12), out(13, 16), out(17, 20)
    return middle < 1.3 and ring < 1.3 and index > 1.5 and little > 1.5


def shape_shares(data) -> dict[str, float]:
    """Per signer: the share of hand frames in their iloveyou clips that show the I-love-you shape."""
    from aslkit.landmarks.sequence_features import present, split_frames

    frames: dict[str, list[bool]] = {}
    for seq, label, signer in zip(data.sequences, data.labels, data.signers, strict=True):
        if label != SIGN:
            continue
        _, left, right = split_frames(seq, data.layout)
        for hand in (left, right):
            frames.setdefault(signer, []).extend(ily_shape(hand[f]) for f in np.flatnonzero(present(hand)))
    return {s: float(np.mean(v)) if v else 0.0 for s, v in frames.items()}


def held_out_reads(run: Path, data) -> list[tuple[str, str, str]]:
    """(signer, label, read) for every clip each fold model of ``run`` was scored on."""
    from aslkit.inference.sequence_recognizer import sequence_decisions, sequence_probabilities
    from aslkit.models.io import load_model

    rows = []
    for fold in json.loads((run / "cv.json").read_text(encoding="utf-8"))["folds"]:
        model = load_model(run / f"fold-{fold['fold']}")
        held = set(fold["signers"])
        trained = {lab for s, lab in zip(data.signers, data.labels, strict=True) if s not in held}
        idx = [i for i, (s, lab) in enumerate(zip(data.signers, data.labels, strict=True))
               if s in held and lab in trained and lab in model.labels]  # fmt: skip
        test = data.subset(idx)
        reads, _ = sequence_decisions(model, sequence_probabilities(model, test))
        rows += [(s, lab, str(p)) for s, lab, p in zip(test.signers, test.labels, reads, strict=True)]
    return rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a --cv signer output folder (cv.json and fold-K/)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--min-share", type=float, default=0.5)
    args = ap.parse_args(argv)
    from aslkit.data.sequences import concat_sequences, read_sequence_npz

    data = concat_sequences([read_sequence_npz(args.data / s) for s in SETS])
    shares = shape_shares(data)
    rows = held_out_reads(args.run, data)
    out = {"run": str(args.run), "clips": len(rows), "accuracy": float(np.mean([lab == p for _, lab, p in rows]))}
    for name, want in (("shape", True), ("other", False)):
        mine = [(s, lab, p) for s, lab, p in rows if lab == SIGN and (shares[s] >= args.min_share) == want]
        out[name] = {"signers": len({s for s, _, _ in mine}), "clips": len(mine),
                     "accuracy": float(np.mean([lab == p for _, lab, p in mine])) if mine else None}  # fmt: skip
    print(f"{args.run}: {out['clips']} held-out clips, {100 * out['accuracy']:.2f}% right")
    for name, what in (("shape", ">="), ("other", "<")):
        f = out[name]
        acc = "-" if f["accuracy"] is None else f"{100 * f['accuracy']:.1f}%"
        print(f"  {SIGN}, signers with I-love-you shape frames {what} {args.min_share:g}: {f['signers']} signers, "
              f"{f['clips']} clips, {acc}")  # fmt: skip
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
