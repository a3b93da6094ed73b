"""How well the audit's near-duplicate search recovers an augmented export's copies.

A Roboflow export names each augmented copy after its source photo (``A11_jpg.rf.<hash>.jpg``), which
gives the true groups without looking at pixels. The audit never reads names; this script compares
its groups with them.

    .venv/bin/python benchmarks/audit_duplicates.py [IMAGES_DIR]

Prints: source photos, how many came out as exactly one group, groups holding copies of one photo
only (pure), and the seconds taken.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from aslkit.data.duplicates import near_duplicate_groups, thumbnail
from aslkit.data.images import load_image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="?", default=str(SHARED / "asl-letters-detection" / "train" / "images"))
    args = ap.parse_args()
    files = sorted(p for p in Path(args.images).iterdir() if ".rf." in p.name)
    truth = [re.sub(r"\.rf\..*", "", p.name) for p in files]
    t0 = time.perf_counter()
    nd = near_duplicate_groups([thumbnail(load_image(f)) for f in files], progress=sys.stderr.isatty())
    seconds = time.perf_counter() - t0
    members: dict[str, set[int]] = {}
    for i, stem in enumerate(truth):
        members.setdefault(stem, set()).add(i)
    found = [set(g) for g in nd.groups]
    multi = {s: m for s, m in members.items() if len(m) > 1}
    out = {
        "images": len(files),
        "source_photos_with_copies": len(multi),
        "grouped_whole": sum(1 for m in multi.values() if any(m <= g for g in found)),
        "grouped_exactly": sum(1 for m in multi.values() if m in found),
        "grouped_at_least_in_part": sum(1 for m in multi.values() if any(len(m & g) > 1 for g in found)),
        "groups_found": len(found),
        "groups_pure": sum(1 for g in found if len({truth[i] for i in g}) == 1),
        "seconds": round(seconds, 1),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
