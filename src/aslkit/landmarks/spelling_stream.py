"""Natural-speed fingerspelling streams built from real landmark frames, with a known answer.

Why: a decoder for fluent fingerspelling (2-6 letters a second, inference/spelling.py) needs streams
where letters are held for a few frames and the hand moves between them, with the truth known frame
by frame. Recording and labelling such videos is slow; ``letters-hands.npz`` already holds real
MediaPipe landmarks of each letter by three signers (20-frame clips). This module strings those
clips together the way a signer spells:

- each letter gets about ``1 / rate`` seconds (each varied by +-30%): a *dwell* on frames of the
  clip's steadiest part, played at their own pace (MediaPipe's real jitter), then a *transition*
  (35-50% of the letter's time) where the landmarks move from the end of one letter to the start of
  the next with an ease-in-out curve, so the fingers pass through in-between shapes;
- small landmark noise (about 1% of the hand's size while dwelling, 2% while moving), correlated
  from frame to frame as a tracker's jitter is;
- the hand stays where it was: each clip is scaled to the first clip's hand size and moved so its
  wrist starts where the last letter ended, plus a small drift towards the signer's dominant side;
- J and Z are movements: the whole clip, time-compressed to the letter's dwell;
- a doubled letter (LL, EE, OO) is two dwells of the same letter (two different clips where the
  signer has them) with a quick slide or bounce between (0.3-0.6 hand sizes in 2-4 frames);
- optional frames without a hand before and after the word (the hand at rest).

The clips' image size is not stored; their hand proportions are most consistent (rigid palm
segments vary least as the hand turns) at 16:9, for all three signers, so streams default to
1280x720. Image landmarks only: ``featurize`` does not use MediaPipe's world landmarks, so they are
zeros here. NumPy only (no MediaPipe, no torch); deterministic for a seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aslkit.data.npz import read_npz
from aslkit.errors import AslkitError, DatasetError
from aslkit.labels import LETTERS
from aslkit.landmarks.extractor import Hand, HandsResult

MOVING_LETTERS = ("J", "Z")
TIPS = (0, 4, 8, 12, 16, 20)  # wrist and fingertips, as the decoder measures the hand's speed
_RIGID = ((0, 5), (0, 17), (5, 17), (0, 9))  # palm segments whose 3D length hardly changes with the pose
_HAND_BLOCKS = {"Left": slice(63, 126), "Right": slice(0, 63)}  # MediaPipe handedness -> 126-wide block
CLIP_FPS = 30.0  # the sequence sets' recording rate (webcam tutorials at 30 FPS)


@dataclass(frozen=True)
class LetterClip:
    """One recorded letter: the signing hand's 21 landmarks per frame (image fractions, gaps filled)."""

    letter: str
    points: np.ndarray  # (T, 21, 3) float32
    handedness: str  # MediaPipe's name: "Left" is the signer's right hand in an unmirrored frame
    signer: str


@dataclass
class SpellingStream:
    """Frames of a spelled word: the hands in each frame, their times (s), the word, and each letter's
    dwell (or movement, for J and Z) as (letter, start_s, end_s)."""

    frames: list[HandsResult]
    times: np.ndarray
    truth: str
    spans: list[tuple[str, float, float]]
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        return float(self.times[-1]) + 1.0 / self.fps if len(self.times) else 0.0


# -- clips -------------------------------------------------------------------------------------------
def _fill_gaps(hand: np.ndarray) -> np.ndarray | None:
    """(T, 21, 3) with all-zero frames where no hand was found -> gaps filled by linear interpolation
    (and the ends by the nearest frame); None without any hand."""
    found = np.abs(hand).reshape(len(hand), -1).sum(1) > 0
    if not found.any():
        return None
    idx = np.flatnonzero(found)
    t = np.arange(len(hand))
    flat = hand.reshape(len(hand), -1)
    filled = np.stack([np.interp(t, idx, flat[idx, j]) for j in range(flat.shape[1])], axis=1)
    return filled.reshape(hand.shape).astype(np.float32)


