"""Live recognition: frames in, text events out (letters, words, space, delete), in real time.

A per-frame letter model is noisy: its best guess flickers while a hand moves between letters, and
a held letter is seen thirty times a second. Two decoders turn the per-frame probabilities into text.
The default, ``SpellingDecoder`` (inference/spelling.py), reads natural-speed fingerspelling (2-6
letters a second) as a sequence: letters where the hand dwells, transitions where it moves. The
older ``LetterStream`` (``decoder = "hold"``) suits slow, deliberate spelling: it
text the way a reader would: it averages them over the last fraction of a second (exponential decay),
writes a letter once it has been the steady best guess for ``hold_s``, and writes the same letter
again only after a release (another letter, no hand, or the hand moving away). ``Space`` and ``Del``
act on the text and ``Nothing`` writes nothing. The moving letters J and Z come from a sequence model
over the last second of landmarks, and word signs from a word model when one is set.

``StreamingRecognizer`` runs MediaPipe Hands in tracking mode and both models on each frame; the CLI
(`aslkit live`, `aslkit transcribe`), the benchmark and the web app all use it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aslkit.config import LIVE_CHOICES, LiveConfig
from aslkit.data.images import image_input
from aslkit.data.sequences import HANDS, MIN_FRAMES
from aslkit.errors import AslkitError, ModelError
from aslkit.inference.spelling import SpelledLetter, SpellingDecoder
from aslkit.kinds import InputKind
from aslkit.labels import DEL, NOTHING, SPACE
from aslkit.landmarks.extractor import Hand, HandLandmarker, HandsResult
from aslkit.landmarks.features import canonical_points, featurize
from aslkit.models.io import TrainedModel, load_model

DECODERS = LIVE_CHOICES["decoder"]

MOTION_LETTERS = ("J", "Z")


@dataclass
class Event:
    """Something to do to the text: ``kind`` is letter, word, space or delete."""

    kind: str
    value: str
    time: float
    confidence: float
    start: float | None = None  # when the letter began (the spelling decoder); ``time`` is when it was decided

    def to_json(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "value": self.value,
            "time": round(self.time, 3),
            "confidence": round(self.confidence, 4),
        }
        if self.start is not None:
            out["start"] = round(self.start, 3)
        return out


@dataclass
class Transcript:
    """The running text the events write, and for each character the letter event that wrote it (None
    for spaces and word signs), so a word list can weigh each letter by its confidence."""

    text: str = ""
    sources: list[Event | None] = field(default_factory=list)

    def _add(self, chars: str, source: Event | None) -> None:
        self.text += chars
        self.sources += [source] * len(chars)

    def apply(self, event: Event) -> None:
        if event.kind == "letter":
            self._add(event.value, event)
        elif event.kind == "space":
            if self.text and not self.text.endswith(" "):
                self._add(" ", None)
        elif event.kind == "delete":
            self.text, self.sources = self.text[:-1], self.sources[:-1]
        elif event.kind == "word":
            if self.text and not self.text.endswith(" "):
                self._add(" ", None)
            self._add(event.value + " ", None)


class LetterStream:
    """Per-frame class probabilities -> events; see the module docstring. No MediaPipe here: feed it
    probabilities (None when no hand is in view) and timestamps."""

    def __init__(self, labels: list[str], cfg: LiveConfig | None = None) -> None:
        self.labels = list(labels)
        self.cfg = cfg or LiveConfig.from_defaults()
        self._nothing = np.zeros(len(labels), np.float64)
        if NOTHING in self.labels:
            self._nothing[self.labels.index(NOTHING)] = 1.0
        self.smoothed: np.ndarray | None = None
        self._last_t: float | None = None
        self._run: str | None = None
        self._run_start = 0.0
        self.blocked: str | None = None  # the last written letter, until released
        self._other_since: float | None = None
        self._written_at: np.ndarray | None = None  # wrist position when the blocked letter was written
        self.last_letter: Event | None = None
        self._motion_at = -math.inf  # when the last moving letter was written

    @property
    def best(self) -> tuple[str | None, float]:
        """The current smoothed best guess and its probability."""
        if self.smoothed is None:
            return None, 0.0
        i = int(self.smoothed.argmax())
        return self.labels[i], float(self.smoothed[i])

    def _release(self, best: str | None, conf: float, t: float, wrist: np.ndarray | None, size: float) -> None:
        if self.blocked is None:
            return
        if best != self.blocked or conf < self.cfg.min_confidence:
            self._other_since = t if self._other_since is None else self._other_since
            if t - self._other_since >= self.cfg.release_s:
                self.blocked = None
        else:
            self._other_since = None
        moved = wrist is not None and self._written_at is not None and size > 0
        if moved and np.linalg.norm(wrist - self._written_at) / size >= self.cfg.release_motion:
            self.blocked = None

    def _write(self, label: str, conf: float, t: float, wrist: np.ndarray | None) -> Event:
        kind = {SPACE: "space", DEL: "delete"}.get(label, "letter")
        self.blocked, self._other_since, self._written_at = label, None, wrist
        ev = Event(kind, label if kind == "letter" else label.lower(), t, conf)
        if kind == "letter":
            self.last_letter = ev
        return ev

    def update(
        self, probs: np.ndarray | None, t: float, wrist: np.ndarray | None = None, size: float = 0.0
    ) -> list[Event]:
        """One frame: class probabilities (or None: no hand), its time in seconds, the wrist position
        and hand size (any unit, the same for both) for the movement release."""
        x = self._nothing if probs is None else np.asarray(probs, np.float64)
        if self.smoothed is None or self._last_t is None:
            self.smoothed = x.copy()
        else:
            a = math.exp(-max(t - self._last_t, 0.0) / max(self.cfg.smoothing_s, 1e-6))
            self.smoothed = a * self.smoothed + (1 - a) * x
        self._last_t = t
        best, conf = self.best
        self._release(best, conf, t, wrist, size)
        if best is None or best == NOTHING or conf < self.cfg.min_confidence:
            self._run = None
            return []
        if best != self._run:
            self._run, self._run_start = best, t
            return []
        settled = t - self._motion_at >= self.cfg.motion_window_s  # the end of a movement is still that letter
        if t - self._run_start >= self.cfg.hold_s and best != self.blocked and settled:
            return [self._write(best, conf, t, wrist)]
        return []

    def motion_letter(self, label: str, conf: float, t: float, wrist: np.ndarray | None = None) -> list[Event]:
        """A moving letter (J, Z) from the motion model: written unless it was the last thing written
        and not released, or the window still holds the movement it was written for; a letter written
        during the movement (J starts as I) is replaced."""
        last = self.last_letter
        recent = last is not None and t - last.time < self.cfg.motion_window_s
        if label == self.blocked or t - self._motion_at < self.cfg.motion_window_s or (recent and last.value == label):
            return []  # already written (by the hand shape alone, or for this same movement)
        out = []
        if recent and last.value not in MOTION_LETTERS:
            out.append(Event("delete", "del", t, conf))
        out.append(self._write(label, conf, t, wrist))
        self._motion_at = t
        return out


def hands_row(result: HandsResult) -> np.ndarray:
    """One frame in the hands-only sequence layout (126): the signer's right hand in the right block.
    MediaPipe Hands names handedness as if the image were mirrored, so its "Left" is the signer's
    right hand in an unmirrored camera frame (the sequence sets' convention)."""
    row = np.zeros(HANDS.width, np.float32)
    taken: set[tuple[int, int]] = set()
    for hand in sorted(result.hands, key=lambda h: -h.score):
        block = HANDS.right if hand.handedness == "Left" else HANDS.left
        if block in taken:
            continue
        taken.add(block)
        row[block[0] : block[1]] = hand.landmarks.ravel()
    return row


@dataclass
class FrameResult:
    """What one frame gave: the hands, the main hand's current letter, events, and stage timings (ms)."""

    time: float
    hands: HandsResult
    hand: Hand | None
    letter: str | None
    confidence: float
    events: list[Event] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _seconds(t: object) -> float:
    """A frame's time as a finite number of seconds; AslkitError otherwise (NaN gave letters starting at NaN)."""
    try:
        v = float(t)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AslkitError(f"a frame's time must be a number of seconds, got {t!r}") from None
    if not math.isfinite(v):
        raise AslkitError(f"a frame's time must be a finite number of seconds, got {v}")
    return v


class StreamingRecognizer:
    """Frames (RGB uint8) in, events out.

    >>> rec = StreamingRecognizer()
    >>> for frame_result in map(rec.process, frames): print(frame_result.events)
    """

    def __init__(
        self,
        model: str | TrainedModel | None = None,
        cfg: LiveConfig | None = None,
        frame_rate: float | None = None,
        **overrides: Any,
    ):
        """``frame_rate``: the stream's nominal rate when known (a video file's); else the decoder measures it."""
        self.cfg = cfg or LiveConfig.from_defaults(**overrides)
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        self.model.use_backend(self.cfg.backend)
        self.model.onnx_threads = 1  # beside MediaPipe, as torch below
        if self.model.kind is not InputKind.LANDMARKS:
            raise ModelError(f"live letters need a hand-landmark model; {self.model.architecture!r} is not one")
        if self.cfg.decoder not in DECODERS:
            raise AslkitError(f"--decoder {self.cfg.decoder!r}: use one of {', '.join(DECODERS)}")
        self.stream = LetterStream(self.model.labels, self.cfg)
        spelling = self.cfg.decoder == "spelling"
        self.spelling = SpellingDecoder(self.model.labels, self.cfg, frame_rate or 30.0) if spelling else None
        self._probs: np.ndarray | None = None  # the last frame's letter probabilities (what is shown)
        self._main: np.ndarray | None = None  # the main hand's points on the last frame that had one
        self._no_hand_since: float | None = None
        self._last_letter: SpelledLetter | None = None
        self.transcript = Transcript()
        self.landmarker = HandLandmarker(
            static=False,
            max_hands=2,
            tracking_complexity=self.cfg.landmark_complexity,
            max_side=self.cfg.landmark_max_side,
            retry=self.cfg.landmark_retry,
            zoom=0.0 if self.cfg.word_model else self.cfg.landmark_zoom,  # word signs need both hands in view
            tiles=self.cfg.landmark_tiles,
        )
        self.landmarker.warmup()  # MediaPipe's graph loads now, not on the first frame
        self.motion = self._sequence(self.cfg.motion_model, self.cfg.backend)
        self.words = self._sequence(self.cfg.word_model, self.cfg.backend)
        self._buffer: deque[tuple[float, np.ndarray]] = deque()
        self._aspect: float | None = None  # the frames' width / height, for sign models that record their camera's
        self._frame = 0
        self._last_word: tuple[str, float] | None = None
        self._recent: deque[Event] = deque()  # events of the last word window, to take letters back
        # The last word sign's span: from its window's start to the last frame the word model still read it. A
        # letter the spelling decoder decides later (it lags) whose hand shape began in that span is the sign's
        # own hand shape, not text: it is never written (its start is kept, so a J or Z merging it deletes nothing).
        self._sign: tuple[float, float] | None = None
        self._sign_open = False  # the word model still reads that word (a repeat of it is not a new sign yet)
        self._hidden: set[float] = set()
        self._t0 = time.perf_counter()

    @staticmethod
    def _sequence(name: str, backend: str = "torch"):
        if not name:
            return None
        import torch

        from aslkit.inference.sequence_recognizer import SequenceRecognizer

        # One torch thread: MediaPipe keeps both cores busy, and torch's second thread spinning between
        # calls slowed it by 4 FPS here (28 -> 32 FPS end to end with one thread). A 20-frame clip
        # takes a few ms on one thread, run every few frames.
        torch.set_num_threads(1)
        rec = SequenceRecognizer(name, top_k=1, cache_dir=None)
        rec.model.use_backend(backend)
        rec.model.onnx_threads = 1
        rec.predict_frames(np.zeros((8, HANDS.width), np.float32))  # load the network now, not mid-stream
        return rec

    def _in_sign(self, ev: Event) -> bool:
        """A letter, Space or Del the spelling decoder read whose hand shape began inside the last word sign."""
        return ev.start is not None and self._sign is not None and self._sign[0] <= ev.start <= self._sign[1]

    def _emit(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        for ev in events:
            if ev.kind == "word":  # letters read off the hand shapes of this sign are not text: take them back
                out += [Event("delete", "del", ev.time, ev.confidence) for _ in range(self._letters_since(ev))]
            elif self._in_sign(ev):
                self._hidden.add(float(ev.start))  # type: ignore[arg-type]
                continue
            out.append(ev)
        for ev in out:
            self.transcript.apply(ev)
            self._recent.append(ev)
        while self._recent and out and out[-1].time - self._recent[0].time > self.cfg.word_window_s:
            self._recent.popleft()
        return out

    def _letters_since(self, word: Event) -> int:
        """Letters still in the text that were written during the word's window."""
        n = 0
        for ev in self._recent:
            if word.time - ev.time <= self.cfg.word_window_s:
                n += 1 if ev.kind == "letter" else -1 if ev.kind == "delete" else 0
        return max(0, min(n, len(self.transcript.text)))

    def process(self, rgb: np.ndarray | None, t: float | None = None, hands: HandsResult | None = None) -> FrameResult:
        """One frame; ``t`` its time in seconds (default: the wall clock since the first frame).
        ``hands``: the frame's landmarks when already found (a pipeline running ``self.landmarker``
        in its own thread); then ``rgb`` is not needed."""
        t = time.perf_counter() - self._t0 if t is None else _seconds(t)
        tm: dict[str, float] = {}
        c0 = time.perf_counter()
        if hands is None:
            if rgb is None:
                raise AslkitError("process needs the frame or its hands")
            hands = self.landmarker(image_input(rgb)[1])  # a frame of another shape or type: one ImageError
        c1 = time.perf_counter()
        hand = self.main_hand(hands)
        probs, wrist, size, pixels = None, None, 0.0, None
        feats = None
        if hand is not None:
            pts = canonical_points(hand, hands.width, hands.height)
            feats = featurize(pts)[None]
            pixels = hand.landmarks[:, :2] * np.array([hands.width, hands.height], np.float32)
            wrist = pixels[0]
            size = float(np.linalg.norm(pixels[9] - pixels[0]))
        c2 = time.perf_counter()
        if feats is not None:
            probs = self.model.predict_proba(feats)[0]
        c3 = time.perf_counter()
        events = self._spell(t, probs, pixels) if self.spelling else self.stream.update(probs, t, wrist, size)
        c4 = time.perf_counter()
        events += self._sequences(hands, t, wrist)
        c5 = time.perf_counter()
        tm = {"landmarks": c1 - c0, "normalization": c2 - c1, "classifier": c3 - c2, "smoothing": c4 - c3,
              "sequence": c5 - c4}  # fmt: skip
        letter, conf = self.best
        self._frame += 1
        return FrameResult(t, hands, hand, letter, conf, self._emit(events), {k: 1000 * v for k, v in tm.items()})

    @property
    def best(self) -> tuple[str | None, float]:
        """The letter the current frame shows (smoothed for the hold decoder) and its probability."""
        if self.spelling is None:
            return self.stream.best
        if self._probs is None:
            return None, 0.0
        i = int(self._probs.argmax())
        return self.model.labels[i], float(self._probs[i])

    def main_hand(self, hands: HandsResult) -> Hand | None:
        """The signing hand: the one nearest where it was on the last frame (within a hand's size), else
        the largest. MediaPipe sometimes finds one hand twice, or both hands; following the same hand
        keeps its speed and its letters from flickering between the two."""
        if not hands.hands:
            self._main = None
            return None
        scale = np.array([hands.width, hands.height], np.float32)
        largest = hands.main_hand()
        if self._main is None or len(hands.hands) == 1:
            chosen = largest
        else:
            prev = self._main
            size = max(float(np.ptp(prev[:, 0])), float(np.ptp(prev[:, 1])), 1e-6)
            dist = [float(np.linalg.norm(h.landmarks[:, :2] * scale - prev, axis=1).mean()) for h in hands.hands]
            j = int(np.argmin(dist))
            chosen = hands.hands[j] if dist[j] < size else largest
        self._main = chosen.landmarks[:, :2] * scale
        return chosen

    def _spell(self, t: float, probs: np.ndarray | None, pixels: np.ndarray | None) -> list[Event]:
        """The spelling decoder's new letters as events, and a space after ``word_gap_s`` without a hand."""
        assert self.spelling is not None
        self._probs = probs
        out = [self._letter_event(rec, t) for rec in self.spelling.update(t, probs, pixels)]
        if probs is not None:
            self._no_hand_since = None
        elif self._no_hand_since is None:
            self._no_hand_since = t
        elif t - self._no_hand_since >= self.cfg.word_gap_s and self._last_letter is not None:
            out.append(Event("space", "space", t, 1.0))
            self._last_letter = None  # one space per gap
        return out

    def _letter_event(self, rec: SpelledLetter, t: float) -> Event:
        kind = {SPACE: "space", DEL: "delete"}.get(rec.letter, "letter")
        if kind == "letter":
            self._last_letter = rec
        value = rec.letter if kind == "letter" else rec.letter.lower()
        return Event(kind, value, t, rec.confidence, rec.start)

    def finish(self) -> list[Event]:
        """The end of the stream: letters the decoder still held back (its lag), applied to the text."""
        if self.spelling is None:
            return []
        t = self._buffer[-1][0] if self._buffer else self.spelling.letters[-1].end if self.spelling.letters else 0.0
        events = [self._letter_event(rec, t) for rec in self.spelling.finish()]
        if self.motion is not None:  # the stream's last movement, with the letters just decided
            events += self._motion_check(t, None)
        return self._emit(events)

    @property
    def letters(self) -> list[SpelledLetter]:
        """Every letter read so far with its start, end and confidence (the spelling decoder only)."""
        return [] if self.spelling is None else list(self.spelling.letters)

    def _moving(self, label: str, conf: float, t: float, wrist: np.ndarray | None) -> list[Event]:
        if self.spelling is None:
            return self.stream.motion_letter(label, conf, t, wrist)
        starts = [r.start for r in self.spelling.letters]
        got = self.spelling.moving_letter(label, t, self.cfg.motion_window_s)
        if got is None:
            return []
        rec, replaced = got
        self._last_letter = rec  # the replaced letters are the last ones written (some maybe in this frame)
        shown = sum(start not in self._hidden for start in starts[len(starts) - replaced :])  # hidden: never written
        return [*[Event("delete", "del", t, conf) for _ in range(shown)], Event("letter", label, t, conf, rec.start)]

    def _motion_check(self, t: float, wrist: np.ndarray | None) -> list[Event]:
        """The motion model on the last ``motion_window_s`` of hands: a J or Z it is sure of."""
        clip = self._window(t, self.cfg.motion_window_s)
        if clip is None or self.motion is None:
            return []
        p = self.motion.predict_frames(clip, aspect=self._aspect)
        if p.label in MOTION_LETTERS and p.confidence >= self.cfg.motion_min_confidence:
            return self._moving(p.label, p.confidence, t, wrist)
        return []

    def _sequences(self, hands: HandsResult, t: float, wrist: np.ndarray | None) -> list[Event]:
        if self.motion is None and self.words is None:
            return []
        self._buffer.append((t, hands_row(hands)))
        self._aspect = hands.width / hands.height if hands.width > 0 and hands.height > 0 else None
        keep = max(self.cfg.motion_window_s, self.cfg.word_window_s if self.words else 0.0)
        while self._buffer and t - self._buffer[0][0] > keep:
            self._buffer.popleft()
        out: list[Event] = []
        if self.motion is not None and self._frame % max(1, self.cfg.motion_every) == 0:
            out += self._motion_check(t, wrist)
        if self.words is not None and self._frame % max(1, self.cfg.word_every) == 0:
            clip = self._window(t, self.cfg.word_window_s)
            still = False  # the model still reads the last word written: the same sign goes on, not a new one
            if clip is not None:
                p = self.words.predict_frames(clip, aspect=self._aspect)  # the camera's shape, as the model learned
                from aslkit.inference.sequence_recognizer import idle_label

                idle = idle_label(self.words.labels)  # the model's no-sign class, with or without a threshold
                sure = p.label != idle and p.confidence >= self.cfg.word_min_confidence
                last = self._last_word[0] if self._last_word is not None else None
                still = self._sign_open and p.label == last  # unsure of it for a moment: still that sign
                again = p.label == last and t - self._last_word[1] <= self.cfg.word_window_s  # type: ignore[index]
                if still and sure and self._sign is not None:
                    self._sign = (self._sign[0], t)
                elif sure and not still and not again:
                    self._last_word = (p.label, t)
                    self._sign = (t - self.cfg.word_window_s, t)
                    out.append(Event("word", str(p.label), t, p.confidence))
                    still = True
            self._sign_open = still  # once it reads another sign or none, the same word again is a new sign
        return out

    def _window(self, t: float, seconds: float) -> np.ndarray | None:
        """The last ``seconds`` of hand rows, if the buffer covers most of it and a hand is in it."""
        rows = [r for ts, r in self._buffer if t - ts <= seconds]
        if len(rows) < MIN_FRAMES or t - self._buffer[0][0] < 0.6 * seconds:
            return None
        clip = np.stack(rows)
        return clip if np.abs(clip).sum() > 0 else None

    def run(self, frames: Iterable[tuple[float, np.ndarray]]) -> Iterator[Event]:
        """Events from (time, RGB frame) pairs, as they happen."""
        for t, rgb in frames:
            yield from self.process(rgb, t).events
        yield from self.finish()

    def close(self) -> None:
        self.landmarker.close()
