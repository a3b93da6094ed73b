"""How well `aslkit audit` finds wrong labels: a clean class-folder set is linked into a temporary copy
with a share of its photos put in a wrong class folder (seeded), audited, and the suspects compared
with the photos that were moved. Nothing in the source set is touched (the copy holds symlinks).

    .venv/bin/python benchmarks/audit_mislabels.py [DATA] [--flip 0.05] [--seed 0] [--folds 5]

Prints the suspects' precision and recall against the moved photos, per signal and together.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from aslkit.data.images import is_image_path
from aslkit.evaluation.audit import AuditSettings, audit
from aslkit.labels import canonical_label

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(SHARED / "massey-letters"))
    ap.add_argument("--flip", type=float, default=0.05, help="share of photos put in a wrong class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    src = Path(args.data)
    classes = sorted(d.name for d in src.iterdir() if d.is_dir())
    files = [(f, c) for c in classes for f in sorted((src / c).iterdir()) if is_image_path(f)]
    rng = np.random.default_rng(args.seed)
    flipped = set(rng.choice(len(files), int(round(args.flip * len(files))), replace=False).tolist())
    with tempfile.TemporaryDirectory() as tmp:
        moved: dict[str, str] = {}  # linked path -> its true class
        for i, (f, c) in enumerate(files):
            target = c
            if i in flipped:
                target = str(rng.choice([x for x in classes if x != c]))
            d = Path(tmp) / target
            d.mkdir(exist_ok=True)
            (d / f.name).symlink_to(f)
            if i in flipped:
                moved[str(d / f.name)] = canonical_label(c)
        r = audit(tmp, settings=AuditSettings(folds=args.folds), progress=sys.stderr.isatty())
    sus = r["suspected_mislabels"]
    out = {"data": str(src), "images": len(files), "moved": len(moved), "hand_samples": r["hand_samples"]}
    moved_with_hand = len(moved) - sum(1 for x in r["no_hand"] if x["path"] in moved)
    out["moved_with_a_hand"] = moved_with_hand
    for name, rows in (
        ("either signal", sus),
        ("both signals", [s for s in sus if s["signals"] == 2]),
        ("neighbours", [s for s in sus if "nearest" in s["why"]]),
        ("model", [s for s in sus if "model says" in s["why"]]),
    ):
        hit = sum(1 for s in rows if s["path"] in moved)
        right = sum(1 for s in rows if moved.get(s["path"]) == s["suggested"])
        out[name] = {
            "suspects": len(rows),
            "precision": round(hit / max(len(rows), 1), 3),
            "recall_of_moved_with_hand": round(hit / max(moved_with_hand, 1), 3),
            "suggested_label_is_the_original": right,
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
