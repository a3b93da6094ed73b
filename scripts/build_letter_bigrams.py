"""Write the letter statistics the spelling decoder's optional language prior uses (``lm_weight``).

    pip install wordfreq==3.1.1   # once, in a scratch environment: aslkit itself never needs it
    python scripts/build_letter_bigrams.py [--words 30000] [--out src/aslkit/weights/letter-bigrams.json]

Why these counts: people fingerspell names, places and rarer words more than "the" or "and", so each of the
``--words`` most frequent English words (letters only, two or more) counts once, whatever its frequency. Add-one
smoothing keeps every pair possible (a name may hold any pair). The file keeps log-probabilities: the first letter
of a word (``start``), the next letter after each letter (``next``, rows A-Z), and each letter's share of all
letters (``letter``). Word list: wordfreq 3.1.1 (Robyn Speer; its English data is CC BY-SA 4.0), credited in the
file's ``source``.
"""

from __future__ import annotations

import argparse
import json
import math
import string
from pathlib import Path

LETTERS = string.ascii_uppercase


def letter_counts(words: list[str]) -> tuple[list[float], list[list[float]], list[float]]:
    """Add-one counts: (first letters, next letter after each letter, every letter)."""
    start = [1.0] * 26
    nxt = [[1.0] * 26 for _ in range(26)]
    every = [1.0] * 26
    for w in words:
        idx = [LETTERS.index(c) for c in w]
        start[idx[0]] += 1
        for a, b in zip(idx, idx[1:], strict=False):
            nxt[a][b] += 1
        for i in idx:
            every[i] += 1
    return start, nxt, every


def log_probs(row: list[float]) -> list[float]:
    total = sum(row)
    return [round(math.log(c / total), 4) for c in row]


def rows_json(obj: dict) -> str:
    """JSON with one table row per line: a person can read the file and a diff shows which letters moved."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], list):
            body = ",\n".join("  " + json.dumps(row) for row in v)
            lines.append(f"{json.dumps(k)}: [\n{body}\n ]")
        else:
            lines.append(f"{json.dumps(k)}: {json.dumps(v)}")
    return "{\n " + ",\n ".join(lines) + "\n}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=30000, help="how many of the most frequent English words")
    ap.add_argument("--out", type=Path, default=Path("src/aslkit/weights/letter-bigrams.json"))
    args = ap.parse_args()
    import wordfreq

    words = [w.upper() for w in wordfreq.top_n_list("en", args.words * 2) if w.isascii() and w.isalpha()]
    words = [w for w in words if len(w) >= 2][: args.words]
    start, nxt, every = letter_counts(words)
    out = {
        "format": "aslkit-letter-bigrams-v1",
        "source": f"the {len(words)} most frequent English words of wordfreq 3.1.1 (Robyn Speer; data CC BY-SA 4.0), "
        "each counted once; add-one smoothing",
        "letters": LETTERS,
        "start": log_probs(start),
        "next": [log_probs(r) for r in nxt],
        "letter": log_probs(every),
    }
    args.out.write_text(rows_json(out), encoding="utf-8")
    print(f"wrote {args.out} from {len(words)} words")


if __name__ == "__main__":
    main()
