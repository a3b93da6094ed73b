"""Fingerspelling at natural speed: how much of it the live pipeline reads, with the spelling decoder
(``decoder="spelling"``, the default) and, for contrast, the old threshold decoder (``decoder="hold"``).

    .venv/bin/python benchmarks/fingerspelling.py [--json] [--quick] [--data DIR] [--set KEY=VALUE ...] [--model M]

a. A real video: one teacher spells A to Z (``fingerspelling-videos/alphabet-a-to-z.mp4``), read by
   MediaPipe + ``StreamingRecognizer`` in this script's own loop (frame times from the video's own
   timestamps): the text, its score (1 - edit distance / letters, the Kaggle ASL Fingerspelling
   metric), CER, which letters were read inside each captioned letter's span, and the halves A-M, N-Z.
a2. The same video with only every 2nd, 3rd or 4th frame, timed as if it ran that much faster (1.2 to 2.4
   letters a second, every transition shortened too): how the reading holds as the pace rises. Then the same
   with motion blur: each frame the mean of the k frames it stands for, as a k times longer shutter would
   see a hand moving k times as fast (a hand rising from rest is then a smear, as in real videos). The decoder
   was built with this video, so this is not a figure for new signers. Not in ``--quick``.
b. Synthetic streams at 2, 3, 4 and 5 letters a second built from real landmark frames of three
   signers (``sign-sequences/letters-hands.npz``, see ``aslkit.landmarks.spelling_stream``): 40 words per
   signer spelled from the letters that signer recorded (Alex has no F, J, S-Z; dmohazab only 15
   letters), fixed before any result was seen. Per rate and signer: letter accuracy, exact words,
   and both again without the words holding J or Z.
   Which models saw these signers: the frame letter model ``letters`` did NOT train on
   letters-hands.npz (weights/letters.json meta: photos, the Kaggle set, the detection set and
   hand-landmarks-letters/frames.npz; see scripts/train_default_letters.sh), so its letters here are
   other people's. The motion model ``letters-motion`` (J, Z) trained on all of letters-hands.npz, all
   three signers; a motion model trained without the signer gives the same figures for every rate and
   signer (``--set motion_model=RUN`` with ``aslkit train letters-hands.npz --model seq-tcn --holdout
   dmohazab``, and the same for Alex; 2026-12-01), so the held-out rows are held out for both models.
   The decoder's settings may only be tuned on TheCamNelson's streams (benchmarks/tune_spelling.py,
   other seeds); dmohazab and Alex are the held-out signers.
b2. Random strings of 3-6 still letters, 40 per signer at 3 and 4 letters a second (other stream seeds):
   no English, so what the decoder's letter-pair prior (``lm_weight``) costs a name or an unknown word.
c. Words spelled from photos, each held 1 s with a short gap (``make_spelling_video``, the words of
   benchmarks/live_spelling.py): exact words out of 10, from Massey (never trained on) and the five
   letters-more-people sets (marked when the model's training command or data list names them). The videos go
   through ``run_live``'s own reading (frame n at n / FPS, ``finish()`` at the end).
d. The decoder's own cost per frame: ``SpellingDecoder.update`` alone (and ``LetterStream.update``).

MediaPipe runs once per video; the hold decoder reads the same landmarks again (``process(None, t,
hands=...)``), so both decoders see identical hands. ``--quick``: a small subset, for a smoke check.
``--set key=value``: live settings for both decoders (e.g. settings from tune_spelling.py).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import inspect
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import aslkit.inference.stream as stream_mod
from aslkit.config import LiveConfig
from aslkit.inference.spelling import SpellingDecoder
from aslkit.inference.stream import Event, LetterStream, StreamingRecognizer
from aslkit.inference.transcribe import OFFLINE_LAG_S
from aslkit.landmarks.extractor import HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.landmarks.spelling_stream import (
    MOVING_LETTERS,
    SpellingStream,
    build_stream,
    edit_distance,
    letter_score,
    load_letter_clips,
    spellable,
)
from aslkit.models.io import TrainedModel, load_model

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RATES = (2.0, 3.0, 4.0, 5.0)
DECODERS = ("spelling", "hold")
# the real video also through `aslkit transcribe`'s setting: a whole file, each frame decided with 10 s of context
VIDEO_DECODERS = ("spelling", "transcribe", "hold")
# Fixed before any result was seen; each signer's words use only the letters that signer recorded.
WORDS: dict[str, tuple[str, ...]] = {
    "TheCamNelson": (
        "THE", "AND", "YOU", "THAT", "WITH", "HAVE", "FROM", "THEY", "WHAT", "ABOUT",
        "WHICH", "PEOPLE", "WATER", "HOUSE", "WORLD", "SCHOOL", "FRIEND", "MOTHER", "NIGHT", "PLACE",
        "THINK", "QUICK", "BLACK", "HELLO", "COFFEE", "GOOD", "BOOK", "WEEK", "APPLE", "LETTER",
        "SMALL", "JUMP", "JUST", "ZERO", "PIZZA", "JAZZ", "QUIZ", "JOHN", "MARY", "DAVID",
    ),
    "dmohazab": (
        "MOST", "MUST", "STAY", "WAIT", "TRUST", "STORY", "FIRST", "FROM", "YOUR", "OUT",
        "WAY", "TWO", "SIX", "FAST", "SMART", "START", "STORM", "WARM", "VISIT", "ARMY",
        "WRIST", "JURY", "JUST", "JOY", "JAM", "MIX", "TAX", "ROOM", "TOO", "ZOO",
        "JAZZ", "FIZZ", "MISS", "ASSIST", "ROOT", "MATT", "OTTO", "SAM", "AMY", "MAX",
    ),
    "Alex": (
        "AND", "HER", "HAND", "BLACK", "BIRD", "BREAD", "CAME", "DOG", "DRINK", "GIRL",
        "GREEN", "HELP", "HOME", "KING", "LEMON", "LIKE", "MAKE", "NAME", "OPEN", "PIANO",
        "PLACE", "RICE", "CLEAN", "CHILD", "ORANGE", "PHONE", "HELLO", "BOOK", "GOOD", "KEEP",
        "APPLE", "COOKIE", "DINNER", "BALL", "DOOR", "ANNA", "ELLEN", "ERIC", "LINDA", "BOB",
    ),
}  # fmt: skip
TUNING_SIGNER = "TheCamNelson"
PHOTO_WORDS = ("HELLO", "WORLD", "THANKS", "PLEASE", "FRIEND", "SCHOOL", "MOTHER", "WATER", "COFFEE", "GARDEN")


def stream_seed(rate: float, index: int) -> int:
    """The benchmark's stream seeds; tune_spelling.py uses others (``offset``), so the reported
    TheCamNelson streams are not the ones tuned on."""
    return int(100 * rate) * 1000 + index


# -- reading frames ------------------------------------------------------------------------------------
class _NoLandmarker:
    """Stands in for MediaPipe where the landmarks are given (``process(None, t, hands=...)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def warmup(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __call__(self, rgb: np.ndarray) -> HandsResult:
        raise RuntimeError("no MediaPipe in this recognizer: pass the frame's hands")


@contextlib.contextmanager
def landmarks_given() -> Iterator[None]:
    """Recognizers made inside skip MediaPipe's start-up and share one motion model: building one per
    stream would otherwise cost about a second each, for hundreds of short streams."""
    cached = functools.lru_cache(maxsize=None)(StreamingRecognizer._sequence)
    with (
        mock.patch.object(stream_mod, "HandLandmarker", _NoLandmarker),
        mock.patch.object(StreamingRecognizer, "_sequence", staticmethod(cached)),
    ):
        yield


def read_hands(
    model: TrainedModel, frames: Sequence[HandsResult], times: Sequence[float], **live: Any
) -> tuple[StreamingRecognizer, list[Event]]:
    """Given landmarks through a fresh recognizer (inside ``landmarks_given``), ended with ``finish``;
    the recognizer and every event it wrote."""
    rec = StreamingRecognizer(model, **live)
    events: list[Event] = []
    for hands, t in zip(frames, times, strict=True):
        events += rec.process(None, float(t), hands=hands).events
    events += rec.finish()
    return rec, events


def read_video(
    path: Path,
    model: TrainedModel,
    pos_times: bool = True,
    max_frames: int | None = None,
    stride: int = 1,
    blur: bool = False,
    **live: Any,
) -> tuple[StreamingRecognizer, list[Event], list[HandsResult], list[float], float]:
    """A video through MediaPipe and the recognizer (its landmarks kept for the other decoder): frame
    times from the video's timestamps (``pos_times``) or n / FPS as ``run_live`` does. ``stride`` k > 1:
    only every k-th frame, timed as if the video ran k times faster (the signer spelling k times as fast);
    with ``blur``, each kept frame is the mean of the k frames up to it (a k times longer shutter).
    Returns the recognizer, its events, the hands, the times and MediaPipe's median ms per frame."""
    import cv2

    from aslkit.landmarks.video import open_video

    cap = open_video(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    rec = StreamingRecognizer(model, **live)
    events: list[Event] = []
    hands, times, ms = [], [], []
    n = -1
    shutter: list[np.ndarray] = []
    try:
        while max_frames is None or len(times) < max_frames:
            ok, frame = cap.read()
            n += 1
            if not ok:
                break
            if blur and stride > 1:
                shutter = [*shutter[-(stride - 1) :], frame.astype(np.float32)]
            if n % stride:
                continue
            if len(shutter) > 1:
                frame = (sum(shutter) / len(shutter)).round().astype(np.uint8)
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000 / stride if pos_times else len(times) / fps
            res = rec.process(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)), t)
            events += res.events
            hands.append(res.hands)
            times.append(t)
            ms.append(res.timings.get("landmarks", 0.0))
    finally:
        cap.release()
    events += rec.finish()
    rec.close()
    return rec, events, hands, times, statistics.median(ms) if ms else 0.0


def text_of(rec: StreamingRecognizer) -> str:
    """The transcript's letters (spaces from pauses are not letters)."""
    return rec.transcript.text.replace(" ", "")


def read_spans(rec: StreamingRecognizer, events: list[Event]) -> list[tuple[str, float, float]]:
    """The letters read, with when: the spelling decoder's own spans; for the hold decoder, each
    written letter's hold (``hold_s`` before it was written)."""
    if rec.spelling is not None:
        return [(x.letter, x.start, x.end) for x in rec.letters if len(x.letter) == 1]
    out: list[tuple[str, float, float]] = []
    for ev in events:
        if ev.kind == "letter":
            out.append((ev.value, ev.time - rec.cfg.hold_s, ev.time))
        elif ev.kind == "delete" and out:
            out.pop()
    return out


# -- a. the real video ----------------------------------------------------------------------------------
def assign(spans: list[tuple[str, float, float]], read: list[tuple[str, float, float]]) -> list[str]:
    """Per true span, the letters read inside it: each read letter goes to the span it overlaps most,
    else the nearest one."""
    out = [""] * len(spans)
    for letter, a, b in read:
        overlap = [min(b, e) - max(a, s) for _, s, e in spans]
        j = int(np.argmax(overlap))
        if overlap[j] < 0:
            mid = (a + b) / 2
            j = int(np.argmin([min(abs(mid - s), abs(mid - e)) for _, s, e in spans]))
        out[j] += letter
    return out


def video_report(
    rec: StreamingRecognizer, events: list[Event], spans: list[tuple[str, float, float]]
) -> dict[str, Any]:
    """Text, score, CER, the letters read inside each span, and the halves A-M, N-Z."""
    truth = "".join(s[0] for s in spans)
    text = text_of(rec)
    d = edit_distance(truth, text)
    per = assign(spans, read_spans(rec, events))
    halves = {}
    for name, lo, hi in (("A-M", "A", "M"), ("N-Z", "N", "Z")):
        idx = [i for i, s in enumerate(spans) if lo <= s[0] <= hi]
        t, r = "".join(spans[i][0] for i in idx), "".join(per[i] for i in idx)
        if t:
            halves[name] = {"truth": t, "read": r, "score": round(letter_score([(t, r)]), 4)}
    return {
        "text": rec.transcript.text,
        "score": round(1 - d / len(truth), 4),
        "cer": round(d / len(truth), 4),
        "edit_distance": d,
        "per_letter": {s[0]: per[i] for i, s in enumerate(spans)},
        "letters_right": sum(per[i] == s[0] for i, s in enumerate(spans)),
        "halves": halves,
    }


def real_video(data: Path, model: TrainedModel, live: dict[str, Any], quick: bool) -> dict[str, Any]:
    folder = data / "fingerspelling-videos"
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        name, truth = next((r["file"], r["text"]) for r in csv.DictReader(f))
    with open(folder / "alphabet-a-to-z.letters.csv", newline="", encoding="utf-8") as f:
        rows = [(r["letter"], int(r["first_frame"]), int(r["last_frame"])) for r in csv.DictReader(f)]
    if quick:
        rows = rows[:6]
    max_frames = rows[-1][2] + 1 if quick else None
    rec, events, hands, times, mp_ms = read_video(folder / name, model, max_frames=max_frames, **live)
    spans = [(letter, times[a], times[min(b, len(times) - 1)]) for letter, a, b in rows]
    out: dict[str, Any] = {"video": name, "truth": "".join(r[0] for r in rows), "labels_csv": truth,
                           "frames": len(times), "mediapipe_ms": round(mp_ms, 1)}  # fmt: skip
    out["spelling"] = video_report(rec, events, spans)
    with landmarks_given():
        offline, offline_events = read_hands(model, hands, times, **{"lag_s": OFFLINE_LAG_S, **live})
        hold, hold_events = read_hands(model, hands, times, **{**live, "decoder": "hold"})
    out["transcribe"] = video_report(offline, offline_events, spans)
    out["hold"] = video_report(hold, hold_events, spans)
    return out


SPEEDUPS = (2, 3, 4)  # the alphabet video at 1.2, 1.8 and 2.4 letters a second


def faster_video(data: Path, model: TrainedModel, live: dict[str, Any], speedups=SPEEDUPS) -> dict[str, Any]:
    """The same real video with only every k-th frame, timed k times faster: the teacher spelling at a
    natural pace (every transition shortened too). Not another signer: the decoder was built with this
    video, so these figures say how the reading holds as the pace rises, not how it reads new people."""
    folder = data / "fingerspelling-videos"
    with open(folder / "alphabet-a-to-z.letters.csv", newline="", encoding="utf-8") as f:
        rows = [(r["letter"], int(r["first_frame"]), int(r["last_frame"])) for r in csv.DictReader(f)]
    out = {}
    for blur in (False, True):
        for k in speedups:
            rec, events, _, times, _ = read_video(folder / "alphabet-a-to-z.mp4", model, stride=k, blur=blur, **live)
            spans = [
                (letter, times[min(a // k, len(times) - 1)], times[min(b // k, len(times) - 1)])
                for letter, a, b in rows
            ]
            rate = len(rows) / (spans[-1][2] - spans[0][1])
            out[f"{k}-blur" if blur else str(k)] = {"letters_per_s": round(rate, 2), **video_report(rec, events, spans)}
    return out


# -- b. synthetic streams -------------------------------------------------------------------------------
def synthetic(
    model: TrainedModel,
    clips: dict,
    words: dict[str, Sequence[str]],
    rates: Sequence[float],
    live: dict[str, Any],
    decoders: Sequence[str] = DECODERS,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One row per (decoder, rate, signer, word): the truth and what was read."""
    rows = []
    with landmarks_given():
        for signer, ws in words.items():
            for rate in rates:
                for i, word in enumerate(ws):
                    if not spellable(word, clips[signer]):
                        continue
                    st = build_stream(word, clips[signer], rate, seed=stream_seed(rate, i) + offset)
                    for dec in decoders:
                        rec, _ = read_hands(model, st.frames, st.times, **{**live, "decoder": dec})
                        rows.append({"decoder": dec, "rate": rate, "signer": signer, "word": word,
                                     "read": text_of(rec)})  # fmt: skip
    return rows


HELD_OUT = "held-out"  # per rate, the signers other than TUNING_SIGNER pooled
STRINGS_RATES = (3.0, 4.0)
STRINGS_SEED_OFFSET = 900  # the random strings' streams: other seeds than the words'


def random_strings(clips: dict, n: int, seed: int = 7) -> dict[str, list[str]]:
    """Per signer, ``n`` random strings of 3-6 letters (no J/Z: the still letters that signer recorded). They
    are no English: what the decoder's letter-pair prior (``lm_weight``) costs a name or an unknown word."""
    rng = np.random.default_rng(seed)
    out = {}
    for signer in WORDS:
        have = sorted(k for k in clips[signer] if len(k) == 1 and k not in MOVING_LETTERS)
        out[signer] = ["".join(rng.choice(have, size=int(rng.integers(3, 7)))) for _ in range(n)]
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Letter accuracy and exact words, all words and without J/Z."""

    def figures(rs: list[dict[str, Any]]) -> dict[str, Any]:
        pairs = [(r["word"], r["read"]) for r in rs]
        plain = [(w, t) for w, t in pairs if not set(w) & set(MOVING_LETTERS)]
        return {
            "letters": round(letter_score(pairs), 4),
            "exact": sum(w == t for w, t in pairs),
            "words": len(pairs),
            "letters_no_jz": round(letter_score(plain), 4) if plain else None,
            "exact_no_jz": sum(w == t for w, t in plain),
            "words_no_jz": len(plain),
        }

    out: dict[str, Any] = {}
    for dec in sorted({r["decoder"] for r in rows}):
        mine = [r for r in rows if r["decoder"] == dec]
        out[dec] = {
            f"{rate:g}": {
                signer: figures([r for r in mine if r["rate"] == rate and r["signer"] == signer])
                for signer in dict.fromkeys(r["signer"] for r in mine)
            }
            for rate in sorted({r["rate"] for r in mine})
        }
        for rate, per in out[dec].items():  # the held-out signers' letters pooled: the figure the target names
            pooled = [r for r in mine if f"{r['rate']:g}" == rate and r["signer"] != TUNING_SIGNER]
            if pooled:
                per[HELD_OUT] = figures(pooled)
        held = [r for r in mine if r["signer"] != TUNING_SIGNER]
        out[dec]["held_out_all_rates"] = figures(held) if held else None
    return out


# -- c. words from photos ---------------------------------------------------------------------------------
PHOTO_SETS = ("massey-letters", *(f"letters-more-people/{p}" for p in
              ("lisadounia", "kynmiiso", "carbonara21", "prasukj7", "zarakiliz")))  # fmt: skip
"""Photo folders of people the shipped `letters` model never trained on: Massey's five signers cut out on black,
and five more people's own cameras and rooms (upper body or hand, webcams, backlit windows)."""


def photo_words(data: Path, model: TrainedModel, live: dict[str, Any], words: Sequence[str]) -> dict[str, Any]:
    """The words spelled from each of PHOTO_SETS, each marked ``trained_on`` when the model's recorded training
    command or data list names it (then it is not other people's photos: the letters-more-people sets joined the shipped
    model's training on 2026-12-01; their held-out figures come from leave-one-person-out models)."""
    command = str(model.meta.get("command", ""))
    sources = [str(d).replace("\\", "/").rstrip("/") for d in model.meta.get("data") or []]  # a run's own data list
    out = {}
    for name in PHOTO_SETS:
        if (data / name).is_dir():
            seen = name in command or any(d == name or d.endswith("/" + name) for d in sources)
            out[name] = {**photo_words_of(data / name, model, live, words), "trained_on": seen}
    return out


def photo_words_of(photos: Path, model: TrainedModel, live: dict[str, Any], words: Sequence[str]) -> dict[str, Any]:
    from aslkit.data.spelling_video import make_spelling_video
    from aslkit.live.run import run_live

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, word in enumerate(words):
            video = make_spelling_video(word, photos, Path(tmp) / f"{word}.mp4", seed=i)
            rec, _, hands, times, _ = read_video(video.path, model, pos_times=False, **live)
            row = {"word": word, "spelling": text_of(rec)}
            with landmarks_given():
                row["hold"] = text_of(read_hands(model, hands, times, **{**live, "decoder": "hold"})[0])
            rows.append(row)
    out: dict[str, Any] = {"run_live_calls_finish": "finish()" in inspect.getsource(run_live), "rows": rows}
    for dec in DECODERS:
        out[dec] = {"exact": sum(r[dec] == r["word"] for r in rows), "words": len(rows),
                    "letters": round(letter_score([(r["word"], r[dec]) for r in rows]), 4)}  # fmt: skip
    return out


# -- d. the decoder's cost -----------------------------------------------------------------------------------
def decoder_cost(model: TrainedModel, streams: Sequence[SpellingStream], live: dict[str, Any]) -> dict[str, Any]:
    """ms per frame of the decoders' ``update`` alone, on the frame model's real outputs."""
    cfg = LiveConfig.from_defaults(**live)
    feeds = []
    for st in streams:
        feed = []
        for hands, t in zip(st.frames, st.times, strict=True):
            hand = hands.main_hand()
            if hand is None:
                feed.append((float(t), None, None))
                continue
            probs = model.predict_proba(featurize(canonical_points(hand, hands.width, hands.height))[None])[0]
            feed.append((float(t), probs, hand.landmarks[:, :2] * np.array([hands.width, hands.height])))
        feeds.append(feed)
    spell, hold = [], []
    for feed in feeds:
        dec, ls = SpellingDecoder(model.labels, cfg), LetterStream(model.labels, cfg)
        for t, probs, pts in feed:
            c0 = time.perf_counter()
            dec.update(t, probs, pts)
            c1 = time.perf_counter()
            ls.update(probs, t)
            c2 = time.perf_counter()
            spell.append(1000 * (c1 - c0))
            hold.append(1000 * (c2 - c1))
        dec.finish()

    def stats(v: list[float]) -> dict[str, float]:
        return {"median_ms": round(statistics.median(v), 4), "p95_ms": round(float(np.percentile(v, 95)), 4)}

    return {"frames": len(spell), "spelling": stats(spell), "hold": stats(hold)}


# -- the report ------------------------------------------------------------------------------------------
def parse_sets(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: use key=value")
        out[key.strip().replace("-", "_")] = value.strip()
    LiveConfig.from_defaults(**out)  # unknown keys and bad values fail here, before any work
    return out


def print_report(out: dict[str, Any]) -> None:
    if out.get("settings"):
        print("live settings:", ", ".join(f"{k}={v}" for k, v in out["settings"].items()))
    v = out.get("video")
    if v:
        print(f"\na. real video {v['video']} ({v['frames']} frames, MediaPipe {v['mediapipe_ms']} ms/frame)")
        print(f"   truth {v['truth']}")
        for dec in VIDEO_DECODERS:
            r = v[dec]
            halves = "  ".join(f"{k} {h['score']:.3f} ({h['read']})" for k, h in r["halves"].items())
            print(f"   {dec:<10} text {r['text']!r}\n            score {r['score']:.3f}  CER {r['cer']:.3f}  letters "
                  f"right {r['letters_right']}/{len(r['per_letter'])}  {halves}")  # fmt: skip
        print("   per letter (read inside its span):")
        for dec in VIDEO_DECODERS:
            cells = [f"{k}:{r or '-'}" for k, r in v[dec]["per_letter"].items()]
            print(f"   {dec:<10} " + " ".join(cells))
    fast = out.get("faster")
    if fast:
        print("\na2. the same video sped up (every k-th frame; -blur: each the mean of k frames; the decoder was built"
              " with this video)")  # fmt: skip
        for k, r in fast.items():
            print(f"   x{k:<6} ({r['letters_per_s']:.1f} letters/s) text {r['text']!r}  score {r['score']:.3f}  "
                  f"letters right {r['letters_right']}/{len(r['per_letter'])}")  # fmt: skip
    s = out.get("synthetic")
    if s:
        print("\nb. synthetic streams from real landmark frames (letters = 1 - edit distance / letters)")
        print(f"   {'decoder':<8} {'rate':>4}  {'signer':<13} {'letters':>7} {'exact':>7}  {'no J/Z':>6} {'exact':>7}")
        for dec in DECODERS:
            if dec not in s:
                continue
            for rate, per in s[dec].items():
                if rate == "held_out_all_rates":
                    continue
                for signer, f in per.items():
                    tag = " (tuning signer)" if signer == TUNING_SIGNER else ""
                    nojz = "" if f["letters_no_jz"] is None else f"{f['letters_no_jz']:.3f}"
                    print(f"   {dec:<8} {rate:>4}  {signer:<13} {f['letters']:7.3f} {f['exact']:>3}/{f['words']:<3}"
                          f"  {nojz:>6} {f['exact_no_jz']:>3}/{f['words_no_jz']:<3}{tag}")  # fmt: skip
            f = s[dec]["held_out_all_rates"]
            if f:
                print(
                    f"   {dec:<8} held-out signers, all rates: letters {f['letters']:.3f}, exact {f['exact']}/"
                    f"{f['words']}; no J/Z {f['letters_no_jz']:.3f}, exact {f['exact_no_jz']}/{f['words_no_jz']}"
                )
    r = out.get("strings")
    if r:
        print("\nb2. random letter strings, no J/Z (not English: the cost of the letter-pair prior)")
        for rate, per in r["spelling"].items():
            if rate != "held_out_all_rates":
                print("   " + "  ".join(f"{rate}/s {sg} {f['letters']:.3f} ({f['exact']}/{f['words']})"
                                      for sg, f in per.items()))  # fmt: skip
    for name, p in (out.get("photos") or {}).items():
        how = "run_live" if p["run_live_calls_finish"] else "own loop + finish() (run_live does not call finish)"
        seen = " -- TRAINED ON: in-distribution" if p.get("trained_on") else " -- never trained on"
        print(f"\nc. words from {name} photos, each held 1 s ({how}){seen}")
        for r in p["rows"]:
            print(f"   {r['word']:<8} spelling {r['spelling']!r:<10} hold {r['hold']!r}")
        print("   exact words: " + ", ".join(f"{d} {p[d]['exact']}/{p[d]['words']}" for d in DECODERS))
    c = out.get("cost")
    if c:
        print(f"\nd. decoder cost per frame ({c['frames']} frames): SpellingDecoder.update median "
              f"{c['spelling']['median_ms']:.3f} ms (p95 {c['spelling']['p95_ms']:.3f}); LetterStream.update "
              f"{c['hold']['median_ms']:.3f} ms")  # fmt: skip
    print(f"\n{out['seconds']:.0f} s")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--quick", action="store_true", help="a small subset (smoke check)")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a live setting, repeatable")
    parts = "video,faster,synthetic,strings,photos,cost"
    ap.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {parts}")
    ap.add_argument("--model", default="letters", help="the frame letter model: shipped name or run folder")
    ap.add_argument("--photo-words", default="", metavar="WORD,WORD", help="part c's words (default: PHOTO_WORDS)")
    args = ap.parse_args(argv)
    live = parse_sets(args.set)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    start = time.perf_counter()
    model = load_model(args.model)
    out: dict[str, Any] = {"settings": live, "quick": args.quick, "model": args.model}
    if "video" not in skip:
        out["video"] = real_video(args.data, model, live, args.quick)
    if "faster" not in skip and not args.quick:
        out["faster"] = faster_video(args.data, model, live)
    clips = load_letter_clips(args.data / "sign-sequences" / "letters-hands.npz")
    if "synthetic" not in skip:
        words = {s: w[:4] for s, w in WORDS.items()} if args.quick else WORDS
        rates = (3.0, 5.0) if args.quick else RATES
        out["synthetic"] = summarize(synthetic(model, clips, words, rates, live))
    if "strings" not in skip:
        strings = random_strings(clips, 4 if args.quick else 40)
        rows = synthetic(model, clips, strings, STRINGS_RATES, live, ("spelling",), STRINGS_SEED_OFFSET)
        out["strings"] = summarize(rows)
    if "photos" not in skip:
        chosen = [w.strip().upper() for w in args.photo_words.split(",") if w.strip()] or list(PHOTO_WORDS)
        out["photos"] = photo_words(args.data, model, live, chosen[:1] if args.quick else chosen)
    if "cost" not in skip:
        ws = WORDS[TUNING_SIGNER][: 3 if args.quick else 20]
        streams = [build_stream(w, clips[TUNING_SIGNER], 3.0, seed=i) for i, w in enumerate(ws)]
        out["cost"] = decoder_cost(model, streams, live)
    out["seconds"] = round(time.perf_counter() - start, 1)
    if args.json:
        print(json.dumps(out))
    else:
        print_report(out)
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
