"""How many takes of a new sign does a new user need? `aslkit train --finetune` against training from scratch.

The shipped `words` model already knows every sign that several signers made, so the signs have to be new to the
model the user starts from: a base model is trained like the shipped one (scripts/train_default_signs.sh: seq-tcn
on words-many-signers.npz and words-pose-hands.npz, --seq-min-confidence 0, 15% of the clips for validation, seed
0), but without the chosen signs and without any clip of the user (--holdout USER: the user is new to it).

The user's folder, `my_signs/<sign>/take-NNN.npy`, then holds N takes of each new sign drawn at random from that
signer's takes (nested: the 3 takes are among the 5, the 5 among the 10), and N takes of `-` (no sign) when the
signer recorded any: a model for live use has to be able to say "no sign" between signs. Each folder is trained on
twice with the same options, as a user would:

    aslkit train my_signs/ --model BASE_RUN --finetune --split 0.85,0.15 --seq-min-confidence 0 --seed S --out ...
    aslkit train my_signs/ --model seq-tcn             --split 0.85,0.15 --seq-min-confidence 0 --seed S --out ...

and scored on every OTHER signer's clips of the new signs: per sign, the mean over those signers of each one's
accuracy (a signer with 210 clips counts as much as one with 10); overall, the mean over the signs. Answering `-`
for a sign is wrong. Other signers' `-` clips are reported apart (those signers' idle clips trained the base).

Runs already finished in OUT (their model.json) are reused, so an interrupted experiment continues where it stopped.
Writes OUT/finetune_curve.md (the tables, also printed) and OUT/results.json (every run).

    python scripts/finetune_curve.py /tmp/ftcurve/A --signs hello,thank-you,no,please,get \\
        --user dmohazab --user TheCamNelson --takes 3,5,10 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import os
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from aslkit.data.sequences import SequenceSet, concat_sequences
from aslkit.inference.sequence_recognizer import sequence_decisions, sequence_probabilities
from aslkit.labels import canonical_label
from aslkit.landmarks.holistic import load_sequences
from aslkit.models.io import load_model
from aslkit.training.trainer import train

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("words-many-signers.npz", "words-pose-hands.npz")
SHIPPED_VOCAB = "-,a,can,coffee,fine,get,hello,help,iloveyou,medium,muffin,no,please,small,tea,thank-you,water,yes"
IDLE = "-"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="output folder (runs, user folders, finetune_curve.md, results.json)")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sign-sequences",
                   help="folder holding words-many-signers.npz and words-pose-hands.npz (only read)")  # fmt: skip
    p.add_argument("--signs", default="hello,thank-you,no,please,get", help="the 5 (or any number of) new signs")
    p.add_argument("--user", action="append", help="signer who records the new signs (repeat for several draws)")
    p.add_argument("--takes", default="3,5,10", help="takes per sign in the user's folder")
    p.add_argument("--seeds", default="0,1,2", help="seeds: which takes are drawn, and the training seed")
    p.add_argument("--idle", choices=("auto", "no"), default="auto",
                   help="auto: the user's folder also holds N takes of `-` when the user recorded any")  # fmt: skip
    p.add_argument("--split", default="0.85,0.15", help="train,valid fractions of the user's takes (per sign)")
    p.add_argument("--arms", default="finetune,scratch", help="finetune, scratch or both")
    p.add_argument("--bases", type=Path, help="folder of base runs to reuse (default OUT/bases), one per user")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads for training (0: the trainer's one per core); 1 keeps a shared machine's other "
                        "core free and the times steady: with two threads and another job running, one 2 s fine-tune "
                        "took 46 s, its threads waiting for each other")  # fmt: skip
    p.add_argument("--vocab", default=SHIPPED_VOCAB, help="the shipped words model's classes (the base: minus signs)")
    args = p.parse_args(argv)
    args.signs = [canonical_label(s.strip()) for s in args.signs.split(",") if s.strip()]
    args.takes = [int(n) for n in args.takes.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    args.user = args.user or ["dmohazab", "TheCamNelson"]
    if set(args.arms) - {"finetune", "scratch"}:
        p.error(f"--arms: finetune and/or scratch, got {args.arms}")
    return args


def base_vocab(args: argparse.Namespace) -> list[str]:
    vocab = [canonical_label(c) for c in args.vocab.split(",") if c.strip()]
    return [c for c in vocab if c not in args.signs]


def check_design(data: SequenceSet, args: argparse.Namespace) -> dict[str, dict[str, int]]:
    """sign -> signer -> clips; stops when a user lacks a sign or too few takes, or nobody else made a sign."""
    made: dict[str, Counter] = defaultdict(Counter)
    for lab, who in zip(data.labels, data.signers or [], strict=True):
        made[lab][who] += 1
    for user in args.user:
        for sign in args.signs + ([IDLE] if args.idle == "auto" and made[IDLE][user] else []):
            if made[sign][user] < max(args.takes):
                have = {s: made[s][user] for s in args.signs if made[s][user]}
                raise SystemExit(f"{user} has {made[sign][user]} takes of {sign!r}, need {max(args.takes)}; has {have}")
            if sign != IDLE and not set(made[sign]) - {user}:
                raise SystemExit(f"nobody but {user} made {sign!r}: nothing to score it on")
    return {s: dict(made[s]) for s in [*args.signs, IDLE]}


def train_once(out: Path, command: str, data, **opts) -> tuple[Path, dict, bool]:
    """A run folder, trained now or an earlier run's (reused), and its timing: wall seconds of the training call,
    this process's CPU seconds in it (all threads; other people's jobs do not count) and the load average."""
    timing = out / "timing.json"
    if (out / "model.json").exists():  # a run from before timing.json: the trainer's own seconds, CPU unknown
        old = {"wall_s": json.loads((out / "metrics.json").read_text())["train_seconds"], "cpu_s": None}
        return out, json.loads(timing.read_text()) if timing.exists() else old, True
    t0, c0 = time.perf_counter(), time.process_time()
    train(data, out=out, progress=False, command=command, **opts)
    secs = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}
    import torch

    secs.update(threads=torch.get_num_threads(), load_avg_1min=round(os.getloadavg()[0], 2))
    timing.write_text(json.dumps(secs), encoding="utf-8")
    return out, secs, False


def base_run(args: argparse.Namespace, user: str) -> dict:
    """The shipped recipe without the new signs and without any clip of ``user``."""
    classes = ",".join(base_vocab(args))
    paths = [str(args.data / s) for s in SOURCES]
    out = (args.bases or args.out / "bases") / user
    cmd = (f"aslkit train {' '.join(paths)} --model seq-tcn --classes {classes} --seq-min-confidence 0 "
           f"--split 0.85,0.15 --holdout {user} --seed 0 --out {out}")  # fmt: skip
    run, secs, reused = train_once(out, cmd, paths, model="seq-tcn", classes=classes, seq_min_confidence=0.0,
                                   split="0.85,0.15", holdout=user, seed=0)  # fmt: skip
    labels = load_model(run).labels
    if sorted(labels) != sorted(canonical_label(c) for c in classes.split(",")):
        raise SystemExit(f"{run} knows {labels}, not the base of this design ({classes})")
    m = json.loads((run / "metrics.json").read_text())
    took = "reused" if reused else f"{secs['wall_s']} s"
    print(f"base without {user}: {run} ({took}), valid {m['valid']['accuracy']:.3f}")
    return {
        "run": str(run),
        "seconds": secs,
        "command": cmd,
        "valid_accuracy": m["valid"]["accuracy"],
        "user_other_signs_accuracy": m.get("test", {}).get("accuracy"),
        "labels": labels,
    }


def user_folder(data: SequenceSet, args: argparse.Namespace, user: str, seed: int, n: int) -> Path:
    """my_signs/<sign>/take-NNN.npy: the first n of a random order of the user's takes of each sign (so the
    folders of one seed are nested), the raw frames as stored."""
    folder = args.out / "users" / user / f"seed{seed}" / f"takes{n}" / "my_signs"
    signs = args.signs + ([IDLE] if args.idle == "auto" and has_idle(data, user) else [])
    for sign in signs:
        idx = np.array([i for i, (lab, who) in enumerate(zip(data.labels, data.signers, strict=True))
                        if lab == sign and who == user])  # fmt: skip
        order = np.random.default_rng([seed, zlib.crc32(user.encode()), zlib.crc32(sign.encode())]).permutation(idx)
        (folder / sign).mkdir(parents=True, exist_ok=True)
        for k, i in enumerate(order[:n]):
            np.save(folder / sign / f"take-{k + 1:03d}.npy", np.asarray(data.sequences[i], np.float32))
    return folder


def has_idle(data: SequenceSet, user: str) -> bool:
    return any(lab == IDLE and who == user for lab, who in zip(data.labels, data.signers, strict=True))


def score(run: Path, test: SequenceSet) -> dict:
    """sign -> signer -> [right, clips], and sign -> Counter of wrong answers, with the model's own decisions."""
    model = load_model(run)
    preds, _ = sequence_decisions(model, sequence_probabilities(model, test))
    hits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    wrong: dict[str, Counter] = defaultdict(Counter)
    for lab, who, pred in zip(test.labels, test.signers, preds, strict=True):
        hits[lab][who][0] += int(pred == lab)
        hits[lab][who][1] += 1
        if pred != lab:
            wrong[lab][pred] += 1
    return {
        "labels": list(model.labels),
        "hits": {s: dict(v) for s, v in hits.items()},
        "wrong": {s: dict(c) for s, c in wrong.items()},
    }


