"""Tune the spelling decoder's settings on ONE signer's synthetic streams, so that the other signers
stay held out.

    .venv/bin/python benchmarks/tune_spelling.py [--json] [--quick] [--passes N] [--data DIR]

Protocol: the decoder's settings (enter_penalty, switch_penalty, move_speed, move_width, letter_min_s,
lag_s, the motion model's window, confidence and pace, the letter-pair prior's weight and moving_still) are chosen
ONLY on synthetic streams of TheCamNelson (``letters-hands.npz``), built with other seeds than
benchmarks/fingerspelling.py reports; dmohazab and Alex are never read here. The objective is letter
accuracy (1 - edit distance / letters) averaged over 2, 3, 4 and 5 letters a second.
The search is coordinate-wise over a small grid per setting, starting from defaults.toml and
keeping a change only when it gains more than ``--min-gain``, for ``--passes`` rounds. Nothing is
written: the best settings are printed, to be checked on the held-out signers with
``benchmarks/fingerspelling.py --set key=value ...`` before anyone edits defaults.toml.

No MediaPipe: the landmarks are given, and the frame model's and the motion model's outputs are
cached (they do not depend on the decoder's settings), so each setting costs only the decoding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fingerspelling import (  # noqa: E402
    DATA,
    RATES,
    TUNING_SIGNER,
    WORDS,
    landmarks_given,
    read_hands,
    stream_seed,
    text_of,
)

from aslkit.config import LiveConfig  # noqa: E402
from aslkit.inference.stream import StreamingRecognizer  # noqa: E402
from aslkit.landmarks.spelling_stream import SpellingStream, build_stream, letter_score, load_letter_clips  # noqa: E402
from aslkit.models.io import TrainedModel, load_model  # noqa: E402

SEED_OFFSET = 500  # tuning streams: other seeds than the benchmark's
GRID: dict[str, tuple[float, ...]] = {
    "enter_penalty": (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0),
    "switch_penalty": (2.0, 3.5, 5.0, 8.0, 12.0),
    "move_speed": (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
    "move_width": (0.15, 0.3, 0.5, 0.8),
    "letter_min_s": (0.03, 0.05, 0.07, 0.1, 0.13),
    "lag_s": (0.15, 0.25, 0.4),
    "motion_window_s": (0.5, 0.67, 0.8, 1.0, 1.3),
    "motion_min_confidence": (0.5, 0.6, 0.7, 0.8, 0.9),
    "motion_every": (2.0, 3.0, 5.0),
    "lm_weight": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0),
    "moving_still": (0.0, 0.25, 0.5, 0.75, 1.0),
}


def cache_outputs(model: TrainedModel) -> None:
    """Memoize the frame model's probabilities by input (the same streams are read for every setting)."""
    cache: dict[bytes, np.ndarray] = {}
    plain = model.predict_proba

    def predict_proba(features: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(features, np.float32)
        key = x.tobytes()
        if key not in cache:
            cache[key] = plain(x)
        return cache[key]

    model.predict_proba = predict_proba  # type: ignore[method-assign]


def cache_motion(rec: StreamingRecognizer) -> None:
    """Memoize the (shared) motion model's answers by clip."""
    motion = rec.motion
    if motion is None or getattr(motion, "_tune_cached", False):
        return
    cache: dict[bytes, Any] = {}
    plain = motion.predict_frames

    def predict_frames(frames: np.ndarray, path: str | None = None, **options: Any) -> Any:
        key = np.ascontiguousarray(frames, np.float32).tobytes() + repr(sorted(options.items())).encode()
        if key not in cache:
            cache[key] = plain(frames, path, **options)
        return cache[key]

    motion.predict_frames = predict_frames  # type: ignore[method-assign]
    motion._tune_cached = True  # type: ignore[attr-defined]


def evaluate(model: TrainedModel, streams: dict[float, list[SpellingStream]], live: dict[str, Any]) -> dict[str, Any]:
    """Letter accuracy per rate, and their mean (the objective)."""
    per_rate = {}
    for rate, sts in streams.items():
        pairs = []
        for st in sts:
            rec, _ = read_hands(model, st.frames, st.times, **live)
            cache_motion(rec)
            pairs.append((st.truth, text_of(rec)))
        per_rate[f"{rate:g}"] = round(letter_score(pairs), 4)
    return {"mean": round(float(np.mean(list(per_rate.values()))), 4), "per_rate": per_rate}


def search(
    model: TrainedModel,
    streams: dict[float, list[SpellingStream]],
    grid: dict[str, Sequence[float]],
    passes: int,
    min_gain: float,
    log: bool,
) -> tuple[dict[str, float], dict[str, Any], dict[str, Any], int]:
    """Coordinate search from the defaults: (best settings, their figures, the defaults' figures, runs)."""
    defaults = LiveConfig.from_defaults()
    best = {k: float(getattr(defaults, k)) for k in grid}
    base = evaluate(model, streams, best)
    score, runs, seen = base, 1, {tuple(sorted(best.items())): base}
    if log:
        print(f"defaults {best}: {base['mean']:.4f} {base['per_rate']}", flush=True)
    for p in range(passes):
        changed = False
        for key, values in grid.items():
            for v in values:
                trial = {**best, key: float(v)}
                ident = tuple(sorted(trial.items()))
                if ident not in seen:
                    seen[ident] = evaluate(model, streams, trial)
                    runs += 1
                res = seen[ident]
                if res["mean"] > score["mean"] + min_gain:
                    best, score, changed = trial, res, True
                    if log:
                        print(f"pass {p + 1}: {key}={v:g} -> {res['mean']:.4f} {res['per_rate']}", flush=True)
        if not changed:
            break
    return best, score, base, runs


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="10 words, 2 values per setting, one pass")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--min-gain", type=float, default=0.002, help="a change must gain more than this")
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    model = load_model("letters")
    cache_outputs(model)
    clips = load_letter_clips(args.data / "sign-sequences" / "letters-hands.npz", signers=[TUNING_SIGNER])
    words = WORDS[TUNING_SIGNER][: 10 if args.quick else None]
    streams = {
        rate: [
            build_stream(w, clips[TUNING_SIGNER], rate, seed=stream_seed(rate, i) + SEED_OFFSET)
            for i, w in enumerate(words)
        ]
        for rate in RATES
    }
    grid = {k: v[:: max(1, len(v) // 2)][:2] for k, v in GRID.items()} if args.quick else GRID
    with landmarks_given():
        best, score, base, runs = search(model, streams, grid, 1 if args.quick else args.passes, args.min_gain,
                                         not args.json)  # fmt: skip
    defaults = {k: float(getattr(LiveConfig.from_defaults(), k)) for k in grid}
    out = {
        "signer": TUNING_SIGNER,
        "words": len(words),
        "rates": list(RATES),
        "defaults": {"settings": defaults, **base},
        "best": {"settings": best, **score},
        "changed": {k: v for k, v in best.items() if v != defaults[k]},
        "runs": runs,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"\ntuning signer {TUNING_SIGNER}, {len(words)} words x rates {', '.join(f'{r:g}' for r in RATES)}, "
              f"{runs} settings tried, {out['seconds']:.0f} s")  # fmt: skip
        print(f"defaults: letters {base['mean']:.4f}  per rate {base['per_rate']}")
        print(f"best:     letters {score['mean']:.4f}  per rate {score['per_rate']}")
        sets = " ".join(f"--set {k}={v:g}" for k, v in out["changed"].items())
        print(f"changed:  {sets or '(none)'}")
        print(
            "check on the held-out signers: .venv/bin/python benchmarks/fingerspelling.py --skip video,photos " + sets
        )
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
