"""Leave-signers-out cross-validation: the figure that says how a model does on people it never saw.

The signers are dealt into folds (whole signers, folds of about equal size); each fold trains the
same recipe without its signers and is scored on them, so every clip is scored exactly once by a
model that never saw its signer. A held-out signer's sign that no training signer made cannot be
learned and is left out of that fold's score (and counted). The report gives the figure per sign
(with how many signers made it, so a sign scored on one person is not taken for a sure one) and per
signer, worst first. It also names the signers whose two signs were read as each other both ways
(``possible_swaps``): for a held-out signer that is more often two labels swapped in their recording
than two misreadings, and worth a look before the figure is believed or the data trained on.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.data.sequences import SequenceSet
from aslkit.data.split import group_folds
from aslkit.errors import AslkitError, DatasetError
from aslkit.kinds import InputKind
from aslkit.labels import sort_labels
from aslkit.models.registry import get_model_info
from aslkit.names import shown
from aslkit.outputs import check_new_folder
from aslkit.report import pyplot, save_figure
from aslkit.training.trainer import TRAINERS, chosen_classes, train


@dataclass
class Scored:
    """One held-out clip: who signed it, what it is, what its fold's model answered."""

    signer: str
    label: str
    predicted: str
    fold: int


def _signers_of(paths: list, name: str, folds: int, cache_dir, progress: bool, overrides: dict) -> list[list[str]]:
    """The folds of signers, from the data as train() will read it."""
    if "holdout" in overrides or "group_pattern" in overrides:
        raise AslkitError("--cv signer chooses the held-out signers itself; leave out --holdout and --group-pattern")
    if overrides.get("finetune"):  # --model words --finetune: the trained model's own architecture
        from aslkit.models.io import load_model

        name = load_model(overrides["finetune"]).architecture
    info = get_model_info(name)
    if info.input is not InputKind.SEQUENCE:
        raise AslkitError(f"--cv signer is for sign models on landmark clips; {name!r} reads {info.input}")
    cfg = TrainConfig.from_defaults(info.train_defaults, model=name, **overrides)
    data, _ = TRAINERS[InputKind.SEQUENCE].load(paths, cfg, cache_dir, progress)
    data = chosen_classes(data, cfg.classes)[0]  # a signer with none of the chosen classes is in no fold
    if data.signers is None:
        raise DatasetError("--cv signer needs data that names each clip's signer (a `signer` array in the .npz)")
    return group_folds(data.signers, folds)


def _scored(fold: int, model, test: SequenceSet) -> list[Scored]:
    from aslkit.inference.sequence_recognizer import sequence_decisions, sequence_probabilities

    if len(test) == 0:
        return []
    preds, _ = sequence_decisions(model, sequence_probabilities(model, test))
    return [Scored(s, lab, str(p), fold) for s, lab, p in zip(test.signers, test.labels, preds, strict=True)]


