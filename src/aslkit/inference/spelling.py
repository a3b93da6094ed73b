"""Fingerspelling at natural speed: per-frame letter probabilities and hand movement -> letters.

Fluent signers show 2-6 letters a second: each letter is held for a few frames (4-10 at 30 FPS) with
the hand moving between letters, and the frames in between look like other letters. A threshold on
a steady best guess (``LetterStream``) drops most of them. ``SpellingDecoder`` decodes the whole
stream instead, as a hidden Markov model over per-frame posteriors:

- states: a *transition* (blank) state, and for each letter a chain of ``min_frames`` states, so a
  letter lasts at least ``letter_min_s`` (the gestures Space and Del at least ``gesture_min_s``);
- emissions: a letter's score is its probability from the frame model times the chance that the
  hand is *dwelling*; the blank's score is the chance that it is *moving*. Movement is the median
  speed of the wrist and the five fingertips in hand sizes per second, so a letter is where the hand
  dwells (speed minima) and a fast frame is a transition whatever it looks like. J and Z are signed
  with a movement, so movement does not count against them, except while the hand is *arriving*:
  from its first frame back in view (after ``release_s`` or more out of it) until it first slows below
  ``move_speed``. A hand rising from rest is blurred and fast, and the frame model reads a blurred hand
  swinging up as J; a moving letter starts from a formed handshape, so it is not the first thing a hand
  does on arrival. And they come from their movement: on a hand as still as a held letter, J and Z keep
  ``moving_still`` of their probability and give the rest to the handshape they are traced with (J to I,
  Z to D), so a still I that the frame model reads half as J (its J learned from still photos) is an I.
  No hand, or the frame model's Nothing, is a transition too;
- transitions: staying is free; leaving a letter for the blank and entering one from it cost
  ``enter_penalty`` together, and going straight from one letter to another (no transition frame
  at all) costs ``switch_penalty``. The same letter twice (LL, OO, EE) needs the blank in between:
  the hand's small slide or bounce, faster than a held letter shakes;
- a letter prior (``lm_weight``, off at 0): the blank remembers the letter before it (one blank state per
  letter, and one for the start), so entering a letter adds ``lm_weight`` times how much likelier that
  letter is after the one before than anywhere (``letter_prior``, from English letter pairs in
  ``weights/letter-bigrams.json``). A letter the frames leave open is tipped towards English; a clear one
  is not overruled. With the weight at 0 the split blank decodes exactly as one blank would;
- decoding: Viterbi with a fixed lag (``lag_s``): each frame's state is decided from the best path
  ``lag_s`` later, which is when a letter is confirmed. A beam is not needed: the full trellis has
  one state per letter and frame of minimum duration (about 90) plus a blank per letter, a few
  microseconds of NumPy a frame.

Frame times come from the caller (a video's own timestamps), so speeds and durations are right at
any frame rate; durations in frames follow the measured frame rate.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import islice
from typing import Any

import numpy as np

from aslkit.config import LiveConfig
from aslkit.labels import DEL, NOTHING, SPACE

MOVING_LETTERS = ("J", "Z")
TIPS = (0, 4, 8, 12, 16, 20)  # wrist and fingertips: the points whose speed says "moving"
# The handshape a moving letter is made with: a J or Z movement recognised by the motion model turns
# a recent letter of that shape into the moving letter (J is I's handshape traced down and round; Z is
# the index finger tracing a Z). Not U: no recorded Z of letters-hands.npz (60, two signers) needs it, and with it
# the U of BUZZ or PUZZLE, right before the Z, was taken into the Z.
MOTION_SHAPES = {"J": ("I", "Y"), "Z": ("D", "G", "X", "L", "P", "Q", "K", "R")}
# The handshape a moving letter shows when the hand is still: J is traced with I's handshape, Z with the index
# finger alone (D's, without the thumb's touch the frame model barely sees).
STILL_SHAPE = {"J": "I", "Z": "D"}
HELD_SPEED, HELD_WIDTH = 0.5, 0.1  # hand sizes a second: a hand this still is holding a shape, not tracing one
MIN_FRAMES = 2
END_OF_MOVEMENT_S = 0.3
TYPICAL_LETTER_S = 0.2  # a letter's duration before any has been read (fluent signing: 0.15-0.5 s)
_EPS = 1e-6
_NEG = -1e9


def _logistic(z: float) -> float:
    """1 / (1 + e^-z), clamped so that a very fast or very still hand cannot overflow it."""
    return 1.0 / (1.0 + math.exp(-min(max(z, -50.0), 50.0)))


@lru_cache(maxsize=1)
def _letter_table() -> dict[str, Any]:
    return json.loads(resources.files("aslkit").joinpath("weights", "letter-bigrams.json").read_text("utf-8"))


def letter_prior(tokens: list[str]) -> np.ndarray:
    """(1 + len(tokens), len(tokens)) scores of entering each token: row 0 before the first letter, row 1 + a
    after token ``a``. Each is log P(letter | the one before) - log P(letter): how much likelier a letter is
    in that company than anywhere. Not log P(letter | before) alone: the frame model reads every letter
    with the same prior, so that would count a rare letter's rarity (Q, X, Z in names) against it again;
    on the tuning signer's streams it read worse at every weight. Tokens that are not letters (Space, Del)
    get no prior (0), and a letter after one is scored as a word's first."""
    table = _letter_table()
    idx = [table["letters"].find(tok.upper()) if len(tok) == 1 else -1 for tok in tokens]  # a-z as A-Z
    nxt, start, every = (np.asarray(table[k], np.float64) for k in ("next", "start", "letter"))
    out = np.zeros((1 + len(tokens), len(tokens)))
    for b, j in enumerate(idx):
        if j < 0:
            continue
        base = every[j]
        out[0, b] = start[j] - base
        for a, i in enumerate(idx):
            out[1 + a, b] = (nxt[i, j] if i >= 0 else start[j]) - base
    return out


