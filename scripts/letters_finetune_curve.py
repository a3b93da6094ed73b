"""How many photos of their own does a person need before the letter model reads them? `train --finetune`.

For each person of ``letters-more-people``, the start is the leave-one-person-out fold model that never saw them
(``benchmarks/lopo_letters.py --out LOPO``: the shipped recipe without that person). The person's folder then
lends K photos per letter (the first K of each letter's sorted names, nested: the 1 are among the 3, the 3 among
the 5) to a folder of links, and the fold model is fine-tuned on it as a user would:

    aslkit train MY_PHOTOS/ --model LOPO/PERSON --finetune --split 0.85,0.15 --seed 0 --out ...

Scored on the person's OTHER photos of those letters (end to end, with the model's own views), and on Massey
(never trained on; does the model forget other people?). A person's photos of one letter are frames of one
burst, near-copies of each other, so the person's figures measure how fast a model settles on one person's way of
forming each letter from a single session, not how it reads that person on another day or camera.

Writes OUT/letters_finetune_curve.md (the table, also printed) and OUT/results.json; runs already finished in OUT
are reused.

    .venv/bin/python scripts/letters_finetune_curve.py OUT --lopo runs/lopo [--people a,b] [--k 1,3,5] [--lr 0.0003]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PEOPLE = ("lisadounia", "kynmiiso", "carbonara21", "prasukj7", "zarakiliz")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def link_photos(person: Path, dest: Path, pick) -> int:
    """dest/<letter>/<name> -> the person's photos that ``pick(sorted names)`` chooses; returns how many."""
    n = 0
    for letter in sorted(p for p in person.iterdir() if p.is_dir()):
        names = sorted(f for f in letter.iterdir() if f.suffix.lower() in PHOTO_SUFFIXES)
        for f in pick(names):
            (dest / letter.name).mkdir(parents=True, exist_ok=True)
            (dest / letter.name / f.name).symlink_to(f.resolve())
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from aslkit.errors import AslkitError
    from aslkit.evaluation.evaluate import evaluate
    from aslkit.outputs import check_new_folder
    from aslkit.training.trainer import train

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="new or empty folder (an unfinished one is continued)")
    ap.add_argument("--lopo", type=Path, required=True, help="the --out of benchmarks/lopo_letters.py")
    ap.add_argument("--people", default=",".join(PEOPLE))
    ap.add_argument("--k", default="1,3,5", help="photos per letter to fine-tune on")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--lr", type=float, default=None, help="the fine-tuning's peak learning rate (default: [train] lr)")
    a = ap.parse_args(argv)
    people = [p for p in a.people.split(",") if p]
    ks = sorted({int(k) for k in a.k.split(",") if k})
    try:
        missing = [p for p in people if not (a.lopo / p / "model.json").is_file()]
        if missing:
            raise AslkitError(f"{a.lopo}: no fold model for {', '.join(missing)} (run benchmarks/lopo_letters.py)")
        if not (a.out / "results.json").exists() and not any((a.out / p).exists() for p in people):
            check_new_folder(a.out, [a.data], flag="OUT", what="the shared data")
        a.out.mkdir(parents=True, exist_ok=True)
        rows = []
        for p in people:
            src = a.data / "letters-more-people" / p
            for k in [0, *ks]:
                test = a.out / p / f"test-k{max(ks)}"  # the same photos are scored for every K
                if not test.exists():
                    link_photos(src, test, lambda names: names[max(ks) :])
                if k == 0:
                    model = a.lopo / p
                else:
                    run = a.out / p / f"run-k{k}"
                    if not (run / "model.json").exists():
                        mine = a.out / p / f"photos-k{k}"
                        if not mine.exists():
                            link_photos(src, mine, lambda names, k=k: names[:k])
                        lr = {} if a.lr is None else {"lr": a.lr}
                        train(mine, out=run, model=str(a.lopo / p), finetune=str(a.lopo / p), split="0.85,0.15",
                              seed=0, progress=False, **lr)  # fmt: skip
                    model = run
                person = evaluate(test, model=model, progress=False)
                massey = evaluate(a.data / "massey-letters", model=model, progress=False)
                rows.append({"person": p, "k": k, "person_accuracy": person["accuracy"],
                             "massey": massey["accuracy"]})  # fmt: skip
                print(f"{p:12s} k={k}: person {100 * person['accuracy']:.2f}%  Massey {100 * massey['accuracy']:.2f}%")
    except AslkitError as e:
        print(f"letters_finetune_curve: error: {e}", file=sys.stderr)
        return 1
    lines = ["| person | " + " | ".join(["no photos (fold model)"] + [f"{k} per letter" for k in ks]) + " |",
             "|---|" + "---|" * (len(ks) + 1)]  # fmt: skip
    for p in people:
        r = {x["k"]: x for x in rows if x["person"] == p}
        cells = [f"{100 * r[k]['person_accuracy']:.1f}% ({100 * r[k]['massey']:.1f}%)" for k in [0, *ks]]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    mean = [sum(x["person_accuracy"] for x in rows if x["k"] == k) / len(people) for k in [0, *ks]]
    lines.append("| **mean** | " + " | ".join(f"**{100 * m:.1f}%**" for m in mean) + " |")
    head = f"Person's other photos, end to end (Massey in brackets); lr {a.lr or 'default'}"
    text = head + "\n\n" + "\n".join(lines) + "\n"
    (a.out / "letters_finetune_curve.md").write_text(text, encoding="utf-8")
    (a.out / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