def cross_validate(
    data: str | Path | list[str | Path],
    out: str | Path,
    model: str | None = None,
    folds: int = 5,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """Train ``model`` ``folds`` times, each without one fold of signers, and score each on those signers.

    Writes ``out/fold-<k>/`` (a run folder each), ``cv.json``, ``cv.md`` and ``per_sign.png``; returns
    what ``cv.json`` holds. ``overrides``: any training option, as for ``train``.
    """
    paths = [data] if isinstance(data, (str, Path)) else list(data)
    out = Path(out)
    check_new_folder(out, paths, flag="--out", what="the training data")
    name = model or TrainConfig.from_defaults().model
    fold_signers = _signers_of(paths, name, folds, cache_dir, progress, overrides)
    rows: list[Scored] = []
    left_out: Counter = Counter()
    fold_info = []
    for k, held in enumerate(fold_signers, 1):
        res = train(paths, out / f"fold-{k}", model=name, cache_dir=cache_dir, progress=progress,
                    holdout=",".join(held), **overrides)  # fmt: skip
        scored = _scored(k, res.model, res.test_set)
        rows += scored
        left_out.update(res.metrics.get("test_left_out", {}))
        hits = sum(r.predicted == r.label for r in scored)
        fold_info.append({"fold": k, "signers": held, "clips": len(scored), "accuracy": hits / max(1, len(scored))})
    result = summarize(rows, fold_info, dict(sorted(left_out.items())))
    result.update({"model": name, "data": [str(p) for p in paths], "options": overrides})
    (out / "cv.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    plot_per_sign(result["per_sign"], out / "per_sign.png")
    (out / "cv.md").write_text(cv_markdown(result), encoding="utf-8")
    return result


SWAP_SHARE = 0.6  # both ways, at least this share of a signer's clips of one sign read as the other
SWAP_MIN_CLIPS = 3  # ...with at least this many clips of each


def possible_swaps(rows: list[Scored]) -> list[dict[str, Any]]:
    """Per signer, each pair of signs read as each other most of the time, both ways (see the module
    docstring); the most-swapped first."""
    by: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        by[(r.signer, r.label)].append(r.predicted)
    out = []
    for signer in sorted({r.signer for r in rows}):
        signs = sort_labels({lab for s, lab in by if s == signer})
        for i, a in enumerate(signs):
            for b in signs[i + 1 :]:
                pa, pb = by[(signer, a)], by[(signer, b)]
                if min(len(pa), len(pb)) < SWAP_MIN_CLIPS:
                    continue
                a_as_b, b_as_a = pa.count(b), pb.count(a)
                if a_as_b >= SWAP_SHARE * len(pa) and b_as_a >= SWAP_SHARE * len(pb):
                    out.append(
                        {"signer": signer, "signs": [a, b], "a_as_b": [a_as_b, len(pa)], "b_as_a": [b_as_a, len(pb)]}
                    )
    return sorted(out, key=lambda v: -(v["a_as_b"][0] / v["a_as_b"][1] + v["b_as_a"][0] / v["b_as_a"][1]))


def summarize(rows: list[Scored], folds: list[dict], left_out: dict[str, int]) -> dict[str, Any]:
    """Accuracy over every held-out clip, the mean over signers and folds, and the tables per sign and
    per signer (worst first), each sign with what it was most often read as."""
    if not rows:
        raise DatasetError("no held-out clip could be scored (every held-out sign was missing from training)")
    by_sign: dict[str, list[Scored]] = defaultdict(list)
    by_signer: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        by_sign[r.label].append(r)
        by_signer[r.signer].append(r)

    def acc(rs: list[Scored]) -> float:
        return sum(r.predicted == r.label for r in rs) / len(rs)

    per_sign = []
    for lab in sort_labels(by_sign):
        rs = by_sign[lab]
        wrong = Counter(r.predicted for r in rs if r.predicted != lab).most_common(3)
        signer_acc = [acc([r for r in rs if r.signer == s]) for s in sorted({r.signer for r in rs})]
        per_sign.append({
            "sign": lab, "signers": len(signer_acc), "clips": len(rs), "accuracy": acc(rs),
            "worst_signer_accuracy": min(signer_acc), "read_as": dict(wrong),
        })  # fmt: skip
    per_signer = sorted(
        ({"signer": s, "clips": len(rs), "accuracy": acc(rs), "signs": sort_labels({r.label for r in rs})}
         for s, rs in by_signer.items()),
        key=lambda v: (v["accuracy"], v["signer"]),
    )  # fmt: skip
    return {
        "clips": len(rows),
        "accuracy": acc(rows),
        "mean_signer_accuracy": float(np.mean([v["accuracy"] for v in per_signer])),
        "mean_fold_accuracy": float(np.mean([f["accuracy"] for f in folds])),
        "signers": len(per_signer),
        "folds": folds,
        "per_sign": per_sign,
        "per_signer": per_signer,
        "left_out": left_out,
        "possible_swaps": possible_swaps(rows),
    }


def plot_per_sign(per_sign: list[dict], path: Path) -> Path:
    """Bars of held-out accuracy per sign, each labelled with how many signers it was scored on."""
    plt = pyplot()
    rows = sorted(per_sign, key=lambda v: (v["accuracy"], v["sign"]))[::-1]
    fig, ax = plt.subplots(figsize=(7, max(2.8, 0.3 * len(rows) + 1.4)))
    y = np.arange(len(rows))
    ax.barh(y, [v["accuracy"] for v in rows], height=0.7)
    ax.set_yticks(y, [f"{v['sign']} ({v['signers']} signers)" for v in rows], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy on held-out signers' clips")
    ax.set_title("leave-signers-out, per sign (worst at the bottom)")
    return save_figure(fig, path)


def cv_markdown(r: dict[str, Any]) -> str:
    """cv.md: the headline, the folds, the per-sign table and the worst signers."""
    lines = [
        "# Leave-signers-out cross-validation",
        "",
        f"Model `{r['model']}` on {', '.join(f'`{d}`' for d in r['data'])}; {len(r['folds'])} folds of whole signers.",
        "Every clip is scored once, by the fold that did not train on its signer.",
        "",
        f"- clips scored: {r['clips']} from {r['signers']} signers",
        f"- accuracy over clips: **{100 * r['accuracy']:.2f}%**; "
        f"mean over signers {100 * r['mean_signer_accuracy']:.2f}%; "
        f"mean over folds {100 * r['mean_fold_accuracy']:.2f}%",
    ]
    if r["left_out"]:
        lines.append(f"- left out (signs no training signer made): {r['left_out']}")
    lines += ["", "![per sign](per_sign.png)", "", "## Per sign", ""]
    lines += ["| sign | signers | clips | accuracy | worst signer | read as |", "|---|---|---|---|---|---|"]
    for v in r["per_sign"]:
        read_as = ", ".join(f"{k} {n}" for k, n in v["read_as"].items())
        lines.append(f"| {v['sign']} | {v['signers']} | {v['clips']} | {100 * v['accuracy']:.1f}% | "
                     f"{100 * v['worst_signer_accuracy']:.1f}% | {read_as} |")  # fmt: skip
    lines += ["", "## Signers, worst first", "", "| signer | clips | accuracy | signs |", "|---|---|---|---|"]
    for v in r["per_signer"]:
        lines.append(f"| {v['signer']} | {v['clips']} | {100 * v['accuracy']:.1f}% | {', '.join(v['signs'])} |")
    swaps = r.get("possible_swaps") or []
    if swaps:
        lines += ["", "## Possible label swaps", "",
                  f"Two signs of one signer read as each other both ways ({SWAP_SHARE:.0%} of the clips or more): "
                  "look at those takes; their labels may be swapped in the data.", "",
                  "| signer | signs | first read as second | second read as first |", "|---|---|---|---|"]  # fmt: skip
        for v in swaps:
            (a, b), (x, nx), (y, ny) = v["signs"], v["a_as_b"], v["b_as_a"]
            lines.append(f"| {v['signer']} | {a}, {b} | {x}/{nx} | {y}/{ny} |")
    return "\n".join(lines) + "\n"


def cv_text(r: dict[str, Any], out: str | Path) -> str:
    """What `aslkit train --cv signer` prints: the headline, the weakest signs and signers, the report."""
    weak = sorted(r["per_sign"], key=lambda v: (v["accuracy"], v["sign"]))[:5]
    lines = [
        f"leave-signers-out, {len(r['folds'])} folds, {r['signers']} signers, {r['clips']} clips: "
        f"accuracy {100 * r['accuracy']:.2f}% (mean over signers {100 * r['mean_signer_accuracy']:.2f}%)",
        "weakest signs: " + ", ".join(f"{v['sign']} {100 * v['accuracy']:.1f}% ({v['signers']} signers)" for v in weak),
        "worst signers: " + ", ".join(f"{v['signer']} {100 * v['accuracy']:.1f}%" for v in r["per_signer"][:5]),
    ]
    swaps = r.get("possible_swaps") or []
    if swaps:
        lines.append("possible label swaps (read as each other both ways): "
                     + ", ".join(f"{v['signer']} {v['signs'][0]}<->{v['signs'][1]}" for v in swaps))  # fmt: skip
    lines.append(f"report: {shown(Path(out) / 'cv.md')}")
    return "\n".join(lines)