def load_letter_clips(
    path: str | Path, signers: Sequence[str] | None = None, min_found: float = 0.6
) -> dict[str, dict[str, list[LetterClip]]]:
    """signer -> letter (A-Z) -> clips, from a hands-layout sequence ``.npz`` (``sequences`` (N, T, 126):
    left hand then right hand, ``label``, ``signer``). The signing hand of a clip is the block found
    in most frames; clips where it is found in fewer than ``min_found`` of the frames are left out,
    and so are the labels that are not letters (space, idle)."""
    data = read_npz(path, "sequence")
    for key in ("sequences", "label", "signer"):
        if key not in data:
            raise DatasetError(f"{path}: no {key!r} array (a hands sequence set has sequences, label, signer)")
    seqs = np.asarray(data["sequences"], np.float32)
    if seqs.ndim != 3 or seqs.shape[2] != 126:
        raise DatasetError(f"{path}: sequences must be (N, T, 126) hands frames, got {seqs.shape}")
    out: dict[str, dict[str, list[LetterClip]]] = {}
    for seq, label, signer in zip(seqs, data["label"], data["signer"], strict=True):
        letter, signer = str(label).upper(), str(signer)
        if letter not in LETTERS or (signers is not None and signer not in signers):
            continue
        counts = {name: int((np.abs(seq[:, blk]).sum(1) > 0).sum()) for name, blk in _HAND_BLOCKS.items()}
        name = max(counts, key=lambda k: (counts[k], k == "Left"))
        if counts[name] < min_found * len(seq):
            continue
        pts = _fill_gaps(seq[:, _HAND_BLOCKS[name]].reshape(len(seq), 21, 3))
        if pts is not None:
            out.setdefault(signer, {}).setdefault(letter, []).append(LetterClip(letter, pts, name, signer))
    return out


def spellable(word: str, clips: Mapping[str, Sequence[LetterClip]]) -> bool:
    """Whether every letter of ``word`` has a clip."""
    return all(clips.get(ch) for ch in word.upper())


# -- geometry (pixels: x * width, y * height, z * width) ---------------------------------------------
def _hand_size(p: np.ndarray) -> float:
    """Hand size in pixels as the decoder measures it: the longer side of the landmarks' 2D box."""
    return max(float(np.ptp(p[:, 0])), float(np.ptp(p[:, 1])), 1e-6)


def _palm_size(frames: np.ndarray) -> float:
    """A pose-independent size of the hand (3D palm segments, median over frames), for matching clips."""
    seg = [np.linalg.norm(frames[:, a] - frames[:, b], axis=-1) for a, b in _RIGID]
    return float(np.median(np.mean(seg, axis=0)))


def _steady_window(frames: np.ndarray, length: int) -> tuple[int, int]:
    """[a, b) of ``length`` frames where the hand moves least (its first two frames skipped: the
    recordings start while the hand settles)."""
    n = len(frames)
    first = min(2, max(0, n - length))
    if n - first <= length:
        return first, n
    size = np.array([_hand_size(f) for f in frames])
    step = np.median(np.linalg.norm(np.diff(frames[:, list(TIPS), :2], axis=0), axis=-1), axis=1) / size[1:]
    best, where = math.inf, first
    for a in range(first, n - length + 1):
        cost = float(step[max(a - 1, 0) : a + length - 1].sum())
        # ties and near-ties: prefer the middle of the clip
        cost += 1e-3 * abs(a + length / 2 - n / 2)
        if cost < best:
            best, where = cost, a
    return where, where + length


def _max_jump(frames: np.ndarray, aspect: float) -> tuple[float, np.ndarray]:
    """The wrist's largest step between frames and every step, in hand sizes (image fractions in, at
    the image aspect ``aspect`` = width / height)."""
    p = frames[:, :, :2] * np.array([aspect, 1.0])
    size = np.maximum(np.ptp(p[:, :, 0], axis=1), np.ptp(p[:, :, 1], axis=1))
    steps = np.linalg.norm(np.diff(p[:, 0], axis=0), axis=1) / np.maximum(size[1:], 1e-6)
    return (float(steps.max()) if len(steps) else 0.0), steps


def _first_settled(frames: np.ndarray, aspect: float, jump: float = 0.3, most: int = 3) -> int:
    """The first frame after the jumps a recording often starts with (a stale first frame: in 12% of
    dmohazab's clips the hand jumps over half its size between frames 0 and 1); image fractions in."""
    steps = _max_jump(frames, aspect)[1]
    i = 0
    while i < min(most, len(frames) - 2) and steps[i] > jump:
        i += 1
    return i


