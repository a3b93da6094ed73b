"""Live recognition on spelled words: videos built from letter photos (`aslkit make-spelling-video`),
read back by the live pipeline (`aslkit live`); exact words, and FPS at 640x480 on this machine.

    .venv/bin/python benchmarks/live_spelling.py [PHOTO_DIR] [--json]

PHOTO_DIR defaults to ../shared/data/massey-letters: five signers the shipped `letters` model never
trained on. The ten words have 5-6 letters, doubled letters included (HELLO, SCHOOL, COFFEE), and no J
or Z: those letters move, and a photo cannot show it. Each word gets its own photos (seed = its index).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from aslkit.data.spelling_video import make_spelling_video
from aslkit.live.run import run_live

WORDS = ("HELLO", "WORLD", "THANKS", "PLEASE", "FRIEND", "SCHOOL", "MOTHER", "WATER", "COFFEE", "GARDEN")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default="../shared/data/massey-letters")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, word in enumerate(WORDS):
            video = make_spelling_video(word, args.data, Path(tmp) / f"{word}.mp4", seed=i)
            res = run_live(video.path, window=False)
            s = res.summary()
            rows.append({"word": word, "text": res.text, "exact": res.text == word, "fps": s["fps"],
                         "landmarks_ms": s["stages"]["landmarks"],
                         "classifier_and_smoothing_ms": s["classifier_and_smoothing_ms"]})  # fmt: skip
            if not args.json:
                print(f"{word:<8} -> {res.text!r:<10} {s['fps']:5.1f} FPS", flush=True)
    out = {
        "data": args.data,
        "exact": sum(r["exact"] for r in rows),
        "words": len(rows),
        "fps_median": statistics.median(r["fps"] for r in rows),
        "landmarks_ms_median": statistics.median(r["landmarks_ms"] for r in rows),
        "classifier_and_smoothing_ms_median": statistics.median(r["classifier_and_smoothing_ms"] for r in rows),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"exact words: {out['exact']}/{out['words']}; median {out['fps_median']:.1f} FPS; MediaPipe "
            f"{out['landmarks_ms_median']:.1f} ms; classifier + smoothing "
            f"{out['classifier_and_smoothing_ms_median']:.3f} ms"
        )


if __name__ == "__main__":
    main()