def sign_accuracy(hits: dict[str, list[int]], only: set[str] | None = None) -> float | None:
    """The mean over signers of each one's accuracy (``only``: those signers)."""
    accs = [r / n for who, (r, n) in hits.items() if n and (only is None or who in only)]
    return float(np.mean(accs)) if accs else None


def run_arm(args: argparse.Namespace, folder: Path, base: str, user: str, seed: int, n: int, arm: str) -> tuple:
    """`aslkit train` on the user's folder, fine-tuned from ``base`` or from scratch: (run, timing, reused, cmd)."""
    out = args.out / "runs" / user / f"seed{seed}" / f"takes{n}" / arm
    opts = {"split": args.split, "seq_min_confidence": 0.0, "seed": seed}
    opts.update({"finetune": base} if arm == "finetune" else {"model": "seq-tcn"})
    start = f"--model {base} --finetune" if arm == "finetune" else "--model seq-tcn"
    cmd = f"aslkit train {folder} {start} --split {args.split} --seq-min-confidence 0 --seed {seed} --out {out}"
    return (*train_once(out, cmd, folder, **opts), cmd)


def run_row(args: argparse.Namespace, run: Path, test: SequenceSet, base_signers: set[str]) -> dict:
    """A finished run's scores on the other signers' clips: per sign, overall, on signers the base never saw."""
    s = score(run, test)
    accs = {sign: sign_accuracy(s["hits"][sign]) for sign in args.signs}
    unseen = [sign_accuracy(s["hits"][sign], set(s["hits"][sign]) - base_signers) for sign in args.signs]
    seen = [sign_accuracy(s["hits"][sign], set(s["hits"][sign]) & base_signers) for sign in args.signs]
    return {
        "best_epoch": json.loads((run / "metrics.json").read_text())["best_epoch"],
        "split_sizes": json.loads((run / "config.json").read_text())["split_sizes"],
        "mean": float(np.mean(list(accs.values()))),
        "per_sign": accs,
        "mean_unseen_signers": float(np.nanmean([np.nan if a is None else a for a in unseen])),
        "mean_seen_signers": float(np.nanmean([np.nan if a is None else a for a in seen])),
        "idle": sign_accuracy(s["hits"][IDLE]) if IDLE in s["hits"] and IDLE in s["labels"] else None,
        **s,
    }


