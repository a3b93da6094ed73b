"""Leave one person out: the shipped letter recipe, trained without each person of ``letters-more-people``
in turn and scored on that person, so that "other people" figures never come from a person the model saw.

    .venv/bin/python benchmarks/lopo_letters.py --out runs/lopo [--json] [--people a,b] [--set KEY=VALUE ...]

The recipe is the shipped ``letters`` model's own: the sources and options of
``scripts/train_default_letters.sh``, with the held-out person's set taken out of the sources.
``--set key=value`` changes one training option for every fold, which is how each row of
docs/letters-on-other-people.md section 6 was made. ``--with-letters-hands SIGNER,...`` adds those signers of
``sign-sequences/letters-hands.npz`` as letter frames (each static letter clip's 12 steadiest frames, J and Z
left out), written once to ``--out``/letters-hands-frames.npz. Per fold: ``aslkit evaluate`` on the held-out
person (end to end: a photo with no hand found counts as wrong) and on Massey (never trained on).
It writes one run folder per person under ``--out`` (a new or empty folder; an existing one is
continued only with ``--resume``, which skips the folds already done), then ``lopo.json`` and
``lopo.md`` there. Each fold takes about 1.5 minutes on 2 cores from cached landmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PEOPLE = ("lisadounia", "kynmiiso", "carbonara21", "prasukj7", "zarakiliz")
# scripts/train_default_letters.sh: every shared letter set except Massey and the detection valid split
SOURCES = (
    "asl-alphabet-photos",
    "asl-alphabet-kaggle",
    "asl-letters-detection/train",
    "hand-landmarks-letters/frames.npz",
)
RECIPE = {
    "landmark_stride": 4,
    "landmark_aspect": 1.7778,
    "split": "0.85,0.15",
    "seed": 0,
    "views": "auto",
}


def letters_hands_frames(data: Path, signers: list[str], out: Path) -> Path:
    """The static letters of ``signers`` in letters-hands.npz as a landmark-frames .npz (the layout of
    hand-landmarks-letters/frames.npz, with each row's handedness), so the letter recipe can train on them."""
    import numpy as np

    from aslkit.errors import AslkitError
    from aslkit.landmarks.spelling_stream import MOVING_LETTERS, _steady_window, load_letter_clips

    clips = load_letter_clips(data / "sign-sequences" / "letters-hands.npz", signers)
    missing = sorted(set(signers) - set(clips))
    if missing:
        raise AslkitError(f"no letters-hands.npz signer named {', '.join(missing)}")
    lm, labels, hands = [], [], []
    for by_letter in clips.values():
        for letter, cl in sorted(by_letter.items()):
            for c in cl if letter not in MOVING_LETTERS else []:
                a, b = _steady_window(c.points, 12)
                lm += list(c.points[a:b])
                labels += [letter] * (b - a)
                hands += [c.handedness] * (b - a)
    path = out / "letters-hands-frames.npz"
    np.savez(path, landmarks=np.stack(lm).astype(np.float32), label=np.array(labels), handedness=np.array(hands))
    return path


def fold(
    data: Path, held: str, people: tuple[str, ...], out: Path, overrides: dict, progress: bool, extra: tuple = ()
) -> dict:
    """Train without ``held``, score on ``held`` and on Massey; the run folder is out/held."""
    from aslkit.evaluation.evaluate import evaluate
    from aslkit.training.trainer import train

    run = out / held
    if not (run / "model.json").exists():
        sources = [data / s for s in SOURCES] + [data / "letters-more-people" / p for p in people if p != held]
        sources += list(extra)
        train(sources, out=run, model="landmark-mlp", progress=progress, **{**RECIPE, **overrides})
    person = evaluate(data / "letters-more-people" / held, model=run, progress=progress)
    massey = evaluate(data / "massey-letters", model=run, progress=progress)
    f1 = person["per_class_f1"]
    return {
        "accuracy": person["accuracy"],
        "macro_f1": person["macro_f1"],
        "detection_rate": person["detection_rate"],
        "under_0_90": sorted(k for k, v in f1.items() if v < 0.90 and k not in ("J", "Z")),
        "j_f1": f1.get("J"),
        "z_f1": f1.get("Z"),
        "massey": massey["accuracy"],
    }


def markdown(rows: dict[str, dict], overrides: dict) -> str:
    accs = [r["accuracy"] for r in rows.values()]
    lines = [
        "# Leave one person out: the shipped letters recipe" + (f" with {overrides}" if overrides else ""),
        "",
        "| person held out | end to end | macro F1 | under F1 0.90 (besides J, Z) | J / Z F1 | Massey |",
        "|---|---|---|---|---|---|",
    ]
    for p, r in rows.items():
        jz = " / ".join("-" if r[k] is None else f"{r[k]:.2f}" for k in ("j_f1", "z_f1"))
        lines.append(
            f"| {p} | {100 * r['accuracy']:.2f}% | {r['macro_f1']:.3f} | {' '.join(r['under_0_90']) or '-'} | {jz} "
            f"| {100 * r['massey']:.2f}% |"
        )
    lines.append(f"| **mean / worst** | **{100 * sum(accs) / len(accs):.2f}% / {100 * min(accs):.2f}%** | | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from aslkit.errors import AslkitError
    from aslkit.outputs import check_new_folder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="new or empty folder for the fold runs and the report")
    ap.add_argument("--resume", action="store_true", help="continue an unfinished --out: skip the folds done")
    ap.add_argument("--people", default=",".join(PEOPLE), help="comma-separated sets of letters-more-people")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a training option, repeatable")
    ap.add_argument("--with-letters-hands", default="", metavar="SIGNERS", help="add these letters-hands.npz signers")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    a = ap.parse_args(argv)
    try:
        people = tuple(p.strip() for p in a.people.split(",") if p.strip())
        missing = [p for p in people if not (a.data / "letters-more-people" / p).is_dir()]
        if missing or not people:
            raise AslkitError(f"no letters-more-people set named {', '.join(missing) or '(none given)'} in {a.data}")
        bad = [kv for kv in a.set if "=" not in kv]
        if bad:
            raise AslkitError(f"--set {bad[0]}: expected KEY=VALUE")
        overrides = {k.strip().replace("-", "_"): v.strip() for k, v in (kv.split("=", 1) for kv in a.set)}
        if not a.resume:
            check_new_folder(a.out, [a.data], flag="--out", what="the shared data")
        a.out.mkdir(parents=True, exist_ok=True)
        signers = [x.strip() for x in a.with_letters_hands.split(",") if x.strip()]
        extra = (letters_hands_frames(a.data, signers, a.out),) if signers else ()
        rows = {p: fold(a.data, p, people, a.out, overrides, not a.quiet, extra) for p in people}
    except AslkitError as e:
        print(f"lopo_letters: error: {e}", file=sys.stderr)
        return 1
    if a.with_letters_hands:
        overrides = {**overrides, "with_letters_hands": a.with_letters_hands}  # for the report only
    report = {"overrides": overrides, "people": rows}
    (a.out / "lopo.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (a.out / "lopo.md").write_text(markdown(rows, overrides), encoding="utf-8")
    print(json.dumps(report) if a.json else markdown(rows, overrides))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