def _play(frames: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` frames at their own pace from a random start, going back and forth if ``n`` is longer."""
    k = len(frames)
    if k == 1:
        return np.repeat(frames, n, axis=0)
    cycle = list(range(k)) + list(range(k - 2, 0, -1))
    start = int(rng.integers(len(cycle)))
    return frames[[cycle[(start + i) % len(cycle)] for i in range(n)]]


def _resample(frames: np.ndarray, n: int) -> np.ndarray:
    """The whole of ``frames`` stretched or compressed to ``n`` frames (linear in time)."""
    if n == 1:
        return frames[[len(frames) // 2]]
    pos = np.linspace(0, len(frames) - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(frames) - 1)
    w = (pos - lo)[:, None, None]
    return (1 - w) * frames[lo] + w * frames[hi]


def _ease(u: np.ndarray) -> np.ndarray:
    """Ease-in-out: slow out of a letter, fast in between, slow into the next."""
    return (1 - np.cos(np.pi * u)) / 2


def _noise(rng: np.random.Generator, n: int, sigma: np.ndarray, corr: float) -> np.ndarray:
    """(n, 21, 3) landmark noise, AR(1) in time with correlation ``corr`` and per-frame std ``sigma`` (n,)."""
    white = rng.normal(0.0, 1.0, (n, 21, 3))
    out = np.empty_like(white)
    state = white[0]
    for i in range(n):
        state = white[i] if i == 0 else corr * state + math.sqrt(1 - corr**2) * white[i]
        out[i] = state
    out[..., 2] *= 0.5  # depth is smoother in MediaPipe's output
    return out * sigma[:, None, None]


# -- the stream ---------------------------------------------------------------------------------------
def _segments(word: str, rate: float, fps: float, rng: np.random.Generator, doubled: list[bool]) -> list:
    """Per letter (dwell frames, transition frames after it): each letter gets 1/rate s +-30%, of
    which 35-50% is the transition to the next (15-25% after J and Z, whose movement is the letter;
    2-4 frames before the same letter again); times are rounded cumulatively, so the stream keeps
    the stated rate."""
    out, t = [], 0.0
    for i, ch in enumerate(word):
        length = rng.uniform(0.7, 1.3) / rate
        last = i == len(word) - 1
        share = 0.0 if last else rng.uniform(*((0.15, 0.25) if ch in MOVING_LETTERS else (0.35, 0.5)))
        a, b, c = round(t * fps), round((t + length * (1 - share)) * fps), round((t + length) * fps)
        if not last and doubled[i]:
            move = int(rng.integers(2, 5))
            b = max(c - move, a + 1)
        dwell = max(1, b - a)
        trans = 0 if last else max(1, c - a - dwell)
        out.append((dwell, trans))
        t += length
    return out


def _check_word(word: str, clips: Mapping[str, Sequence[LetterClip]], rate_lps: float, fps: float) -> str:
    """The word in capitals, once its letters, their clips, the rate and the frame rate are known to be usable."""
    word = word.upper()
    if not word or any(ch not in LETTERS for ch in word):
        raise AslkitError(f"cannot build a stream of {word!r}: letters A-Z only")
    missing = sorted({ch for ch in word if not clips.get(ch)})
    if missing:
        raise AslkitError(f"no clips of {', '.join(missing)} to spell {word!r}")
    if not (0.2 <= rate_lps <= 15.0) or not (5.0 <= fps <= 240.0):
        raise AslkitError(f"rate {rate_lps} letters/s at {fps} FPS is outside what a signer does")
    return word


def _choose_clips(
    word: str, clips: Mapping[str, Sequence[LetterClip]], rng: np.random.Generator, aspect: float
) -> list[LetterClip]:
    """One clip per letter; a doubled letter takes another clip than the one before when there is one."""
    chosen: list[LetterClip] = []
    for i, ch in enumerate(word):
        pool = list(clips[ch])
        if ch in MOVING_LETTERS:  # a movement is used whole: leave out takes where the tracker jumped
            pool = [
                c for c in pool if _max_jump(c.points[_first_settled(c.points, aspect) :], aspect)[0] <= 0.6
            ] or pool
        if i and word[i - 1] == ch and len(pool) > 1:
            pool = [c for c in pool if c is not chosen[-1]]
        chosen.append(pool[int(rng.integers(len(pool)))])
    return chosen


def _letter_offset(
    end_pose: np.ndarray, doubled: bool, first: np.ndarray, side: float, drift: tuple[float, float], rng
) -> tuple[np.ndarray, float]:
    """Where the next letter goes after ``end_pose``: (offset of its frames, bounce of the transition).
    It drifts sideways towards the signer's side; a doubled letter slides further or bounces."""
    bounce = 0.0
    hand = _hand_size(end_pose)
    step = np.array([side * rng.uniform(*drift), rng.uniform(-0.03, 0.03), 0.0]) * hand
    slide = np.zeros(3)
    if doubled:  # a doubled letter: the hand slides sideways, or bounces down and back up
        if rng.random() < 0.5:
            slide = np.array([side * rng.uniform(0.3, 0.6), 0.0, 0.0]) * hand
        else:
            bounce = rng.uniform(0.3, 0.6) * hand
    offset = end_pose[0] + step + slide - first
    offset[2] = 0.0  # MediaPipe's z is relative to the wrist
    return offset, bounce


def _place_letters(
    chosen: list[LetterClip],
    segments: list[tuple[int, int]],
    doubled: list[bool],
    size: tuple[int, int],
    handedness: str,
    side: float,
    drift: tuple[float, float],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, int, int]]]:
    """The letters' frames in pixels, one after another with eased transitions between them: (points,
    True for transition frames, (letter, first frame, last frame) of each dwell)."""
    width, height = size
    scale = np.array([width, height, width], np.float64)
    aspect = width / height
    pieces: list[np.ndarray] = []  # (n, 21, 3) pixels, already placed
    moving: list[np.ndarray] = []  # per frame: True in transitions (more noise)
    spans_frames: list[tuple[str, int, int]] = []
    ref_size: float | None = None
    end_pose: np.ndarray | None = None  # the last placed frame
    pending: tuple[int, bool] | None = None  # the transition after the previous letter: (frames, doubled)
    frame_no = 0
    for clip, (dwell_n, trans_n), dbl in zip(chosen, segments, doubled, strict=True):
        bounce = 0.0
        raw = clip.points.astype(np.float64) * scale
        if clip.handedness != handedness:  # the other hand: mirror it into the signing hand
            raw[..., 0] = width - raw[..., 0]
        if clip.letter in MOVING_LETTERS:
            dwell = _resample(raw[_first_settled(clip.points, aspect) :], dwell_n)
        else:
            a, b = _steady_window(raw, max(4, round(0.4 * len(raw))))
            dwell = _play(raw[a:b], dwell_n, rng)
        hand_px = _palm_size(raw)
        if ref_size is None:
            ref_size = hand_px
        k = float(np.clip(ref_size / max(hand_px, 1e-6), 0.7, 1.4))
        dwell = dwell[0, 0] + (dwell - dwell[0, 0]) * k  # the same hand size throughout, scaled about the wrist
        if end_pose is None:
            offset = np.zeros(3)
        else:
            assert pending is not None
            offset, bounce = _letter_offset(end_pose, pending[1], dwell[0, 0], side, drift, rng)
        dwell = dwell + offset
        if end_pose is not None:
            assert pending is not None
            n_tr = pending[0]
            u = np.arange(1, n_tr + 1) / (n_tr + 1)
            w = _ease(u)[:, None, None]
            trans = (1 - w) * end_pose[None] + w * dwell[0][None]
            trans[:, :, 1] += bounce * np.sin(np.pi * u)[:, None]  # image y grows downwards: a dip
            pieces.append(trans)
            moving.append(np.ones(n_tr, bool))
            frame_no += n_tr
        spans_frames.append((clip.letter, frame_no, frame_no + len(dwell) - 1))
        pieces.append(dwell)
        moving.append(np.zeros(len(dwell), bool))
        frame_no += len(dwell)
        end_pose = dwell[-1]
        pending = (trans_n, dbl)
    return np.concatenate(pieces), np.concatenate(moving), spans_frames


def _noisy_in_frame(
    pts: np.ndarray,
    mov: np.ndarray,
    rng: np.random.Generator,
    noise: float,
    move_noise: float,
    noise_corr: float,
    size: tuple[int, int],
) -> np.ndarray:
    """Landmark noise (more while moving), then the whole word kept where the first letter was and inside
    the image."""
    width, height = size
    sizes = np.array([_hand_size(p) for p in pts])
    pts = pts + _noise(rng, len(pts), np.where(mov, move_noise, noise) * sizes, noise_corr)
    wrists = pts[:, 0, :2]
    pts[..., :2] -= wrists.mean(0) - pts[0, 0, :2]
    lo, hi = pts[..., :2].reshape(-1, 2).min(0), pts[..., :2].reshape(-1, 2).max(0)
    room = np.array([width, height], np.float64)
    shift = np.where(lo < 0.02 * room, 0.02 * room - lo, 0.0) + np.where(hi > 0.98 * room, 0.98 * room - hi, 0.0)
    pts[..., :2] += shift
    return pts


def build_stream(
    word: str,
    clips: Mapping[str, Sequence[LetterClip]],
    rate_lps: float,
    fps: float = 30.0,
    seed: int = 0,
    size: tuple[int, int] = (1280, 720),
    rest_s: tuple[float, float] = (0.3, 0.3),
    noise: float = 0.01,
    move_noise: float = 0.02,
    noise_corr: float = 0.7,
    drift: tuple[float, float] = (0.05, 0.15),
) -> SpellingStream:
    """``word`` (letters A-Z) fingerspelled at ``rate_lps`` letters a second from ``clips`` (letter ->
    clips of one signer, see ``load_letter_clips``), as frames at ``fps`` in an image of ``size``
    (width, height); see the module docstring. ``rest_s``: seconds without a hand before and after;
    ``noise``/``move_noise``: landmark noise (std, fraction of the hand's size) dwelling/moving;
    ``drift``: sideways drift per letter towards the signer's dominant side (hand sizes, range)."""
    word = _check_word(word, clips, rate_lps, fps)
    rng = np.random.default_rng(seed)
    width, height = size
    scale = np.array([width, height, width], np.float64)

    chosen = _choose_clips(word, clips, rng, width / height)
    handedness = max(("Left", "Right"), key=lambda h: (sum(c.handedness == h for c in chosen), h == "Left"))
    # the signer's dominant side in the image: a right hand ("Left") drifts towards -x (unmirrored camera)
    side = -1.0 if handedness == "Left" else 1.0

    doubled = [i + 1 < len(word) and word[i] == word[i + 1] for i in range(len(word))]
    segments = _segments(word, rate_lps, fps, rng, doubled)
    pts, mov, spans_frames = _place_letters(chosen, segments, doubled, size, handedness, side, drift, rng)
    pts = _noisy_in_frame(pts, mov, rng, noise, move_noise, noise_corr, size)

    before, after = (max(0, round(s * fps)) for s in rest_s)
    frames: list[HandsResult] = [HandsResult(width, height, [], "synthetic") for _ in range(before)]
    zeros = np.zeros((21, 3), np.float32)
    for p in pts:
        lm = (p / scale).astype(np.float32)
        frames.append(HandsResult(width, height, [Hand(lm, zeros.copy(), handedness, 0.95)], "synthetic"))
    frames += [HandsResult(width, height, [], "synthetic") for _ in range(after)]
    times = np.arange(len(frames), dtype=np.float64) / fps
    spans = [(letter, float(times[a + before]), float(times[b + before])) for letter, a, b in spans_frames]
    return SpellingStream(frames, times, word, spans, float(fps), width, height)


# -- scoring ------------------------------------------------------------------------------------------
def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: 1 each)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def letter_score(pairs: Sequence[tuple[str, str]]) -> float:
    """1 - total edit distance / total letters over (truth, read) pairs: the Kaggle ASL Fingerspelling
    metric (normalized total Levenshtein distance); can be negative when far more is read than signed."""
    letters = sum(len(t) for t, _ in pairs)
    if letters == 0:
        return float("nan")
    return 1.0 - sum(edit_distance(t, r) for t, r in pairs) / letters