@dataclass
class SpelledLetter:
    """One letter (or the gesture Space/Del) read from the stream, with its span in seconds."""

    letter: str
    start: float
    end: float
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "letter": self.letter,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 4),
        }


class HandSpeed:
    """How fast the hand moves: the median displacement of the wrist and fingertips between frames,
    in hand sizes (the longer side of the hand's box) per second, optionally smoothed over ``smooth_s``
    (off by default: a dwell of 3-4 frames must not inherit the speed of the movement before it).

    The box is used rather than the palm's length because the palm foreshortens when the hand points
    at the camera (P, Q), which would read as a fast hand."""

    def __init__(self, smooth_s: float = 0.0, span_s: float = 0.05) -> None:
        self.smooth_s = smooth_s
        self.span_s = span_s
        self._past: deque[tuple[np.ndarray, float]] = deque()
        self.value = 0.0
        self.known = False  # whether ``value`` was measured (False on a hand's first frame in view)

    def update(self, t: float, points: np.ndarray | None) -> float:
        """The speed at time ``t``, measured against the latest earlier frame at least ``span_s`` back:
        landmark jitter is per frame, so a fixed span keeps it from growing with the frame rate."""
        if points is None:
            self._past.clear()
            self.value, self.known = 0.0, False
            return 0.0
        p = np.asarray(points, np.float64)[TIPS, :2]
        size = max(float(np.ptp(points[:, 0])), float(np.ptp(points[:, 1])), 1e-6)
        while len(self._past) > 1 and t - self._past[1][1] >= self.span_s:
            self._past.popleft()
        if self._past and t > self._past[0][1]:
            old, t0 = self._past[0]
            raw = float(np.median(np.linalg.norm(p - old, axis=1))) / size / (t - t0)
            a = math.exp(-(t - t0) / self.smooth_s) if self.smooth_s > 0 else 0.0
            self.value = a * self.value + (1 - a) * raw
            self.known = True
        self._past.append((p, t))
        return self.value