def one_user(data: SequenceSet, args: argparse.Namespace, user: str, base_signers: set[str]) -> tuple[dict, list]:
    """The base without ``user``, then every (seed, takes, arm) run of that user, scored."""
    base = base_run(args, user)
    keep = [i for i, (lab, who) in enumerate(zip(data.labels, data.signers, strict=True))
            if who != user and (lab in args.signs or lab == IDLE)]  # fmt: skip
    test = data.subset(keep)
    base["test_signers_never_in_base"] = sorted(
        {w for lab, w in zip(test.labels, test.signers, strict=True) if lab != IDLE} - base_signers
    )
    rows = []
    for seed in args.seeds:
        for n in args.takes:
            folder = user_folder(data, args, user, seed, n)
            for arm in args.arms:
                run, secs, reused, cmd = run_arm(args, folder, base["run"], user, seed, n, arm)
                row = {"user": user, "seed": seed, "takes": n, "arm": arm, "run": str(run), "command": cmd,
                       "seconds": secs, "reused": reused, **run_row(args, run, test, base_signers)}  # fmt: skip
                rows.append(row)
                each = " ".join(f"{k} {v:.2f}" for k, v in row["per_sign"].items())
                note = " (reused)" if reused else ""
                print(
                    f"{user} seed {seed} takes {n:2d} {arm}: mean {row['mean']:.3f} ({each}) {secs['wall_s']} s{note}"
                )
    return base, rows


