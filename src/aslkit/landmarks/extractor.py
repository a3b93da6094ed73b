"""Hand landmarks from MediaPipe Hands (offline: the models ship inside the mediapipe wheel).

Static photos get a 25% border first and then go through a retry ladder: MediaPipe's palm
detector misses hands that fill the frame or touch its edges, and a border finds most of them
(400 Massey images: 57% found as is, 99% with a 50% border, 99.8% adding a 25% black border; all
1815 with the full ladder). The border also places landmarks better: a photo-trained model scored
95.1% on Massey with bordered landmarks against 93.2% without. Video frames use MediaPipe's
tracking mode instead, which follows a hand between frames; where the tracker finds no hand, a short
static retry ladder (RETRY_ATTEMPTS) runs on that frame, rate-limited while no hand has been seen
for a while so that frames without a hand (an empty room) stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from aslkit.errors import AslkitError

WORK_MAX_SIDE = 1024  # MediaPipe runs at 192-256 px inside; larger inputs only cost time
# A hand spanning more than this share of the image's width or height is found again with a 25%
# border: MediaPipe places landmarks better when the hand does not fill the frame (on Massey, where
# hands fill 80% of the frame, a photo-trained model scores 95.3% on bordered vs 93.2% on plain landmarks).
TRACKING_ATTEMPT = ("tracking", 0.0, "", 1, 0.5)  # video frames: no border, the tracker follows the hand
REFIT_EXTENT = 0.7
REFIT_BORDER = 0.25
PHOTO_ZOOM = 3.0
"""A photo's main hand small enough that a square this many times its size fits in the photo is looked at
again in that square (``ZOOM_ATTEMPT``): MediaPipe places a small hand's landmarks worse than a large one's,
even at the same pixel size. Leaving each letters-more-people person out, one view: 78.3 -> 80.2%, 92.9 ->
94.2%, 81.9 -> 83.3%, 77.3 -> 78.3%, 82.7 -> 84.8% (README). Live tracking has its own zoom window."""
ZOOM_ATTEMPT = ("zoom", 0.0, "", 1, 0.5)
TILE_SIDE = 0.6
TILE_OVERLAP = 0.25
"""Tracking mode: where the tracker and its retry ladder find no hand, one square tile of the frame (TILE_SIDE of
its shorter side, overlapping its neighbours by TILE_OVERLAP, the middle first) is searched, in turn, the tile
that last found a hand first: on every such frame while a hand was seen recently, and once idle on the frames
the retry's rate limit leaves empty (an empty room pays one static run a frame, not half of one). A hand a tile
found on the last frame is looked for in that tile before the retry ladder (without the zoom window, as for word
signs, a small hand then costs one static run a frame). Why: MediaPipe's palm detector sees the whole frame at
192 px, so a hand in an upper-body shot is a few dozen pixels there and is often missed; in a tile it is about
twice that size. Once found, the zoom window follows it. Words spelled from letters-more-people photos
(`make-spelling-video`, 640x480), read by models that never saw the person: README."""

# Each attempt: (name, border fraction of the longer side, border kind, model complexity, min confidence
# [, tone]) where the optional tone is "gamma" (brighten shadows) or "equalize" (histogram equalization).
# Order: cheapest/most productive first, and the narrowest border first because landmarks are best
# placed when the hand spans about half the frame. Measured on the photos MediaPipe misses as is:
# the border attempts recover most of Massey and Kaggle; the lite-model attempts with wide borders recover
# half of the remaining photo misses (Del, S, P, Q) at one false hand in 61 empty scenes.
DEFAULT_ATTEMPTS: tuple[tuple, ...] = (
    ("border25", 0.25, "mean", 1, 0.5),
    ("plain", 0.0, "", 1, 0.5),
    ("border50", 0.5, "mean", 1, 0.5),
    ("border25black", 0.25, "black", 1, 0.5),
    ("lite", 0.0, "", 0, 0.5),
    ("low-confidence", 0.25, "mean", 1, 0.3),
    ("lite-border50", 0.5, "mean", 0, 0.5),
    ("lite-border100", 1.0, "mean", 0, 0.5),
    ("border100", 1.0, "mean", 1, 0.5),
    # Backlit hands in front of windows: brightening recovers about a third of what is still missed.
    ("bright-lite-border100", 1.0, "mean", 0, 0.5, "gamma"),
    ("equalized-lite-border50", 0.5, "mean", 0, 0.5, "equalize"),
)

# Tracking mode: when the tracker finds no hand in a frame, these run on it in static mode (a separate
# MediaPipe solution, so the tracker's state is untouched), the rung that last found a hand first.
# The tracker misses what the photo path misses: hands that fill the frame or touch its edge, and hands its
# full palm detector does not see. The ladder is the lite model's (its own palm detector, and about 14 ms a
# rung against 19 for the full model on 2 CPU cores): chosen greedily over every photo-ladder attempt on 400
# asl-alphabet-photos and Kaggle letter photos placed in a 640x480 mp4 frame as `make-spelling-video` does.
# A fresh detection missed 63 of them; the earlier ladder (border25, lite border25 at 0.3, border50 at 0.3)
# found 33, this one 50. Then checked once on 750 letters-more-people photos, never used to choose: 137
# missed, 82 -> 107 found (126 -> 132 with the tiles below); their spelled words: README, "The lite retry ladder".
# A hand that fills the frame, found by the plain rung, is still placed with a border (the refit in ``_run``).
RETRY_ATTEMPTS: tuple[tuple, ...] = (
    ("retry-lite-low-confidence", 0.0, "", 0, 0.3),
    ("retry-lite-border25-low-confidence", 0.25, "mean", 0, 0.3),
    ("retry-lite-border100", 1.0, "mean", 0, 0.5),
)
# Once no hand has been found for RETRY_IDLE_FRAMES frames, only every RETRY_IDLE_EVERY-th frame is
# retried, with one rung of the ladder in turn (the last one that found a hand first): an empty room
# pays half of one static run a frame, never the whole ladder, and a hand leaving costs the ladder on
# two frames. A held hand that only the retry finds stays found on every frame at one run a frame; one
# that appears while idle is found within RETRY_IDLE_EVERY x 3 frames. Measured on 2 CPU cores, 640x480, with
# the earlier ladder (full-model border rungs):
# letter frames with a hand found in spelling videos of asl-alphabet-photos 83-88% -> 98-99%, of other
# people's webcam photos 63% -> 77%, Massey 100% both, the real alphabet video 1306 -> 1308 of 1308;
# MediaPipe CPU time per frame +2-4 ms on those videos (10-11 ms without), +0.6 ms on the real one, and
# +3.3 ms on empty black or noise frames (7 ms without); `aslkit benchmark` prints the runs made.
RETRY_IDLE_FRAMES = 2
RETRY_IDLE_EVERY = 2
MEDIAPIPE_APIS = ("legacy", "tasks")


def mediapipe_api(api: str | None = None) -> str:
    """Which MediaPipe API runs: ``api`` if given, else ``$ASLKIT_MEDIAPIPE_API``, else defaults.toml
    [landmarks] mediapipe_api. An environment variable, so that worker processes follow the choice too."""
    if api is None:
        from aslkit.config import defaults_section

        api = os.environ.get("ASLKIT_MEDIAPIPE_API") or str(
            defaults_section("landmarks").get("mediapipe_api", "legacy")
        )
    if api not in MEDIAPIPE_APIS:
        raise AslkitError(f"unknown MediaPipe API {api!r}; choose one of {', '.join(MEDIAPIPE_APIS)}")
    return api


@dataclass
class RetryStats:
    """What the tracking-mode retry did: frames seen, frames the tracker missed, static runs made
    (MediaPipe calls, the cost), and frames where the retry found the hand."""

    frames: int = 0
    missed: int = 0
    runs: int = 0
    found: int = 0
    tile_found: int = 0  # of found: by a tile of the frame (see TILE_SIDE)

    def to_json(self) -> dict[str, int]:
        return {"frames": self.frames, "missed": self.missed, "runs": self.runs, "found": self.found,
                "tile_found": self.tile_found}  # fmt: skip


@dataclass
class Hand:
    """One hand: 21 image landmarks (x, y as fractions of the image, z relative depth), 21 world
    landmarks (metres, origin near the hand's centre), MediaPipe's handedness and its score."""

    landmarks: np.ndarray
    world: np.ndarray
    handedness: str
    score: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Tight (x0, y0, x1, y1) box around the landmarks, in image fractions."""
        x, y = self.landmarks[:, 0], self.landmarks[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    def to_json(self) -> dict:
        return {
            "handedness": self.handedness,
            "score": round(float(self.score), 5),
            "landmarks": np.round(self.landmarks.astype(np.float64), 6).ravel().tolist(),
            "world": np.round(self.world.astype(np.float64), 6).ravel().tolist(),
        }

    @classmethod
    def from_json(cls, d: dict) -> Hand:
        return cls(
            landmarks=np.asarray(d["landmarks"], dtype=np.float32).reshape(21, 3),
            world=np.asarray(d["world"], dtype=np.float32).reshape(21, 3),
            handedness=str(d["handedness"]),
            score=float(d["score"]),
        )


@dataclass
class HandsResult:
    """All hands found in one image, plus the image size and which attempt found them."""

    width: int
    height: int
    hands: list[Hand] = field(default_factory=list)
    attempt: str | None = None
    tried: list[list] = field(default_factory=list)  # the attempts run, in order (for cache reuse)

    @property
    def found(self) -> bool:
        return bool(self.hands)

    def main_hand(self) -> Hand | None:
        """The hand that signs: the largest one on screen (the other is usually resting or cut off)."""
        if not self.hands:
            return None

        def area(h: Hand) -> float:
            x0, y0, x1, y1 = h.box
            return (x1 - x0) * self.width * (y1 - y0) * self.height

        return max(self.hands, key=area)

    def to_json(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "attempt": self.attempt,
            "hands": [h.to_json() for h in self.hands],
            "tried": self.tried,
        }

    @classmethod
    def from_json(cls, d: dict) -> HandsResult:
        hands = [Hand.from_json(h) for h in d["hands"]]
        return cls(int(d["width"]), int(d["height"]), hands, d.get("attempt"), list(d.get("tried", [])))


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the C++ log lines MediaPipe/TFLite print on start-up (they go straight to fd 2)."""
    if os.environ.get("ASLKIT_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_mediapipe():
    """The mediapipe module, imported quietly; AslkitError (one line) when it is missing or broken."""
    try:
        with quiet_stderr():
            import mediapipe as mp
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise AslkitError(f"mediapipe is not installed or failed to import ({exc}); reinstall aslkit") from None
    return mp


def _border(img: np.ndarray, frac: float, kind: str) -> tuple[np.ndarray, int]:
    import cv2

    h, w = img.shape[:2]
    p = int(round(frac * max(h, w)))
    if kind == "black":
        value = (0.0, 0.0, 0.0)
    else:  # the mean colour of the image's edge, so the border looks like more background
        edge = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float64)
        value = tuple(float(v) for v in edge.mean(0))
    return cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=value), p


def _tone(img: np.ndarray, tone: str) -> np.ndarray:
    """Brighten a dark (backlit) image: "gamma" lifts shadows, "equalize" spreads the histogram."""
    import cv2

    if tone == "gamma":
        lut = ((np.arange(256) / 255.0) ** 0.5 * 255).astype(np.uint8)
        return cv2.LUT(img, lut)
    if tone == "equalize":
        ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
        ycc[..., 0] = cv2.equalizeHist(ycc[..., 0])
        return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    raise ValueError(f"unknown tone {tone!r}")


def _shrink(img: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _extent(hands: list[Hand]) -> float:
    """The largest share of the image's width or height that any hand spans."""
    return max(max(hd.box[2] - hd.box[0], hd.box[3] - hd.box[1]) for hd in hands)


def zoom_square(
    box: tuple[float, float, float, float], zoom: float, w: int, h: int, most: float
) -> tuple[int, int, int] | None:
    """(x, y, side) in pixels of a square ``zoom`` times the box's (fractions) larger side, centred on it and
    kept inside the w x h image; None when it would be ``most`` of the image's shorter side or more, or tiny."""
    x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    side = int(round(zoom * max(x1 - x0, y1 - y0, 1.0)))
    if side > most * min(h, w) or side < 32:
        return None
    x = int(round(min(max((x0 + x1 - side) / 2, 0), w - side)))
    y = int(round(min(max((y0 + y1 - side) / 2, 0), h - side)))
    return x, y, side


def tile_squares(w: int, h: int, side: float = TILE_SIDE, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, int]]:
    """(x, y, side) squares of ``side`` times the shorter side covering a w x h image with ``overlap``,
    nearest the middle first (where a signer's hands usually are); none when the image is too small."""
    s = int(round(side * min(w, h)))
    if s < 32:
        return []
    step = max(1, int(round(s * (1 - overlap))))
    xs = np.linspace(0, w - s, max(1, math.ceil((w - s) / step) + 1)).round().astype(int)
    ys = np.linspace(0, h - s, max(1, math.ceil((h - s) / step) + 1)).round().astype(int)
    squares = [(int(x), int(y), s) for y in ys for x in xs]
    return sorted(squares, key=lambda q: (q[0] + s / 2 - w / 2) ** 2 + (q[1] + s / 2 - h / 2) ** 2)


@lru_cache(maxsize=8)
def _frame_tiles(w: int, h: int) -> tuple[tuple[int, int, int], ...]:
    """tile_squares for a frame size, computed once: the tile search runs on every frame without a hand."""
    return tuple(tile_squares(w, h))


def _parse(res, pad: int, w: int, h: int) -> list[Hand]:
    """MediaPipe output -> Hands, with landmarks mapped back from the bordered image."""
    if not res.multi_hand_landmarks:
        return []
    pw, ph = w + 2 * pad, h + 2 * pad
    hands = []
    worlds = res.multi_hand_world_landmarks or [None] * len(res.multi_hand_landmarks)
    for lms, wlms, cls in zip(res.multi_hand_landmarks, worlds, res.multi_handedness, strict=False):
        a = np.array([[p.x, p.y, p.z] for p in lms.landmark], dtype=np.float32)
        a[:, 0] = (a[:, 0] * pw - pad) / w
        a[:, 1] = (a[:, 1] * ph - pad) / h
        a[:, 2] = a[:, 2] * pw / w  # z shares x's scale in MediaPipe
        wa = (
            np.array([[p.x, p.y, p.z] for p in wlms.landmark], dtype=np.float32)
            if wlms is not None
            else np.zeros((21, 3), np.float32)
        )
        c = cls.classification[0]
        hands.append(Hand(a, wa, str(c.label), float(c.score)))
    return hands


class HandLandmarker:
    """MediaPipe Hands on photos (static mode with retries) or video frames (tracking mode).

    Args:
        static: photos (True) or consecutive video frames (False, tracking mode).
        max_hands: hands to look for.
        attempts: retry ladder for photos, see DEFAULT_ATTEMPTS; the first attempt that finds a hand wins.
        min_tracking_confidence, tracking_complexity: tracking mode only (complexity 0 is MediaPipe's
            lite hand model: about twice as fast, for live video).
        max_side: images are shrunk to this longer side first (MediaPipe works at 192-224 px inside).
        retry: tracking mode only: a frame where the tracker finds no hand is tried again in static
            mode with this ladder (True: RETRY_ATTEMPTS; False or empty: never).
        retry_idle_frames, retry_idle_every: once no hand has been found for ``retry_idle_frames``
            frames, only every ``retry_idle_every``-th frame is retried, one rung at a time.
        api: "legacy" (``mp.solutions.hands``) or "tasks" (the Tasks HandLandmarker, see landmarks/tasks.py);
            None: ``mediapipe_api()``.
        zoom: tracking mode only: follow a found hand in a square this many times its size (off at 1 or less).
        tiles: tracking mode only, with ``retry``: search one tile of the frame per missed frame (TILE_SIDE).
    """

    def __init__(
        self,
        static: bool = True,
        max_hands: int = 2,
        attempts: tuple[tuple, ...] = DEFAULT_ATTEMPTS,
        min_tracking_confidence: float = 0.5,
        tracking_complexity: int = 1,
        max_side: int = WORK_MAX_SIDE,
        retry: bool | tuple[tuple, ...] = True,
        retry_idle_frames: int = RETRY_IDLE_FRAMES,
        retry_idle_every: int = RETRY_IDLE_EVERY,
        api: str | None = None,
        zoom: float = 0.0,
        tiles: bool = False,
    ) -> None:
        self.api = mediapipe_api(api)
        self.static = static
        self.max_hands = max_hands
        tracking = (*TRACKING_ATTEMPT[:3], int(tracking_complexity), *TRACKING_ATTEMPT[4:])
        self.attempts = tuple(tuple(a) for a in attempts) if static else (tracking,)
        ladder = (RETRY_ATTEMPTS if retry else ()) if isinstance(retry, (bool, int, np.integer, np.bool_)) else retry
        self.retry: tuple[tuple, ...] = () if static else tuple(tuple(a) for a in ladder)
        self.retry_idle_frames = max(0, int(retry_idle_frames))
        self.retry_idle_every = max(1, int(retry_idle_every))
        self.retry_stats = RetryStats()
        self._since_hand = self.retry_idle_frames + 1  # frames since a hand was last found (none yet: idle)
        self._idle_count = 0  # frames retried-or-skipped while idle, for the rate limit and the rung in turn
        self._last_rung = 0  # the retry rung that last found a hand: tried first next time
        self.min_tracking_confidence = min_tracking_confidence
        self.max_side = int(max_side)
        self.zoom = float(zoom) if not static and zoom and zoom > 1 else 0.0
        self._window: tuple[int, int, int] | None = None  # (x, y, side) of the zoomed square, in work pixels
        self.tiles = bool(tiles) and not static and bool(self.retry)
        self._tile = 0  # the tile searched next (the one that last found a hand stays first)
        self._tile_held = False  # the last frame's hand was found by a tile
        self._solutions: dict[tuple, object] = {}

    @property
    def signature(self) -> str:
        """Short hash of everything that changes the output; part of the cache key."""
        import mediapipe

        spec = {
            "mp": mediapipe.__version__,
            "static": self.static,
            "max_hands": self.max_hands,
            "work_max_side": self.max_side,
            "refit": [REFIT_EXTENT, REFIT_BORDER] if self.static else None,
            "v": 2,
        }
        if self.zoom:
            spec["zoom"] = self.zoom
        if self.tiles:
            spec["tiles"] = [TILE_SIDE, TILE_OVERLAP]
        if self.static:  # a new key: photo landmarks cached before the zoom are found again
            spec["photo_zoom"] = PHOTO_ZOOM
        if self.retry:  # only tracking mode has one; photo signatures (cache keys) stay as they were
            spec["retry"] = [list(a) for a in self.retry] + [self.retry_idle_frames, self.retry_idle_every]
        if self.api != "legacy":  # legacy signatures (cache keys) stay as they were
            spec["api"] = self.api
        return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]

    def resume_from(self, cached: HandsResult) -> int | None:
        """How to reuse a cached result made with another retry ladder.

        Returns -1 if it can be used as is, k >= 0 to continue the ladder from attempt k (the
        cached run tried a prefix of this ladder and found nothing), None to start over.
        """
        mine = [list(a) for a in self.attempts]
        tried = [list(a) for a in cached.tried]
        if not tried or mine[: len(tried)] != tried:
            return None
        if cached.found or len(tried) == len(mine):
            return -1
        return len(tried)

    def _solution(self, complexity: int, confidence: float, static: bool | None = None, zoomed: bool = False):
        static = self.static if static is None else static
        key = (static, complexity, confidence, zoomed)  # a zoomed view has a tracker of its own
        if key not in self._solutions and self.api == "tasks":
            from aslkit.landmarks.tasks import TasksHands

            with quiet_stderr():
                self._solutions[key] = TasksHands(
                    static, self.max_hands, complexity, confidence, self.min_tracking_confidence
                )
        if key not in self._solutions:
            mp = import_mediapipe()
            with quiet_stderr():
                self._solutions[key] = mp.solutions.hands.Hands(
                    static_image_mode=static,
                    max_num_hands=self.max_hands,
                    model_complexity=complexity,
                    min_detection_confidence=confidence,
                    min_tracking_confidence=self.min_tracking_confidence,
                )
        return self._solutions[key]

    def warmup(self) -> None:
        """Load the models and run them once now (about 0.1 s each) rather than on the first frames."""
        keys = {(self.static, *self.attempts[0][3:5], False)} | {(True, *a[3:5], False) for a in self.retry}
        if self.zoom:
            keys.add((False, *self.attempts[0][3:5], True))
        if self.tiles:
            keys.add((True, *ZOOM_ATTEMPT[3:5], True))
        for static, complexity, conf, zoomed in keys:
            sol = self._solution(complexity, conf, static, zoomed)
            with quiet_stderr():  # MediaPipe logs its set-up on the first run
                sol.process(np.zeros((64, 64, 3), np.uint8))

    def _run(self, work: np.ndarray, attempt: tuple, static: bool, zoomed: bool = False) -> tuple[list[Hand], str]:
        """One attempt on the (shrunk) image: the hands found, in ``work``'s fractions, and its name."""
        name, frac, kind, complexity, conf, *rest = attempt
        img = _tone(work, rest[0]) if rest and rest[0] else work
        pad = 0
        if frac > 0:
            img, pad = _border(img, frac, kind)
        sol = self._solution(complexity, conf, static, zoomed)
        with quiet_stderr():
            res = sol.process(img)
        hands = _parse(res, pad, work.shape[1], work.shape[0])
        if hands and frac == 0 and static and _extent(hands) > REFIT_EXTENT:
            img, pad = _border(work, REFIT_BORDER, "mean")
            with quiet_stderr():
                res = sol.process(img)
            refit = _parse(res, pad, work.shape[1], work.shape[0])
            if refit:
                hands, name = refit, name + "+refit"
        return hands, name

    def __call__(self, image: np.ndarray, start: int = 0) -> HandsResult:
        """Find hands in an RGB uint8 image (H, W, 3), trying the ladder from attempt ``start``."""
        h, w = image.shape[:2]
        work = _shrink(np.ascontiguousarray(image), self.max_side)
        if not self.static:
            return self._track(work, w, h)
        for k in range(start, len(self.attempts)):
            hands, name = self._run(work, self.attempts[k], True)
            if hands:
                hands, name = self._photo_zoom(work, hands, name)
                return HandsResult(w, h, hands, name, [list(a) for a in self.attempts[: k + 1]])
        return HandsResult(w, h, [], None, [list(a) for a in self.attempts])

    def _retry_rungs(self) -> list[int]:
        """The retry rungs to run on this missed frame: the whole ladder (last successful rung first)
        while a hand was seen recently; else one rung in turn on every retry_idle_every-th frame."""
        n = len(self.retry)
        if n == 0:
            return []
        if self._since_hand < self.retry_idle_frames:
            self._idle_count = 0
            return [self._last_rung] + [k for k in range(n) if k != self._last_rung]
        turn, self._idle_count = self._idle_count, self._idle_count + 1
        return [] if turn % self.retry_idle_every else [(self._last_rung + turn // self.retry_idle_every) % n]

    def _in_square(
        self, work: np.ndarray, square: tuple[int, int, int], attempt: tuple, static: bool, zoomed: bool = False
    ) -> tuple[list[Hand], str]:
        """One attempt on a square of ``work`` only, its hands mapped back to ``work``'s fractions."""
        x, y, side = square
        hands, name = self._run(np.ascontiguousarray(work[y : y + side, x : x + side]), attempt, static, zoomed)
        hh, ww = work.shape[:2]
        scale = np.array([side / ww, side / hh, side / ww], np.float32)
        shift = np.array([x / ww, y / hh, 0.0], np.float32)
        return [Hand(hd.landmarks * scale + shift, hd.world, hd.handedness, hd.score) for hd in hands], name + "+zoom"

    def _photo_zoom(self, work: np.ndarray, hands: list[Hand], name: str) -> tuple[list[Hand], str]:
        """A small main hand looked at again in a square PHOTO_ZOOM times its size; the hand found there
        nearest its centre replaces it (the others are kept as found)."""
        hh, ww = work.shape[:2]
        main = HandsResult(ww, hh, hands).main_hand()
        assert main is not None
        square = zoom_square(main.box, PHOTO_ZOOM, ww, hh, most=1.0)
        if square is None:
            return hands, name
        found, _ = self._in_square(work, square, ZOOM_ATTEMPT, True)
        if not found:
            return hands, name
        centre = np.array(main.box).reshape(2, 2).mean(0)
        near = min(found, key=lambda hd: float(np.linalg.norm(np.array(hd.box).reshape(2, 2).mean(0) - centre)))
        return [near if hd is main else hd for hd in hands], name + "+zoom"

    def _zoomed(self, work: np.ndarray) -> tuple[list[Hand], str]:
        """The tracker on the zoom window only, its hands mapped back to ``work``'s fractions."""
        assert self._window is not None
        x, y, side = self._window
        hh, ww = work.shape[:2]
        if x + side > ww or y + side > hh:  # the stream's frame size changed: the whole frame again
            return [], "tracking"
        return self._in_square(work, self._window, self.attempts[0], False, True)

    def _next_window(self, hands: list[Hand], work: np.ndarray) -> tuple[int, int, int] | None:
        """Where to look next frame: a square ``zoom`` times the hands' extent, centred on them, kept while
        they stay well inside it at about that size (so the tracker is not moved every frame); None (the
        whole frame) when no hand was found or the square would be most of the frame anyway."""
        if not self.zoom or not hands:
            return None
        hh, ww = work.shape[:2]
        box = (min(hd.box[0] for hd in hands), min(hd.box[1] for hd in hands),
               max(hd.box[2] for hd in hands), max(hd.box[3] for hd in hands))  # fmt: skip
        if self._window is not None:
            x0, y0, x1, y1 = box[0] * ww, box[1] * hh, box[2] * ww, box[3] * hh
            x, y, side = self._window
            inner = 0.15 * side
            inside = x0 >= x + inner and y0 >= y + inner and x1 <= x + side - inner and y1 <= y + side - inner
            if inside and 0.6 <= self.zoom * max(x1 - x0, y1 - y0, 1.0) / side <= 1.6:
                return self._window
        return zoom_square(box, self.zoom, ww, hh, most=0.8)

    def _track(self, work: np.ndarray, w: int, h: int) -> HandsResult:
        """Tracking mode: the tracker first (on the zoom window when there is one, then on the whole frame if
        the window lost the hand); where it finds nothing, the static retry (see RETRY_ATTEMPTS)."""
        stats = self.retry_stats
        stats.frames += 1
        hands: list[Hand] = []
        if self._window is not None:
            hands, name = self._zoomed(work)
        if not hands:
            hands, name = self._run(work, self.attempts[0], False)
        tried = [list(self.attempts[0])]
        rungs: list[int] = []
        tiled = False
        if not hands:
            stats.missed += 1
            if self._tile_held:  # the last frame's hand came from a tile: that tile before the ladder
                hands, name = self._tile_search(work, tried)
                tiled = True
        if not hands:
            rungs = self._retry_rungs()
            for k in rungs:
                stats.runs += 1
                tried.append(list(self.retry[k]))
                hands, name = self._run(work, self.retry[k], True)
                if hands:
                    stats.found += 1
                    self._last_rung = k
                    break
        idle = self._since_hand >= self.retry_idle_frames
        if not hands and self.tiles and not tiled and not (idle and rungs):  # idle: a frame runs a rung or a tile
            hands, name = self._tile_search(work, tried)
        self._tile_held = bool(hands) and name == "retry-tile"
        self._since_hand = 0 if hands else self._since_hand + 1
        self._window = self._next_window(hands, work)
        return HandsResult(w, h, hands, name if hands else None, tried)

    def _tile_search(self, work: np.ndarray, tried: list[list]) -> tuple[list[Hand], str]:
        """One tile of a frame where nothing else found a hand, in turn (see TILE_SIDE); a tile that finds
        one is searched first next time. Once found, the zoom window (when on) follows the hand."""
        squares = _frame_tiles(work.shape[1], work.shape[0])
        if not squares:
            return [], ""
        square = squares[self._tile % len(squares)]
        self.retry_stats.runs += 1
        tried.append(["tile", *square])
        hands, _ = self._in_square(work, square, ZOOM_ATTEMPT, True)
        if not hands:
            self._tile = (self._tile + 1) % len(squares)
            return [], ""
        self.retry_stats.found += 1
        self.retry_stats.tile_found += 1
        return hands, "retry-tile"

    def reset(self) -> None:
        """Forget the stream: the tracker, the retry's rate limit and its counts (a new video)."""
        self.close()
        self.retry_stats = RetryStats()
        self._since_hand, self._idle_count, self._last_rung = self.retry_idle_frames + 1, 0, 0
        self._window, self._tile, self._tile_held = None, 0, False

    def close(self) -> None:
        for s in self._solutions.values():
            with contextlib.suppress(Exception):
                s.close()
        self._solutions.clear()

    def __enter__(self) -> HandLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
