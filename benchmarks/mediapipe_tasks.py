"""MediaPipe's legacy Hands graph against the Tasks HandLandmarker (bundles built from the wheel): speed and agreement.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/mediapipe_tasks.py speed [--rounds 5]
    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/mediapipe_tasks.py agree

speed: one MediaPipe call per photo (IMAGE mode, the ladder's first rung: a 25% border) and per video frame (VIDEO
mode, the tracker, on the real fingerspelling video), the two APIs interleaved round by round in alternating order
(the machine is shared), median ms per call. agree: on 300 photos (Massey, 6 per letter, + asl-letters-detection
valid), found rate of one call and of aslkit's full retry ladder, and where both find a hand the main hand's
landmark distance (pixels, and as a share of the hand's box diagonal) and whether handedness agrees.
End-to-end accuracy: `ASLKIT_MEDIAPIPE_API=tasks aslkit evaluate DATA` against the same with legacy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from aslkit.landmarks.extractor import HandLandmarker, _border, import_mediapipe
from aslkit.landmarks.tasks import TasksHands

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def photos() -> list[Path]:
    """300 photos: 6 per Massey letter (spread over the signers) and the 144 detection-valid photos."""
    out = []
    for d in sorted((DATA / "massey-letters").iterdir()):
        files = sorted(d.glob("*"))
        out += files[:: max(1, len(files) // 6)][:6]
    return out + sorted((DATA / "asl-letters-detection" / "valid" / "images").glob("*.jpg"))


def rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def engines(static: bool) -> dict:
    mp = import_mediapipe()
    legacy = mp.solutions.hands.Hands(static_image_mode=static, max_num_hands=2, model_complexity=1)
    return {"legacy": legacy, "tasks": TasksHands(static=static, max_hands=2, complexity=1)}


def timed(sol, images: list[np.ndarray]) -> tuple[list[float], int]:
    ms, found = [], 0
    for img in images:
        t = time.perf_counter()
        res = sol.process(img)
        ms.append((time.perf_counter() - t) * 1000)
        found += bool(res.multi_hand_landmarks)
    return ms, found


def video_frames(first: int = 140, n: int = 300) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(DATA / "fingerspelling-videos" / "alphabet-a-to-z.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, first)
    frames = []
    while len(frames) < n:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    return frames


def speed(rounds: int) -> None:
    """IMAGE mode on 100 bordered photos, VIDEO mode on 300 video frames; interleaved rounds, median ms/call."""
    stills = [_border(rgb(p), 0.25, "mean")[0] for p in photos()[::3]]
    frames = video_frames()
    print(f"{len(stills)} photos, {len(frames)} video frames, {rounds} rounds", file=sys.stderr)
    for mode, images in (("IMAGE", stills), ("VIDEO", frames)):
        times: dict[str, list[float]] = {"legacy": [], "tasks": []}
        found: dict[str, int] = {}
        for r in range(rounds):
            order = ["legacy", "tasks"] if r % 2 == 0 else ["tasks", "legacy"]
            for name in order:
                sol = engines(mode == "IMAGE")[name]  # a fresh tracker each round
                sol.process(images[0])  # warm-up, not timed
                ms, found[name] = timed(sol, images)
                times[name].append(statistics.median(ms))
                sol.close()
        for name, t in times.items():
            print(f"{mode} {name}: median {statistics.median(t):.1f} ms/frame (rounds: "
                  f"{', '.join(f'{x:.1f}' for x in t)}), hand found {found[name]}/{len(images)}")  # fmt: skip


def agree() -> None:
    files = photos()
    one = {name: HandLandmarker(static=True, api=name, attempts=(("border25", 0.25, "mean", 1, 0.5),))
           for name in ("legacy", "tasks")}  # fmt: skip
    full = {name: HandLandmarker(static=True, api=name) for name in ("legacy", "tasks")}
    found1 = {n: 0 for n in one}
    found = {n: 0 for n in full}
    px, rel, same_hand, same_rung, both = [], [], 0, 0, 0
    for f in files:
        img = rgb(f)
        for n in one:
            found1[n] += one[n](img).found
        res = {n: full[n](img) for n in full}
        for n in full:
            found[n] += res[n].found
        a, b = res["legacy"].main_hand(), res["tasks"].main_hand()
        if a is None or b is None:
            continue
        both += 1
        w, h = res["legacy"].width, res["legacy"].height
        d = np.hypot((a.landmarks[:, 0] - b.landmarks[:, 0]) * w, (a.landmarks[:, 1] - b.landmarks[:, 1]) * h)
        x0, y0, x1, y1 = a.box
        px.append(float(d.mean()))
        rel.append(float(d.mean() / np.hypot((x1 - x0) * w, (y1 - y0) * h)))
        same_hand += a.handedness == b.handedness
        same_rung += res["legacy"].attempt == res["tasks"].attempt
    n = len(files)
    print(f"{n} photos ({sum('massey' in str(f) for f in files)} Massey, rest asl-letters-detection/valid)")
    print("| | legacy | tasks |\n|---|---|---|")
    print(f"| hand found, one call (25% border) | {found1['legacy']}/{n} | {found1['tasks']}/{n} |")
    print(f"| hand found, aslkit's retry ladder | {found['legacy']}/{n} | {found['tasks']}/{n} |")
    print(f"where both find a hand ({both}): mean landmark distance {np.mean(px):.2f} px "
          f"(median {np.median(px):.2f}, 95th pct {np.percentile(px, 95):.2f}), {100 * np.mean(rel):.2f}% of the "
          f"hand's box diagonal (95th pct {100 * np.percentile(rel, 95):.2f}%); handedness agrees {same_hand}/{both}; "
          f"same rung of the ladder {same_rung}/{both}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["speed", "agree"])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    speed(args.rounds) if args.what == "speed" else agree()


if __name__ == "__main__":
    main()
