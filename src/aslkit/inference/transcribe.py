"""Fingerspelling videos -> text: the live recognizer run over a whole file, with an optional word list.

``StreamingRecognizer`` with the spelling decoder reads letters where the hand dwells; here every frame
of a video goes through it at the video's own timestamps (so speeds and durations are right at any frame
rate), ``finish`` decides the frames the decoder still holds back at the end, and the text can then be
snapped to a word list where the letters were unsure (``aslkit.inference.lexicon``).

Each video gets a new recognizer: MediaPipe's tracker, the decoder, the motion model's window and the
text all carry state from frame to frame, and resetting them from outside would mean reaching into the
recognizer's internals. A new one costs 0.2-0.5 s on two cores (MediaPipe's graph about 0.2 s, the motion
model about 0.2 s; the letter model is loaded once per batch), against about 1 s to read a 3 s clip.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aslkit.data.sequences import is_video_path
from aslkit.errors import AslkitError, ModelError
from aslkit.inference.lexicon import Lexicon, load_lexicon
from aslkit.inference.spelling import SpelledLetter
from aslkit.kinds import InputKind
from aslkit.landmarks.video import frame_time, open_video
from aslkit.names import shown

if TYPE_CHECKING:
    from aslkit.inference.stream import Event, StreamingRecognizer
    from aslkit.models.io import TrainedModel


OFFLINE_LAG_S = 10.0
"""A file is read to its end before it is answered, so the decoder may wait: each frame is decided by the
best path over the next 10 s instead of live's quarter second (on the alphabet video a long, wavering H
hold reads H, not HUH). Memory: one small array per frame of those 10 s."""


@dataclass
class SpellingResult:
    """One video read: its text, the letters with their spans (seconds), or why it could not be read.
    ``raw_text`` is the text before the word list snapped it (None when nothing changed)."""

    path: str
    text: str = ""
    letters: list[SpelledLetter] = field(default_factory=list)
    error: str | None = None
    raw_text: str | None = None
    frames: int = 0
    duration: float = 0.0  # seconds of video read: the last frame's time plus one frame

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": str(self.path),
            "text": self.text,
            "letters": [x.to_json() for x in self.letters],
            "error": self.error,
        }
        if self.raw_text is not None:
            out["raw_text"] = self.raw_text
        return out

    def text_line(self) -> str:
        """The line `aslkit transcribe` prints for this video: path and text, tab-separated, with what was read
        before the word list snapped it (file names and errors escaped by ``shown``)."""
        if self.error:
            return f"{shown(self.path)}\terror: {shown(self.error)}"
        note = f"\t(word list; read {self.raw_text})" if self.raw_text is not None else ""
        return f"{shown(self.path)}\t{self.text or '(nothing read)'}{note}"


class FrameClock:
    """Frame times from the video's own timestamps (CAP_PROP_POS_MSEC), falling back to ``n / fps`` where a
    timestamp is missing, zero or not increasing: variable-frame-rate phone videos keep their real timing,
    and a broken container still gives increasing times."""

    def __init__(self, fps: float) -> None:
        self.fps = fps if math.isfinite(fps) and fps > 1 else 30.0
        self.last: float | None = None
        self.n = 0

    def __call__(self, msec: float | None) -> float:
        t = frame_time(msec, self.n, self.fps, self.last)
        self.last, self.n = t, self.n + 1
        return t


def _text_chars(events: Iterable[Event], letters: list[SpelledLetter]) -> list[tuple[str, float | None]]:
    """The text the events write, as (character, confidence) pairs: the Transcript replayed, with each
    spelled letter's final confidence (an event carries the confidence of the letter's first frame only).
    Word signs and spaces get None: a word list never changes them."""
    from aslkit.inference.stream import Transcript

    by_start = {round(x.start, 6): x for x in letters}
    text = Transcript()
    for ev in events:
        text.apply(ev)

    def confidence(ev: Event | None) -> float | None:
        if ev is None:
            return None
        rec = by_start.get(round(ev.start, 6)) if ev.start is not None else None
        return rec.confidence if rec is not None else ev.confidence

    return [(ch, confidence(ev)) for ch, ev in zip(text.text, text.sources, strict=True)]


def _video_source(path: str | Path) -> str:
    """The name to open: a file called ``0`` is a file here, not camera 0."""
    s = os.fspath(path)
    return os.path.join(".", s) if s.isdigit() else s


def transcribe(
    path: str | Path,
    model: str | Path | TrainedModel | None = None,
    lexicon: Lexicon | str | Path | None = None,
    recognizer: StreamingRecognizer | None = None,
    **overrides: Any,
) -> SpellingResult:
    """The fingerspelled text of one video. ``lexicon``: a Lexicon or a word-list file to snap unsure
    words to. ``recognizer``: a new StreamingRecognizer to use (it is not closed; its state would carry
    over from an earlier video, so give a fresh one); else one is built from ``model`` and the live
    settings ``overrides`` (defaults.toml [live]). A file that cannot be read as a video raises
    AslkitError; a video without a hand is an empty result, not an error."""
    import cv2
    import numpy as np

    from aslkit.inference.stream import StreamingRecognizer

    lex = load_lexicon(lexicon) if isinstance(lexicon, (str, Path)) else lexicon
    overrides = {"lag_s": OFFLINE_LAG_S, **overrides}
    cap = open_video(_video_source(path))
    clock = FrameClock(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    try:  # the decoder sizes letters in frames: it starts at the file's own rate
        rec = recognizer if recognizer is not None else StreamingRecognizer(model, frame_rate=clock.fps, **overrides)
    except BaseException:
        cap.release()
        raise
    events: list[Event] = []
    t = -1.0 / clock.fps
    try:
        while True:
            try:
                ok, frame = cap.read()
            except cv2.error:  # a source that fails mid-file: what was read so far is the answer
                ok = False
            if not ok or frame is None:
                break
            t = clock(cap.get(cv2.CAP_PROP_POS_MSEC))
            try:
                rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            except cv2.error as exc:  # a frame OpenCV decoded but cannot convert: the video is broken
                why = str(exc).strip().splitlines()[-1][:80] if str(exc).strip() else "cv2.error"
                raise AslkitError(f"{shown(path)}: frame {clock.n - 1} cannot be read ({why})") from None
            events += rec.process(rgb, t).events
        if clock.n == 0:
            raise AslkitError(f"{shown(path)}: no frames could be read (an empty video, or not a video)")
        events += rec.finish()
        letters = [x for x in rec.letters if len(x.letter) == 1]  # Space and Del act on the text
        raw = rec.transcript.text.strip()
    finally:
        cap.release()
        if recognizer is None:
            rec.close()
    result = SpellingResult(str(path), raw, letters, frames=clock.n, duration=max(t, 0.0) + 1.0 / clock.fps)
    if lex is not None and raw:
        chars = _text_chars(events, letters)
        if "".join(c for c, _ in chars).strip() == raw:  # the replay agrees with the recognizer's own text
            snapped = " ".join(lex.snap_text(chars).split())
            if snapped != raw:
                result.text, result.raw_text = snapped, raw
    return result


def collect_videos(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Videos in files and folders (folders: their video files, recursively); see ``collect_paths``."""
    from aslkit.inference.recognizer import collect_paths

    return collect_paths(paths, is_video_path, "videos")