def pct(x: float | None) -> str:
    return "n/a" if x is None or np.isnan(x) else f"{100 * x:.1f}%"


def span(xs: list[float]) -> str:
    return f"**{pct(np.mean(xs))}** ({pct(min(xs))}-{pct(max(xs))})"


def summary_table(rows: list[dict], args: argparse.Namespace) -> list[str]:
    """Per takes count: each arm's mean (range) over runs, the paired gain of fine-tuning, the two groups of
    test signers (never in the base's data / in it with other signs) and the time per run."""
    arms = args.arms
    both = len(arms) == 2
    head = ["takes per sign (train + valid)", *(f"{a}: mean (range)" for a in arms)]
    head += ["finetune - scratch, same takes (range)"] if both else []
    head += [f"{a}: signers the base never saw / saw" for a in arms]
    head += [f"{a}: wall s, mean (max); CPU s" for a in arms]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in args.takes:
        by = {a: sorted((r for r in rows if r["takes"] == n and r["arm"] == a), key=lambda r: (r["user"], r["seed"]))
              for a in arms}  # fmt: skip
        sizes = by[arms[0]][0]["split_sizes"]
        per_class = len(args.signs) + (1 if any(r["idle"] is not None for r in by[arms[0]]) else 0)
        cells = [f"{n} ({sizes['train'] // per_class} + {sizes['valid'] // per_class})"]
        cells += [span([r["mean"] for r in by[a]]) for a in arms]
        if both:
            gain = [f["mean"] - c["mean"] for f, c in zip(by["finetune"], by["scratch"], strict=True)]
            cells.append(f"{100 * np.mean(gain):+.1f} ({100 * min(gain):+.1f} to {100 * max(gain):+.1f}) points")
        for a in arms:
            unseen, seen = (np.nanmean([r[k] for r in by[a]]) for k in ("mean_unseen_signers", "mean_seen_signers"))
            cells.append(f"{pct(unseen)} / {pct(seen)}")
        for a in arms:
            wall, cpu = [r["seconds"]["wall_s"] for r in by[a]], [r["seconds"]["cpu_s"] for r in by[a]]
            cpu_s = f"{np.mean(cpu):.1f}" if None not in cpu else "n/a"
            cells.append(f"{np.mean(wall):.1f} ({max(wall):.1f}); {cpu_s}")
        out.append("| " + " | ".join(cells) + " |")
    return out


def per_sign_table(rows: list[dict], args: argparse.Namespace, made: dict[str, dict[str, int]]) -> list[str]:
    cols = [(a, n) for a in args.arms for n in args.takes]
    head = " | ".join(f"{a} {n}" for a, n in cols)
    often = f"most often read as ({args.arms[0]} {max(args.takes)}, all runs)"
    out = [f"| sign | signers (clips; a run scores all but its user's) | {head} | {often} |"]
    out.append("|" + "---|" * (3 + len(cols)))
    signs = args.signs + ([IDLE] if any(r["idle"] is not None for r in rows) else [])
    for sign in signs:
        cells = [f"`{sign}`" if sign == IDLE else sign, f"{len(made[sign])} ({sum(made[sign].values())})"]
        for a, n in cols:
            runs = [r for r in rows if r["arm"] == a and r["takes"] == n]
            accs = [r["idle"] if sign == IDLE else r["per_sign"][sign] for r in runs]
            cells.append(pct(np.mean(accs)) if accs and None not in accs else "n/a")
        last = [r for r in rows if r["arm"] == args.arms[0] and r["takes"] == max(args.takes)]
        wrong = sum((Counter(r["wrong"].get(sign, {})) for r in last), Counter()).most_common(2)
        cells.append(", ".join(f"{w} {c}" for w, c in wrong))
        out.append("| " + " | ".join(cells) + " |")
    return out