class SpellingDecoder:
    """Per-frame letter probabilities (and the hand's points) in, spelled letters out; see the module
    docstring. Pure NumPy: feed it frames with ``update`` and call ``finish`` at the end.

    >>> dec = SpellingDecoder(model.labels)
    >>> for t, probs, points in frames: new = dec.update(t, probs, points)
    >>> dec.finish(); "".join(x.letter for x in dec.letters)
    """

    def __init__(self, labels: list[str], cfg: LiveConfig | None = None, frame_rate: float = 30.0) -> None:
        self.labels = list(labels)
        self.cfg = cfg or LiveConfig.from_defaults()
        self._blank_cols = [i for i, lab in enumerate(self.labels) if lab in (NOTHING, "-")]
        self.tokens = [lab for lab in self.labels if lab not in (NOTHING, "-")]
        self._cols = np.array([self.labels.index(tok) for tok in self.tokens], np.int64)
        self._free = np.array([tok in MOVING_LETTERS for tok in self.tokens])
        # (moving letter, its still handshape) token pairs: a moving letter read on a still hand gives that shape
        self._still = [(self.tokens.index(a), self.tokens.index(b)) for a, b in STILL_SHAPE.items()
                       if a in self.tokens and b in self.tokens]  # fmt: skip
        self.speed = HandSpeed()
        self.letters: list[SpelledLetter] = []  # everything read so far; ``end`` grows while a letter lasts
        self._durations: deque[float] = deque(maxlen=5)  # the last letters' durations (seconds)
        self._dts: list[float] = []
        self._last_t: float | None = None
        self._fixed_rate = False
        self._early: list[tuple[float, np.ndarray | None, np.ndarray | None]] = []
        self._build(frame_rate)
        self._reset_path()

    # -- the trellis -------------------------------------------------------------------------------
    def _build(self, frame_rate: float) -> None:
        """States: 0 is the blank at the start, 1 + k the blank after token k; token k owns states
        first[k]..last[k] (its minimum duration)."""
        self.frame_rate = float(frame_rate)
        cfg = self.cfg
        lengths = []
        for tok in self.tokens:
            seconds = cfg.gesture_min_s if tok in (SPACE, DEL) else cfg.letter_min_s
            # at least two frames: one frame is what a tracker shows while it catches up with a hand
            lengths.append(max(MIN_FRAMES, round(seconds * self.frame_rate)))
        self._nb = 1 + len(lengths)  # the blanks
        self._first = self._nb + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._last = self._first + np.array(lengths) - 1
        n = int(self._last[-1]) + 1 if len(lengths) else 1
        self._token_of = np.full(n, -1, np.int64)  # -1: a blank
        for k, (a, b) in enumerate(zip(self._first, self._last, strict=True)):
            self._token_of[a : b + 1] = k
        inner = np.ones(n, bool)
        inner[: self._nb] = False
        inner[self._first] = False
        self._inner = np.flatnonzero(inner)  # states entered from the state before them
        self.lag = max(1, round(cfg.lag_s * self.frame_rate))
        k = len(self.tokens)
        prior = cfg.lm_weight * letter_prior(self.tokens) if cfg.lm_weight > 0 and k else np.zeros((1 + k, k))
        self._enter = prior - cfg.enter_penalty  # (blank before, token): from a blank
        switch = prior[1:] - cfg.switch_penalty  # (token before, token): straight from another letter
        switch[np.diag_indices(k)] = _NEG  # the same letter twice needs a blank between
        self._switch = switch
        self._token_ids = np.arange(k)
        self._after_ids = np.arange(1, self._nb)  # the blanks after each token

    def _reset_path(self) -> None:
        self.delta = np.full(len(self._token_of), _NEG)
        self.delta[0] = 0.0
        self._back: deque[np.ndarray] = deque()
        # (time, token probabilities, moving: True/False, None without a hand) of the frames not yet decided
        self._frames: deque[tuple[float, np.ndarray, bool | None]] = deque()
        self._gap_moved = False  # since the last letter ended: did the hand move,
        self._gap_lost: tuple[float, float] | None = None  # and the longest stretch without a hand (start, end)
        self._lost_since: float | None = None
        self._out_since: float | None = None  # since when no hand is in view (undelayed, for the trellis)
        self._seg: SpelledLetter | None = None  # the decided letter in progress
        self._accepted = False  # whether it has lasted long enough to be a letter
        self._seg_token = -1
        self._seg_conf: list[float] = []
        self._pending_motion: tuple[str, float, float] | None = None  # (letter, time, window) not yet placed
        self._arriving = True  # the hand has not yet slowed down since it came into view (see the module docstring)

    # -- per frame ---------------------------------------------------------------------------------
    def emissions(
        self, probs: np.ndarray | None, speed: float, arriving: bool = False
    ) -> tuple[np.ndarray, float, np.ndarray]:
        """One frame's log scores of each token and of the blank, and its token probabilities. ``arriving``:
        the hand is still coming into view, so J and Z count movement against them like any letter."""
        if probs is None:
            q = np.full(len(self.tokens), 1.0 / max(len(self.tokens), 1))
            return np.full(len(self.tokens), math.log(_EPS)), 0.0, q
        p = np.asarray(probs, np.float64)
        blank_p = float(p[self._blank_cols].sum()) if self._blank_cols else 0.0
        q = p[self._cols]
        q = q / max(q.sum(), _EPS)
        z = (speed - self.cfg.move_speed) / max(self.cfg.move_width, 1e-6)
        moving = _logistic(z)
        # A moving frame is a transition unless it shows a moving letter: the blank takes the moving
        # share of the still letters' probability; J and Z keep theirs while the hand moves (unless it is
        # arriving), and on a held hand most of theirs goes to their handshape (below).
        free = 0.0 if arriving else self.cfg.moving_free
        if self._still and self.cfg.moving_still < 1.0:
            # held: as still as a held letter (they shake at 0.1-0.5 hand sizes a second), not merely slower than
            # a transition; a teacher's slow J moves at 1-5
            held = _logistic((HELD_SPEED - speed) / HELD_WIDTH)
            q = q.copy()
            for a, b in self._still:  # on a held hand, part of a moving letter's probability is its handshape's
                give = q[a] * held * (1.0 - self.cfg.moving_still)
                q[a] -= give
                q[b] += give
        keep = np.where(self._free, 1.0 - moving * (1.0 - free), 1.0 - moving)
        scores = (1.0 - blank_p) * keep * q
        blank = max(1.0 - blank_p - float(scores.sum()), 0.0) + blank_p
        return np.log(scores + _EPS), math.log(max(blank, _EPS)), q

    def update(self, t: float, probs: np.ndarray | None, points: np.ndarray | None = None) -> list[SpelledLetter]:
        """One frame at time ``t`` (seconds): the frame model's probabilities over ``labels`` (None: no
        hand) and the hand's 21 points in pixels (for its speed). Returns the letters decided now (a
        letter is returned once, when its first frame is decided; its ``end`` grows afterwards)."""
        if not self._fixed_rate:
            self._early.append((t, probs, points))
            if self._track_rate(t):  # rebuilt for the measured frame rate: replay the first frames into it
                early, self._early = self._early, []
                return [rec for args in early for rec in self.update(*args)]
        speed = self.speed.update(t, points if probs is not None else None)
        arriving = self._arrival(t, probs is not None, speed)
        e_tok, e_blank, q = self.emissions(probs, speed, arriving)
        self._out_since = None if probs is not None else t if self._out_since is None else self._out_since
        self._step(e_tok, e_blank, new_word=self._out_since is not None and t - self._out_since >= self.cfg.word_gap_s)
        self._frames.append((t, q, None if probs is None else speed >= self.cfg.move_speed))
        if len(self._back) > self.lag:
            return self._decide(self._traceback(self.lag))
        return []

    def _arrival(self, t: float, hand: bool, speed: float) -> bool:
        """Whether this frame's hand is still arriving: back in view after ``release_s`` or more without one
        (or the stream's first hand), and not yet slower than ``move_speed``. A tracker that drops the hand
        for a frame or two in the middle of a J does not make it arrive again."""
        if not hand:
            return False
        if self._out_since is not None and t - self._out_since >= self.cfg.release_s:
            self._arriving = True
        if self._arriving and self.speed.known and speed < self.cfg.move_speed:
            self._arriving = False
        return self._arriving

    def finish(self) -> list[SpelledLetter]:
        """Decide the frames still held back by the lag (at the end of a video)."""
        out: list[SpelledLetter] = []
        for s in self._path_states(len(self._frames)):
            out += self._decide(s)
        self._close()
        self._reset_path()
        return out

    def _track_rate(self, t: float) -> bool:
        """Durations in frames follow the stream's frame rate, measured over its first frames; True
        when the trellis was rebuilt for it (then the first frames are decoded again)."""
        if self._last_t is not None and t > self._last_t:
            self._dts.append(t - self._last_t)
        self._last_t = t
        if len(self._dts) < 8:
            return False
        self._fixed_rate = True
        rate = 1.0 / float(np.median(self._dts))
        if abs(rate - self.frame_rate) / self.frame_rate <= 0.2:
            self._early = []
            return False
        self._build(rate)
        self._reset_path()
        self.letters.clear()
        self._durations.clear()
        self.speed = HandSpeed()
        return True

    def _step(self, e_tok: np.ndarray, e_blank: float, new_word: bool = False) -> None:
        """One frame of Viterbi. ``new_word``: the hand has been out of view for ``word_gap_s`` (the stream
        writes a space), so the next letter is a word's first and the letter before no longer counts."""
        d, nb = self.delta, self._nb
        new = np.empty_like(d)
        back = np.empty(len(d), np.int16)
        last_scores = d[self._last]
        # the blanks: the start blank only stays; the blank after token k stays, or leaves k's last state
        new[0], back[0] = d[0], 0
        stay_b = d[1:nb] >= last_scores
        new[1:nb] = np.where(stay_b, d[1:nb], last_scores)
        back[1:nb] = np.where(stay_b, self._after_ids, self._last)
        if new_word:
            j = int(new[:nb].argmax())
            new[0], back[0] = new[j], back[j]
            new[1:nb] = _NEG
        new[:nb] += e_blank
        # the first state of each letter: from a blank, or straight from another letter
        cols = self._token_ids
        via_blank = d[:nb, None] + self._enter
        jb = via_blank.argmax(axis=0)
        via_other = last_scores[:, None] + self._switch
        ja = via_other.argmax(axis=0)
        from_blank, from_other = via_blank[jb, cols], via_other[ja, cols]
        use_blank = from_blank >= from_other
        # inside a chain: from the state before; the last state may also stay
        new[self._inner] = d[self._inner - 1]
        back[self._inner] = self._inner - 1
        new[self._first] = np.where(use_blank, from_blank, from_other)
        back[self._first] = np.where(use_blank, jb, self._last[ja])
        stay = d[self._last] > new[self._last]
        new[self._last] = np.where(stay, d[self._last], new[self._last])
        back[self._last] = np.where(stay, self._last, back[self._last])
        new[nb:] += e_tok[self._token_of[nb:]]
        self.delta = new - new.max()  # keep the numbers small
        self._back.append(back)

    def _traceback(self, steps: int) -> int:
        """The state ``steps`` frames back on the best path ending now; older backpointers are dropped."""
        s = int(self.delta.argmax())
        for back in islice(reversed(self._back), steps):  # no copy: transcribe's lag is 300 frames
            s = int(back[s])
        while len(self._back) > steps:
            self._back.popleft()
        return s

    def _path_states(self, n: int) -> list[int]:
        """The last ``n`` states of the best path ending now, oldest first."""
        if n <= 0:
            return []
        s = int(self.delta.argmax())
        states = [s]
        for back in islice(reversed(self._back), n - 1):
            s = int(back[s])
            states.append(s)
        return states[::-1]

    # -- decided frames -> letters -----------------------------------------------------------------
    def _decide(self, state: int) -> list[SpelledLetter]:
        """One frame's decided state: a letter starts, goes on, or ends (a blank or another letter)."""
        t, q, moved = self._frames.popleft()
        k = int(self._token_of[state])
        if self._pending_motion is not None and t > self._pending_motion[1]:
            self._pending_motion = None  # the movement's time has passed without its letter
        if k == self._seg_token and self._seg is not None:
            self._seg_conf.append(float(q[k]))
            self._seg.end, self._seg.confidence = t, float(np.mean(self._seg_conf))
            return self._accept()
        self._close()
        self._seg, self._seg_token = None, k
        if k < 0:
            self._gap(t, moved)
            return []
        last = self.letters[-1] if self.letters else None
        if (
            last is not None
            and (last.letter == self.tokens[k] or self._ends_movement(last, k, t))
            and (not self._released(last, t) or last.letter in MOVING_LETTERS)
        ):
            self._seg, self._seg_conf = last, [last.confidence, float(q[k])]  # the same letter, still held
            self._accepted, last.end = True, t
            if self._durations:
                self._durations.pop()  # its duration is counted again, longer, when it ends
            self._clear_gap()
            return []
        self._seg_conf = [float(q[k])]
        self._seg, self._accepted = SpelledLetter(self.tokens[k], t, t, self._seg_conf[0]), False
        return self._accept()

    def _ends_movement(self, last: SpelledLetter, k: int, t: float) -> bool:
        """A J or Z movement ends with the hand still in its handshape (a Z's index finger reads X or D):
        read straight after it, with no movement between, that is the end of the same letter."""
        return (
            last.letter in MOVING_LETTERS
            and self.tokens[k] in MOTION_SHAPES[last.letter]
            and not self._gap_moved
            and t - last.end < END_OF_MOVEMENT_S
        )

    def _accept(self) -> list[SpelledLetter]:
        """The letter in progress becomes a letter once it has lasted ``relative_min`` of the median
        duration of the last letters: the same few frames are a letter when someone spells four letters
        a second, and a passing shape between letters held for a second each (a teacher's alphabet)."""
        rec = self._seg
        if rec is None or self._accepted:
            return []
        lasted = rec.end - rec.start + 1.0 / self.frame_rate
        typical = float(np.median(self._durations)) if self._durations else TYPICAL_LETTER_S
        if len(rec.letter) == 1 and lasted < self.cfg.relative_min * typical:
            return []
        pending = self._pending_motion
        if (
            pending is not None
            and rec.letter in MOTION_SHAPES.get(pending[0], ())
            and rec.end >= pending[1] - pending[2]
        ):
            rec.letter, self._pending_motion = pending[0], None  # a letter read during the movement
        self._accepted = True
        self.letters.append(rec)
        self._clear_gap()
        return [rec]

    def _close(self) -> None:
        """The letter in progress ends: its duration joins the recent ones (one never accepted is dropped)."""
        if self._seg is not None and self._accepted and len(self._seg.letter) == 1:
            self._durations.append(self._seg.end - self._seg.start + 1.0 / self.frame_rate)

    def _gap(self, t: float, moved: bool | None) -> None:
        """A transition frame: note whether the hand moved, and how long it was out of view."""
        if moved is None:
            self._lost_since = t if self._lost_since is None else self._lost_since
            span = t - self._lost_since
            if self._gap_lost is None or span > self._gap_lost[1]:
                self._gap_lost = (self._lost_since, span)
        else:
            self._lost_since = None
            self._gap_moved = self._gap_moved or moved

    def _released(self, last: SpelledLetter, t: float) -> bool:
        """Whether ``last`` may be read again: the hand moved (a slide or bounce) or was out of view for
        ``release_s``; a tracker that loses the hand for a frame does not double a held letter. A moving
        letter moves anyway: it is read again only after ``motion_window_s`` or out of view."""
        lost = self._gap_lost is not None and self._gap_lost[1] >= self.cfg.release_s
        if last.letter in MOVING_LETTERS:
            return lost or t - last.end >= self.cfg.motion_window_s
        return lost or self._gap_moved

    def _clear_gap(self) -> None:
        self._gap_moved, self._gap_lost, self._lost_since = False, None, None

    def moving_letter(self, label: str, t: float, window_s: float) -> tuple[SpelledLetter, int] | None:
        """The motion model saw ``label`` (J or Z) in the last ``window_s`` seconds: the letters read at the
        end of the text during that movement that have the moving letter's handshapes (a Z traced with the
        index finger reads as D, L or R on the way) become one ``label``. Returns (that letter, how many
        letters it replaced), or None when nothing changed; a movement alone never adds a letter, and a
        moving letter the frames already read is kept."""
        shapes = MOTION_SHAPES.get(label, ())
        run: list[SpelledLetter] = []
        for rec in reversed(self.letters):
            if rec.end < t - window_s or rec.letter not in (*shapes, label):
                break
            run.append(rec)
        if not run:
            self._pending_motion = (label, t, window_s)  # its letter may not be decided yet (the decoder lags)
            return None
        if len(run) == 1 and run[0].letter == label:
            return None  # already read for this movement
        before = self.letters[-len(run) - 1] if len(self.letters) > len(run) else None
        if before is not None and before.letter == label and run[-1].start - before.end < window_s:
            run.append(before)  # the end of the same movement, read after its letter: one letter
        first = run[-1]
        first.letter, first.end = label, max(rec.end for rec in run)
        del self.letters[len(self.letters) - len(run) + 1 :]
        if self._seg is not None and self._seg not in self.letters:
            self._seg = first  # the letter in progress was merged into the moving letter
        return first, len(run)