def iter_transcribe(
    paths: Iterable[str | Path],
    model: str | Path | TrainedModel | None = None,
    lexicon: Lexicon | str | Path | None = None,
    progress: bool = False,
    **overrides: Any,
) -> Iterator[SpellingResult]:
    """``transcribe_paths`` one result at a time, in the order of the inputs (a folder's videos in its place)."""
    from aslkit.config import LiveConfig
    from aslkit.models.io import TrainedModel, load_model, resolve_model_path

    lex = load_lexicon(lexicon) if isinstance(lexicon, (str, Path)) else lexicon  # before any video is read
    cfg = LiveConfig.from_defaults(**overrides)  # an unknown or bad setting is one line, before any video
    for key in ("motion_model", "word_model"):  # the helper models too, not once per video
        try:
            if getattr(cfg, key):
                resolve_model_path(getattr(cfg, key))
        except ModelError as exc:
            raise ModelError(f"--{key.replace('_', '-')}: {exc}") from None
    loaded = model if isinstance(model, TrainedModel) else load_model(model)
    if loaded.kind is not InputKind.LANDMARKS:
        raise AslkitError(f"transcribe reads letters: {loaded.architecture!r} is not a hand-landmark letter model")
    per_input = [collect_videos([p]) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    total = sum(len(files) for files, _ in per_input)
    bar = None
    if progress and total > 1:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="videos", unit="video")
    try:
        for files, problems in per_input:  # in the order given: an input that cannot be read, in its place
            yield from (SpellingResult(p, error=why) for p, why in problems)
            for f in files:
                try:
                    yield transcribe(f, loaded, lex, **overrides)
                except AslkitError as exc:
                    yield SpellingResult(str(f), error=str(exc))
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()


def transcribe_paths(
    paths: Iterable[str | Path],
    model: str | Path | TrainedModel | None = None,
    lexicon: Lexicon | str | Path | None = None,
    progress: bool = False,
    **overrides: Any,
) -> list[SpellingResult]:
    """One SpellingResult per video in ``paths`` (folders expand to their videos). A path that cannot be
    read is its own row with ``error`` set and the batch goes on; the model, the settings and the word
    list are checked before any video is read."""
    return list(iter_transcribe(paths, model, lexicon, progress, **overrides))
