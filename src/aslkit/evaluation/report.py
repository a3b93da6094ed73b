"""Reports a person can open: confusion-matrix heatmap and training curves (PNG), Markdown summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(cm: np.ndarray | list, labels: list[str], path: str | Path, title: str = "") -> Path:
    """Row-normalized heatmap with counts written in the cells."""
    plt = _plt()
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
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(history: list[dict], path: str | Path) -> Path:
    """Loss and accuracy per epoch, train vs validation."""
    plt = _plt()
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
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def write_markdown(metrics: dict, path: str | Path, title: str, images: dict[str, str] | None = None) -> Path:
    """A Markdown report: headline figures, per-class table, and links to the PNGs."""
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
    if metrics.get("per_group"):
        lines += ["", "| group | images | end-to-end accuracy |", "|---|---|---|"]
        lines += [f"| {g} | {v['n']} | {_pct(v['accuracy'])} |" for g, v in metrics["per_group"].items()]
    if metrics.get("unknown_labels"):
        lines += ["", f"Classes the model does not know (left out): {json.dumps(metrics['unknown_labels'])}"]
    if metrics.get("errors"):
        lines += ["", f"Unreadable files: {len(metrics['errors'])} (first: {metrics['errors'][0]})"]
    per = metrics.get("per_class", {})
    det = metrics.get("per_class_detection_rate", {})
    if per:
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
