"""Benchmark `aslkit predict`: cold start for one photo (the shipped model's default views), and
per-image cost in a batch vs MediaPipe alone, with one view (the photo), two (photo + mirror) and
"auto" (the mirror only for photos the first view is unsure of: the shipped default).

    .venv/bin/python benchmarks/predict_speed.py [IMAGE_DIR] [--n 200] [--json]

IMAGE_DIR defaults to ../shared/data/asl-alphabet-photos. The landmark cache is disabled so every
image really runs MediaPipe. "MediaPipe alone" is mp.solutions.hands.Hands.process on already
decoded RGB arrays in one process (one attempt, no retries) -- the floor for any landmark pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cold_start(image: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "aslkit", "predict", str(image), "--no-cache", "--json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def mediapipe_alone(files: list[Path]) -> float:
    from aslkit.data.images import load_image
    from aslkit.landmarks.extractor import import_mediapipe, quiet_stderr

    mp = import_mediapipe()
    imgs = [load_image(f) for f in files]
    with quiet_stderr():
        hands = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=1)
        hands.process(imgs[0])
        t = time.perf_counter()
        for im in imgs:
            hands.process(im)
    return (time.perf_counter() - t) / len(imgs)


def aslkit_batch(files: list[Path], workers: int, views: int | str) -> tuple[float, float]:
    from aslkit.inference.recognizer import Recognizer

    rec = Recognizer(cache_dir=None, views=views)
    rec.landmarker.warmup()
    t = time.perf_counter()
    preds = rec.predict_paths(files, workers=workers)
    dt = (time.perf_counter() - t) / len(files)
    return dt, sum(p.hand for p in preds) / len(preds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared/data/asl-alphabet-photos"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    files = sorted(p for p in Path(a.data).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    files = files[:: max(1, len(files) // a.n)][: a.n]
    res = {
        "images": len(files),
        "cold_start_s": round(cold_start(files[0]), 3),
        "mediapipe_ms_per_image": round(1000 * mediapipe_alone(files), 2),
    }
    cores = os.cpu_count() or 1
    for views in (1, 2, "auto"):
        one, rate = aslkit_batch(files, 1, views)
        many, _ = aslkit_batch(files, cores, views)
        res[f"views{views}_ms_per_image_1_process"] = round(1000 * one, 2)
        res[f"views{views}_ms_per_image_{cores}_processes"] = round(1000 * many, 2)
        res[f"views{views}_hand_found_rate"] = round(rate, 4)
    print(json.dumps(res) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
