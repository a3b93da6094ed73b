"""The report folder of `aslkit evaluate-detection --report`: metrics and curves as JSON, the precision-recall
and F1-confidence plots, and a report.md that links them, so a threshold can be chosen from the picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.boxes import splits_note
from aslkit.names import shown
from aslkit.report import pyplot, save_figure

PR_PNG = "pr_curve.png"
F1_PNG = "f1_curve.png"
MAX_CLASS_LINES = 40  # beyond this, per-class lines are noise: only all classes is drawn


def _envelope(pts: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    """The curve as AP integrates it: at each recall, the best precision at that recall or beyond, from recall 0."""
    p = np.maximum.accumulate(np.asarray(pts["precision"], np.float64)[::-1])[::-1]
    if not len(p):
        return [0.0], [0.0]
    return [0.0, *pts["recall"]], [float(p[0]), *p.tolist()]


def plot_pr_curve(curves: dict[str, Any], per_class_ap: dict[str, float], path: str | Path) -> Path:
    """Precision against recall (its envelope, which AP is the area under): one thin line per class (its AP in
    the legend when few) and all classes bold."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    classes = [c for c in curves["pr"] if c != "all"]
    few = len(classes) <= 10
    if len(classes) <= MAX_CLASS_LINES:
        for c in classes:
            label = f"{c} {per_class_ap.get(c, 0.0):.3f}" if few else None
            ax.plot(*_envelope(curves["pr"][c]), lw=1, alpha=0.6, label=label, drawstyle="steps-pre")
    ax.plot(*_envelope(curves["pr"]["all"]), lw=3, color="tab:blue", label="all classes", drawstyle="steps-pre")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title(f"Precision-recall at IoU {curves['iou']:g}")
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)


def plot_f1_curve(curves: dict[str, Any], path: str | Path) -> Path:
    """F1 against the confidence threshold, per class (thin) and all classes (bold), the best one marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    t = curves["thresholds"]
    if len(curves["per_class_f1"]) <= MAX_CLASS_LINES:
        for f1 in curves["per_class_f1"].values():
            ax.plot(t, f1, lw=1, alpha=0.4, color="grey")
    best, at = curves["best_f1"], curves["best_f1_conf"]
    label = f"all classes: best {best:.2f} at {at:.2f}" if at is not None else "all classes"
    ax.plot(t, curves["f1"], lw=3, color="tab:blue", label=label)
    if at is not None:
        ax.axvline(at, color="tab:red", ls="--", lw=1)
    ax.set(xlabel="confidence threshold", ylabel="F1", xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title(f"F1-confidence at IoU {curves['iou']:g}")
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)


def report_markdown(m: dict[str, Any], curves: dict[str, Any]) -> str:
    """report.md: what was measured on which data, the headline figures, the per-class table and the plots."""
    at = curves["best_f1_conf"]
    lines = [
        "# Detection evaluation",
        "",
        f"Data: `{shown(m['data'])}` ({m['format']}{splits_note(m.get('splits'))}); "
        f"model: `{shown(str(m['model']))}`; {m['images']} images, {m['ground_truth_boxes']} boxes.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| mAP@0.5 | {m['map50']:.4f} |",
        f"| mAP@0.5:0.95 | {m['map50_95']:.4f} |",
        f"| precision at conf {m['conf']:g}, IoU {m['iou']:g} | {m['precision']:.4f} |",
        f"| recall at conf {m['conf']:g}, IoU {m['iou']:g} | {m['recall']:.4f} |",
        f"| best F1 (IoU {m['iou']:g}) | {curves['best_f1']:.4f}{f' at conf {at:.2f}' if at is not None else ''} |",
        "",
        "| class | AP@0.5 | ground truth | detected | missed | false positives |",
        "|---|---|---|---|---|---|",
    ]
    for c, row in m["per_class_table"].items():
        lines.append(f"| {c} | {m['per_class_ap'][c]:.3f} | {row['ground_truth']} | {row['detected']} | "
                     f"{row['missed']} | {row['false_positives']} |")  # fmt: skip
    lines += [
        "",
        "Both curves count boxes as the figures above do: a detection is found when it overlaps a not yet found "
        f"box of its letter by IoU >= {m['iou']:g}, taken by falling confidence. The precision-recall plot draws "
        "the best precision at each recall or beyond (the curve AP is the area under); detection_curves.json "
        "holds every point.",
        "",
        "## Precision-recall",
        "",
        f"![precision-recall]({PR_PNG})",
        "",
        "## F1-confidence",
        "",
        f"![F1-confidence]({F1_PNG})",
    ]
    return "\n".join(lines) + "\n"


def write_detection_report(out: Path, m: dict[str, Any], curves: dict[str, Any]) -> None:
    """Everything of the report into ``out`` (a new folder being staged by the caller)."""
    (out / "detection_metrics.json").write_text(json.dumps(m, indent=2), encoding="utf-8")
    (out / "detection_curves.json").write_text(json.dumps(curves), encoding="utf-8")
    plot_pr_curve(curves, m["per_class_ap"], out / PR_PNG)
    plot_f1_curve(curves, out / F1_PNG)
    (out / "report.md").write_text(report_markdown(m, curves), encoding="utf-8")
