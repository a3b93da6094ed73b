"""Where the signing is in a video: the spans with a hand raised, between rests.

A real clip is rest, sign, rest (or several signs with rests between), at any length and frame rate,
while a sign model learns from clips that hold one sign and little else: squeezed whole into the
model's frames, a 4 s video with 1.5 s of signing shows the model mostly rest. So a video is cut first.

Why "raised": signs are made in the space from the waist to above the head, and signers rest with
their hands down (at their sides, in the lap, out of the picture). With a pose, a frame is active when
a hand is found with its wrist above the rest line, ``rest_line`` shoulder widths below the shoulders
(the elbows hang about one below; hands at rest two or more). Without a pose, a hand in view is
active. Runs of active frames closer than ``gap_s`` merge (a hand lost for a few frames in motion blur
is one sign); runs shorter than ``min_s`` are dropped (a hand brushing past); each kept span is padded
by ``pad_s`` on both sides, so the sign's start and end movements are in it.

All of these are times, measured on the frames' own times when the video gives them (a phone's
variable-frame-rate clip runs at 30 fps in daylight and 15 in a dim room): ``frame_edges`` turns either
those times or a fixed frame rate into each frame's start, and the last frame's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aslkit.data.sequences import Layout
from aslkit.landmarks.sequence_features import present, shoulder_line, split_frames


@dataclass(frozen=True)
class SegmentSettings:
    """How spans of signing are found (see the module docstring); times in seconds."""

    rest_line: float = 1.3  # shoulder widths below the shoulders
    min_s: float = 0.3
    gap_s: float = 0.5
    pad_s: float = 0.2
    min_frames: int = 5  # and at least this many frames, however low the frame rate


@dataclass(frozen=True)
class Segment:
    """Frames [start, end) of one span of signing."""

    start: int
    end: int

    def seconds(self, fps: float, times: np.ndarray | None = None) -> tuple[float, float]:
        """(start, end) in seconds: by the clip's frame ``times`` (all of them) when given, else frame / ``fps``."""
        if times is None:
            return self.start / fps, self.end / fps
        edges = frame_edges(len(times), fps, times)
        return float(edges[self.start]), float(edges[self.end])


def frame_edges(n: int, fps: float, times: np.ndarray | None = None) -> np.ndarray:
    """(n + 1,) seconds: where each of ``n`` frames starts, then where the last one ends. From ``times`` (the
    file's own clock, one per frame) when given, else frame / ``fps``; the last frame lasts the median step
    between frames (one frame at ``fps`` when there is only one)."""
    fps = fps if np.isfinite(fps) and fps > 0 else 30.0
    if times is None or len(times) != n:
        return np.arange(n + 1, dtype=np.float64) / fps
    t = np.asarray(times, np.float64)
    step = float(np.median(np.diff(t))) if n > 1 else 1.0 / fps
    return np.append(t, (t[-1] if n else 0.0) + (step if step > 0 else 1.0 / fps))


def active_frames(frames: np.ndarray, layout: Layout, rest_line: float = SegmentSettings.rest_line) -> np.ndarray:
    """(T,) bool: a hand in view and, with a pose, raised above the rest line."""
    pose, left, right = split_frames(np.asarray(frames, np.float32), layout)
    seen = present(left) | present(right)
    if pose is None:
        return seen
    ok, centre, width = shoulder_line(pose)
    if not ok.any():
        return seen
    line = np.where(ok, centre[:, 1], np.median(centre[ok, 1])) + rest_line * np.where(ok, width, np.median(width[ok]))
    active = np.zeros(len(left), bool)
    for hand in (left, right):
        active |= present(hand) & (hand[:, 0, 1] < line)  # image y grows downwards
    return active


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def signing_segments(
    frames: np.ndarray,
    layout: Layout,
    fps: float,
    settings: SegmentSettings | None = None,
    times: np.ndarray | None = None,
) -> list[Segment]:
    """The spans of signing in a clip's raw frames, in time order (empty: no hand was ever raised). Durations
    are measured on ``times`` (each frame's seconds, the file's clock) when given, else at ``fps``."""
    s = settings or SegmentSettings()
    t = len(frames)
    edges = frame_edges(t, fps, times)
    half = 0.5 * float(np.median(np.diff(edges))) if t else 0.0  # a frame counts in a pad by its nearer half
    tol = 1e-6
    merged: list[list[int]] = []
    for a, b in _runs(active_frames(frames, layout, s.rest_line)):
        if merged and edges[a] - edges[merged[-1][1]] <= s.gap_s + tol:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    spans = []
    for a, b in merged:
        if edges[b] - edges[a] < s.min_s - tol:
            continue
        start = int(np.searchsorted(edges, edges[a] - s.pad_s - half - tol, side="left"))
        end = int(np.searchsorted(edges, edges[b] + s.pad_s + half + tol, side="right")) - 1
        spans.append(Segment(max(0, min(start, a)), min(t, max(end, b))))
    return [g for g in spans if g.end - g.start >= s.min_frames]
