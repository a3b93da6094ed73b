"""Signs by example on real videos: a sign dictionary of every word in word-videos/ from one source's clip,
scored on another source's clip of the same word (the words with clips from two sources), both ways round.

Usage: .venv/bin/python scripts/dictionary_by_source.py OUT_DIR [--data ../shared/data/word-videos]
[--encoder sign-encoder]. OUT_DIR (new) gets symlinked example/query folders, the dictionaries and results.md.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from aslkit.data.sequences import video_files
from aslkit.evaluation.evaluate import evaluate_sequences
from aslkit.inference.sequence_recognizer import SequenceRecognizer
from aslkit.outputs import check_new_folder
from aslkit.training.dictionary import build_dictionary


def _source(f: Path) -> str:
    return f.name.split("-", 1)[0]


def _link(root: Path, files: list[Path]) -> Path:
    for f in files:
        (root / f.parent.name).mkdir(parents=True, exist_ok=True)
        (root / f.parent.name / f.name).symlink_to(f.resolve())
    return root


def run(data: Path, out: Path, encoder: str) -> str:
    by_word: dict[str, list[Path]] = defaultdict(list)
    for f in video_files(data):
        by_word[f.parent.name].append(f)
    pairs = {w: fs for w, fs in by_word.items() if len({_source(f) for f in fs}) >= 2}
    rows, lines = [], []
    for way, pick in (("dictionary from kirichovka", 0), ("dictionary from the other source", 1)):
        ex, qs = [], []
        for w, fs in sorted(by_word.items()):
            fs = sorted(fs, key=lambda f: _source(f) != "kirichovka")  # kirichovka's first
            ex.append(fs[pick] if w in pairs else fs[0])
            qs += [f for f in fs if w in pairs and f != ex[-1]]
        d = out / f"way{pick}"
        build_dictionary(_link(d / "examples", ex), d / "dict", encoder=encoder, progress=False)
        m = evaluate_sequences(_link(d / "queries", qs), model=d / "dict", progress=False)
        rec = SequenceRecognizer(d / "dict", top_k=len(by_word))
        for q in qs:
            got = rec.predict(q)
            rank = [lab for lab, _ in got.top].index(q.parent.name) + 1
            rows.append(f"| {way} | {q.parent.name}/{q.name} | {got.label} | {rank} |")
        top1, top5 = 100 * m["accuracy"], 100 * m["top5_accuracy"]
        lines.append(f"| {way} | {len(by_word)} | {m['n']} | {top1:.1f}% | {top5:.1f}% |")
    return "\n".join(["| way | words | queries | top-1 | top-5 |", "|---|---|---|---|---|", *lines, "",
                      "| way | query | answer | rank of the right word |", "|---|---|---|---|", *rows])  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/word-videos")
    ap.add_argument("--encoder", default="sign-encoder")
    a = ap.parse_args()
    check_new_folder(a.out, [a.data], flag="OUT_DIR", what="the videos")
    a.out.mkdir(parents=True, exist_ok=True)
    text = run(a.data, a.out, a.encoder)
    (a.out / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
