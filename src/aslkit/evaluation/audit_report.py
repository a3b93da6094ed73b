"""The audit's files a person opens: report.md and report.html with a thumbnail of each finding, the class
chart, audit.json, and on request manifest.csv (one row per image: keep or not, suggested label).

Nothing is written inside the audited set; the report folder must be new or empty.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.boxes import Box, set_roots
from aslkit.data.images import encode_image, load_image
from aslkit.errors import ImageError
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder
from aslkit.report import save_figure

THUMB_SIDE = 160
SHOWN = 60  # findings shown with thumbnails per section; audit.json lists them all


def plot_class_balance(balance: dict[str, Any], path: Path) -> Path:
    """Bars per class, stacked by split."""
    from aslkit.report import pyplot

    plt = pyplot()
    classes = balance["classes"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(classes) + 2), 3.6))
    bottom = np.zeros(len(classes))
    for split, counts in balance["counts"].items():
        v = np.array([counts[c] for c in classes], float)
        ax.bar(range(len(classes)), v, bottom=bottom, label=split)
        bottom += v
    ax.set_xticks(range(len(classes)), classes, rotation=90 if len(classes) > 30 else 0, fontsize=8)
    ax.set_ylabel(balance.get("unit", "count"))
    ax.set_title(f"class balance (largest / smallest = {balance['max_min_ratio']})")
    if len(balance["counts"]) > 1:
        ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=110)


class _Thumbs:
    """thumbs/NNNN.jpg per image (boxes drawn), made once however many findings show the image."""

    def __init__(self, folder: Path, boxes: dict[str, list[Box]]) -> None:
        self.folder, self.boxes, self.made = folder, boxes, {}

    def __call__(self, path: str) -> str | None:
        if path in self.made:
            return self.made[path]
        import cv2

        try:
            rgb = load_image(path)
        except ImageError:
            self.made[path] = None
            return None
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        thick = max(2, round(max(bgr.shape[:2]) / 150))
        for b in self.boxes.get(path, []):
            x0, y0, x1, y1 = (round(v) for v in b.xyxy)
            cv2.rectangle(bgr, (x0, y0), (x1, y1), (0, 220, 255), thick)
            cv2.putText(bgr, b.label, (x0 + 4, y0 + 12 * thick), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick,
                        (0, 220, 255), thick, cv2.LINE_AA)  # fmt: skip
        scale = THUMB_SIDE / max(bgr.shape[:2])
        small = cv2.resize(bgr, (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"thumbs/{len(self.made):05d}.jpg"
        (self.folder.parent / name).write_bytes(encode_image(small, ".jpg", quality=80))
        self.made[path] = name
        return name


def _name(path: str, split: str) -> str:
    """How a file is named in the report: printable, one line, even for a non-UTF-8 or odd name."""
    return shown(f"{split}/{Path(path).name}" if split else Path(path).name)


def _blocks(r: dict[str, Any], thumb) -> list[tuple]:
    """The report as blocks: ("h2", text), ("p", text), ("table", header, rows), ("gallery", [(img, caption)])."""
    s = r["summary"]
    b: list[tuple] = [("h1", f"Audit of {shown(r['data'])}"),
                      ("p", f"{r['images']} images, {r['kind']}; splits: "
                            + ", ".join(f"{k} {v}" for k, v in r["splits"].items()))]  # fmt: skip
    b.append(("table", ["finding", "count"], [[k.replace("_", " "), v] for k, v in s.items()]))
    bal = r["balance"]
    missing = "; ".join(f"{k}: {', '.join(v)}" for k, v in bal["missing_in_split"].items()) or "none"
    small = ", ".join(bal["under_half_median"]) or "none"
    b += [
        ("h2", "Class balance"),
        ("img", "class_distribution.png"),
        ("p", f"Largest class / smallest: {bal['max_min_ratio']}. Under half the median: {small}. "
              f"Missing from a split: {missing}."),
    ]  # fmt: skip
    splits = list(bal["counts"])
    b.append(("table", ["class", *splits, "total"],
              [[c, *(bal["counts"][sp][c] for sp in splits), bal["total"][c]] for c in bal["classes"]]))  # fmt: skip

    def groups(title: str, rows: list[dict], note: str) -> None:
        b.extend([("h2", f"{title}: {len(rows)} groups"), ("p", note)])
        for k, g in enumerate(rows[:SHOWN]):
            corr = f", correlation >= {g['min_correlation']:.2f}" if "min_correlation" in g else ""
            b.append(("p", f"Group {k + 1}: {len(g['paths'])} images{corr}"))
            members = zip(g["paths"], g["splits"], g["labels"], strict=True)
            b.append(("gallery", [(thumb(p), f"{_name(p, sp)} [{lab}]") for p, sp, lab in members]))

    groups("Leakage across splits", r["leakage"], "Copies of one photo in more than one split: a test that has seen "
           "its own images. Keep each group in one split.")  # fmt: skip
    groups("Copies with different labels", r["label_conflicts"], "One photo, two labels: at least one is wrong.")
    groups("Exact duplicates", r["exact_duplicates"], "Byte-identical files.")
    groups("Near-duplicates", r["near_duplicates"], "Copies of one photo (crop, zoom, rotation, mirror, grey, "
           "lighting): an augmented export, or a burst of frames. A random split puts them on both sides.")  # fmt: skip

    def gallery(title: str, rows: list[dict], caption, note: str = "") -> None:
        b.append(("h2", f"{title}: {len(rows)}"))
        if note:
            b.append(("p", note))
        if rows:
            b.append(("gallery", [(thumb(x["path"]), caption(x)) for x in rows[:SHOWN]]))

    if "suspected_mislabels" in r:
        check = r.get("mislabel_settings", {}).get("model_check", "ran")
        judged = ("its nearest hands (its own copies left out) and a landmark model trained on the other folds of "
                  "a cross-validation" if check == "ran" else f"its nearest hands (its own copies left out); the "
                  f"cross-validated model was {check}")  # fmt: skip
        gallery("Suspected mislabels", r["suspected_mislabels"],
                lambda x: f"{_name(x['path'], x['split'])}: {x['label']} -> {x['suggested']}? {x['why']}",
                f"Judged by the hand's landmarks: {judged}. Look before relabelling.")  # fmt: skip
        gallery("No hand found", r["no_hand"], lambda x: f"{_name(x['path'], x['split'])} [{','.join(x['labels'])}]",
                "MediaPipe found no hand: the letter model cannot read these.")  # fmt: skip
    gallery("More than one box", r["multi_box"], lambda x: f"{_name(x['path'], x['split'])}: {', '.join(x['labels'])}")
    gallery(
        "Duplicate boxes",
        r["duplicate_boxes"],
        lambda x: f"{_name(x['path'], x['split'])}: {x['kind']} {'/'.join(x['labels'])} (IoU {x['iou']})",
    )
    b.append(("h2", f"Unreadable files: {len(r['unreadable'])}"))
    b += [("p", x["error"]) for x in r["unreadable"][:SHOWN]]
    b.append(("h2", f"Annotation problems: {len(r['annotation_problems'])}"))
    b += [("p", f"{x['where']}: {x['problem']}") for x in r["annotation_problems"][:SHOWN]]
    return b


def _markdown(blocks: list[tuple]) -> str:
    out: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2"):
            out += ["#" * int(kind[1]) + " " + blk[1], ""]
        elif kind == "p":
            out += [blk[1], ""]
        elif kind == "img":
            out += [f"![{blk[1]}]({blk[1]})", ""]
        elif kind == "table":
            out += ["| " + " | ".join(map(str, blk[1])) + " |", "|" + "---|" * len(blk[1])]
            out += ["| " + " | ".join(map(str, row)) + " |" for row in blk[2]] + [""]
        elif kind == "gallery":
            out += [f"![]({img}) {cap}" if img else f"(unreadable) {cap}" for img, cap in blk[1]] + [""]
    return "\n".join(out)


def _html(blocks: list[tuple], title: str) -> str:
    e = html.escape
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
           "body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}figure{display:inline-block;width:170px;"
           "margin:4px;vertical-align:top;font-size:11px;word-wrap:break-word}</style></head><body>"]  # fmt: skip
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{e(blk[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{e(blk[1])}</p>")
        elif kind == "img":
            out.append(f"<img src='{e(blk[1])}' alt='{e(blk[1])}'>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in blk[1])
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in blk[2])
            out.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif kind == "gallery":
            figs = [f"<figure>{f'<img src={e(img)!r}>' if img else '(unreadable)'}<figcaption>{e(cap)}"
                    "</figcaption></figure>" for img, cap in blk[1]]  # fmt: skip
            out.append("<div>" + "".join(figs) + "</div>")
    return "\n".join(out) + "</body></html>\n"


def write_manifest(r: dict[str, Any], items: list, path: Path) -> Path:
    """manifest.csv: every image with keep (false: unreadable, or a byte-identical copy of an earlier
    file), the suggested label of a suspected mislabel, and its findings. A new file; the set is untouched."""
    drop = {x["path"] for x in r["unreadable"]}
    for g in r["exact_duplicates"]:
        drop.update(g["paths"][1:])
    notes: dict[str, list[str]] = {}
    suggested: dict[str, str] = {}
    for k, g in enumerate(r["near_duplicates"]):
        for p in g["paths"]:
            notes.setdefault(p, []).append(f"near-duplicate group {k + 1}" + (" (leakage)" if g["cross_split"] else ""))
    for x in r.get("suspected_mislabels", []):
        notes.setdefault(x["path"], []).append(f"suspected mislabel: {x['why']}")
        suggested[x["path"]] = x["suggested"]
    for key, what in (("no_hand", "no hand found"), ("multi_box", "more than one box"), ("unreadable", "unreadable")):
        for x in r.get(key, []):
            notes.setdefault(x["path"], []).append(what)
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f)
        w.writerow(["path", "split", "labels", "keep", "suggested_label", "findings"])
        for it in items:
            p = str(it.path)
            found = "; ".join(notes.get(p, []))
            w.writerow([shown(p), it.split, ",".join(it.labels), p not in drop, suggested.get(p, ""), found])
    return path


def check_report_folder(out: str | Path, data: str | Path) -> None:
    """The report goes to a new or empty folder outside the audited set."""
    check_new_folder(out, set_roots(data), what="the audited set")


def write_audit(r: dict[str, Any], items: list, out: str | Path, manifest: bool = False) -> Path:
    """Write report.md, report.html, thumbs/, class_distribution.png, audit.json (and manifest.csv) to ``out``."""
    with new_folder(out, set_roots(r["data"]), what="the audited set") as dest:
        _write_audit_files(r, items, dest, manifest)
    return Path(out)


def _write_audit_files(r: dict[str, Any], items: list, dest: Path, manifest: bool) -> None:
    boxes = {str(it.path): it.boxes for it in items if it.boxes}
    plot_class_balance(r["balance"], dest / "class_distribution.png")
    blocks = _blocks(r, _Thumbs(dest / "thumbs", boxes))
    (dest / "report.md").write_text(_markdown(blocks), encoding="utf-8", errors="backslashreplace")
    page = _html(blocks, f"aslkit audit: {shown(r['data'])}")
    (dest / "report.html").write_text(page, encoding="utf-8", errors="backslashreplace")
    (dest / "audit.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
    if manifest:
        write_manifest(r, items, dest / "manifest.csv")
