"""Fingerspelled letters as the `words` model's no-sign class: writes OUT.npz from letters-hands.npz.

Why: live, with `word_model=words`, the word model sees every window of the stream. Never shown fingerspelling, it
read held letters as the signs nearest them (the alphabet video wrote `iloveyou A C no A thank-you ...`). Shown
fingerspelled letters as `-`, it leaves them to the letter model. Every EVERY-th clip of each letter but A (the word
sets sign `a` themselves), Space and idle, labelled `-`; signers renamed `fs-NAME`, so that leave-signers-out
cross-validation keeps them apart from the word sets' own signers.

Usage: .venv/bin/python scripts/fingerspelling_idle.py OUT.npz [--data ../shared/data/sign-sequences] [--every 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KEEP_OUT = ("A", "a")  # the word sets' own sign `a`


def write(data: Path, out: Path, every: int) -> int:
    """Write the clips; returns how many."""
    if out.exists():
        raise SystemExit(f"{out} exists: give a new file")
    z = np.load(data / "letters-hands.npz", allow_pickle=False)
    labels = z["label"]
    keep = ~np.isin(labels, KEEP_OUT) & (np.arange(len(labels)) % every == 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    signers = np.char.add("fs-", z["signer"][keep].astype(str))
    np.savez_compressed(out, sequences=z["sequences"][keep], label=np.full(int(keep.sum()), "-"), signer=signers)
    return int(keep.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sign-sequences")
    ap.add_argument("--every", type=int, default=4, help="keep every k-th clip (default 4: 750 of 3150)")
    a = ap.parse_args()
    if a.every < 1:
        raise SystemExit("--every: 1 or more")
    print(f"wrote {a.out}: {write(a.data, a.out, a.every)} clips labelled -")


if __name__ == "__main__":
    main()
