"""Reports a person can open: confusion-matrix heatmap and training curves (PNG), Markdown summary.

Written by training (a run's validation report) and by evaluation (a test set's), so it sits below both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aslkit.kinds import scored_clips


def pyplot():
    """matplotlib.pyplot on the Agg backend: reports are written as files, with or without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Lay out, write (making the folder) and close a figure: every report PNG ends the same way, and an
    unclosed figure keeps its memory for the rest of a long run."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def plot_confusion(cm: np.ndarray | list, labels: list[str], path: str | Path, title: str = "") -> Path:
    """Row-normalized heatmap with counts written in the cells."""
    plt = pyplot()
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    n = len(labels)
    size = max(5.0, 0.38 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            if cm[i, j] > 0:
                ax.text(
                    j,
                    i,
                    int(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
    if title:
        ax.set_title(title)
    return save_figure(fig, path, dpi=110)


def plot_curves(history: list[dict], path: str | Path) -> Path:
    """Loss and accuracy per epoch, train vs validation."""
    plt = pyplot()
    ep = [h["epoch"] for h in history]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.plot(ep, [h["train_loss"] for h in history], label="train")
    a1.plot(ep, [h["val_loss"] for h in history], label="valid")
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss")
    a1.legend()
    a2.plot(ep, [h["train_acc"] for h in history], label="train")
    a2.plot(ep, [h["val_acc"] for h in history], label="valid")
    a2.set_xlabel("epoch")
    a2.set_ylabel("accuracy")
    a2.legend()
    return save_figure(fig, path)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def group_word(metrics: dict) -> str:
    """What a group is called in tables: clips are grouped by their signer."""
    return "signer" if scored_clips(metrics) else "group"


def worst_first(per_group: dict[str, dict]) -> list[tuple[str, dict]]:
    """Report-card rows, lowest end-to-end accuracy first (then the larger group, then the name):
    the person the model fails is the first line a reader sees."""
    return sorted(per_group.items(), key=lambda gv: (gv[1]["accuracy"], -gv[1]["n"], gv[0]))


def worst_text(worst: list[dict]) -> str:
    """``P 0.35 (Z 9, N 3); M 0.50 (Nothing 4)``: letter, recall, what it was read as and how often."""
    parts = []
    for w in worst:
        read = ", ".join(f"{lab} {c}" for lab, c in w.get("read_as", {}).items())
        parts.append(f"{w['label']} {w['recall']:.2f}" + (f" ({read})" if read else ""))
    return "; ".join(parts) if parts else "-"


def _opt_pct(v: dict, key: str) -> str:
    return _pct(v[key]) if key in v else ""


def report_card_markdown(per_group: dict[str, dict], word: str = "group") -> list[str]:
    """The "Report card" section of report.md: one row per group, worst first."""
    item = "a photo where no hand was found" if word == "group" else "a clip with no hand in any frame"
    lines = [
        "## Report card",
        "",
        f"One row per {word}, worst first. Accuracy is end to end ({item} counts as wrong unless its label is "
        f"the no-hand class); worst letters: the lowest recall in that {word}, with what each was most often "
        "read as.",
        "",
        f"| {word} | images | accuracy | detection rate | accuracy on detected | macro F1 | worst letters |",
        "|---|---|---|---|---|---|---|",
    ]
    for g, v in worst_first(per_group):
        f1 = f"{v['macro_f1']:.3f}" if "macro_f1" in v else ""
        cells = [g.replace("|", "\\|"), str(v["n"]), _pct(v["accuracy"]), _opt_pct(v, "detection_rate")]
        cells += [_opt_pct(v, "accuracy_detected"), f1, worst_text(v.get("worst", [])).replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot_group_accuracy(per_group: dict[str, dict], path: str | Path, word: str = "group") -> Path:
    """Horizontal bars of end-to-end accuracy per group (worst at the top), detection rate beside it."""
    plt = pyplot()
    rows = worst_first(per_group)[::-1]  # barh draws bottom-up
    names = [g for g, _ in rows]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, max(2.8, 0.4 * len(rows) + 1.6)))
    acc = [v["accuracy"] for _, v in rows]
    ax.barh(y + 0.2, acc, height=0.4, label="accuracy (end to end)")
    ax.barh(y - 0.2, [v.get("detection_rate", 0.0) for _, v in rows], height=0.4, label="hand detection rate")
    for yi, a in zip(y, acc, strict=True):
        ax.text(min(a, 0.86) + 0.01, yi + 0.2, f"{100 * a:.1f}%", va="center", fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of photos" if word == "group" else "fraction of clips")
    ax.set_title(f"per {word}, worst at the top")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8, frameon=False)
    return save_figure(fig, path)


def write_markdown(metrics: dict, path: str | Path, title: str, images: dict[str, str] | None = None) -> Path:
    """A Markdown report: headline figures, the report card per group (when metrics has ``per_group``),
    per-class table, and links to the PNGs."""
    lines = [f"# {title}", ""]
    keys = [
        ("n", "images"),
        ("accuracy", "end-to-end accuracy"),
        ("accuracy_detected", "accuracy on detected hands"),
        ("detection_rate", "hand detection rate"),
        ("weighted_f1", "weighted F1"),
        ("macro_f1", "macro F1"),
    ]
    lines += ["| metric | value |", "|---|---|"]
    for k, name in keys:
        if k in metrics:
            v = metrics[k]
            lines.append(f"| {name} | {v if k == 'n' else _pct(v)} |")
    if metrics.get("unknown_labels"):
        lines += ["", f"Classes the model does not know (left out): {json.dumps(metrics['unknown_labels'])}"]
    if metrics.get("errors"):
        lines += ["", f"Unreadable files: {len(metrics['errors'])} (first: {metrics['errors'][0]})"]
    if metrics.get("per_group"):
        lines += ["", *report_card_markdown(metrics["per_group"], group_word(metrics))]
    per = metrics.get("per_class", {})
    det = metrics.get("per_class_detection_rate", {})
    if per:
        if metrics.get("per_group"):  # the report card opened a section: the class table gets its own
            lines += ["", "## Per class"]
        lines += ["", "| class | F1 | precision | recall | support | hand found |", "|---|---|---|---|---|---|"]
        for lab, v in per.items():
            d = _pct(det[lab]) if lab in det else ""
            lines.append(f"| {lab} | {v['f1']:.3f} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} | {d} |")
    for name, rel in (images or {}).items():
        lines += ["", f"## {name}", "", f"![{name}]({rel})"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def report_card_text(m: dict) -> str:
    """The report card as terminal text, one line per group, worst first: who the model fails, on which letters."""
    from aslkit.names import shown

    word = group_word(m)
    rows = [(shown(g), v) for g, v in worst_first(m["per_group"])]
    w = max(len(word), *(len(g) for g, _ in rows))
    out = [
        f"report card, worst {word} first:",
        f"  {word:<{w}}  {'n':>5}  accuracy  detection  on detected  macro F1  worst letters: recall (read as)",
    ]
    for g, v in rows:
        out.append(
            f"  {g:<{w}}  {v['n']:>5}  {100 * v['accuracy']:>7.2f}%  {100 * v.get('detection_rate', 1.0):>8.2f}%  "
            f"{100 * v.get('accuracy_detected', v['accuracy']):>10.2f}%  {v.get('macro_f1', 0.0):>8.3f}  "
            f"{worst_text(v.get('worst', []))}"
        )
    return "\n".join(out)