def per_user_table(rows: list[dict], args: argparse.Namespace) -> list[str]:
    out = ["| user | takes | " + " | ".join(f"{a} (seeds {','.join(map(str, args.seeds))})" for a in args.arms) + " |",
           "|" + "---|" * (2 + len(args.arms))]  # fmt: skip
    for user in args.user:
        for n in args.takes:
            cells = [user, str(n)]
            for a in args.arms:
                xs = [r["mean"] for r in rows if r["user"] == user and r["takes"] == n and r["arm"] == a]
                cells.append(" / ".join(pct(x) for x in xs))
            out.append("| " + " | ".join(cells) + " |")
    return out


def report(rows: list[dict], bases: dict, args: argparse.Namespace, made: dict) -> str:
    idle = any(r["idle"] is not None for r in rows)
    lines = [
        "## Fine-tuning a sign model for new signs: takes per sign",
        "",
        f"New signs: {', '.join(args.signs)} (left out of the base). Users (who record the takes): "
        f"{', '.join(args.user)}; seeds {', '.join(map(str, args.seeds))}; takes per sign {args.takes}; "
        f"`-` takes of the user in the folder: {'yes, as many as of each sign' if idle else 'no'}; "
        f"user's takes split {args.split} (train, valid) per sign. Scored on every other signer's clips of the new "
        "signs: per sign the mean over signers, overall the mean over signs; each cell is the mean over "
        f"{len(args.user) * len(args.seeds)} runs (users x seeds), range in brackets.",
        "",
        *summary_table(rows, args),
        "",
        "'Never saw / saw': the same scores over the test signers who have no clip in the base's training data "
        "(they made only new signs, or signs outside its classes) and over those whose other signs trained it; the "
        "from-scratch model saw neither group, so a gap there is how hard each group is. Never saw: "
        + "; ".join(f"{u}'s runs: {', '.join(b['test_signers_never_in_base'])}" for u, b in bases.items())
        + ".",
        "",
        "Per sign (mean over runs):",
        "",
        *per_sign_table(rows, args, made),
        "",
        "Per user, each seed's mean over the signs:",
        "",
        *per_user_table(rows, args),
        "",
        "Base models (shipped recipe without the new signs and without the user; 'user's other signs': the base's",
        "accuracy on the held-out user's clips of the signs it knows):",
        "",
        "| without | classes | train wall s (CPU s) | valid accuracy | user's other signs |",
        "|---|---|---|---|---|",
    ]
    for user, b in bases.items():
        took = f"{b['seconds']['wall_s']} ({b['seconds']['cpu_s']})"
        lines.append(f"| {user} | {len(b['labels'])} | {took} | {pct(b['valid_accuracy'])} "
                     f"| {pct(b['user_other_signs_accuracy'])} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.threads:  # the trainer sets one thread per core; cap it
        import torch

        set_threads = torch.set_num_threads
        torch.set_num_threads = lambda n: set_threads(min(n, args.threads))
    data = concat_sequences([load_sequences(args.data / s) for s in SOURCES])
    made = check_design(data, args)
    vocab = set(base_vocab(args))
    bases, rows = {}, []
    for user in args.user:
        base_signers = {w for lab, w in zip(data.labels, data.signers, strict=True) if lab in vocab and w != user}
        bases[user], user_rows = one_user(data, args, user, base_signers)
        rows += user_rows
    text = report(rows, bases, args, made)
    (args.out / "finetune_curve.md").write_text(text, encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps({"bases": bases, "runs": rows}, indent=1), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
