"""Signs from landmark clips with a trained sequence model (seq-lstm-attn, seq-tcn, ...).

A clip's raw frames (in any known layout, any length) become the model's input the same way in
training, evaluation and prediction: ``sequence_arrays`` normalizes each frame (see
landmarks.sequence_features) and resamples the clip to the model's length.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.npz import number_problem, read_npy
from aslkit.data.pose_files import is_pose_path, read_pose_file
from aslkit.data.sequences import (
    LAYOUTS,
    MIN_FRAMES,
    Layout,
    SequenceSet,
    at_camera_aspect,
    drop_face,
    finite_frames,
    fit_length,
    layout_for,
)
from aslkit.errors import AslkitError, DatasetError, ModelError
from aslkit.inference.recognizer import FromPretrained, Prediction, check_top_k, collect_paths, path_list
from aslkit.kinds import InputKind, SequencePreprocessing
from aslkit.labels import IDLE, label_key
from aslkit.landmarks.segments import SegmentSettings, signing_segments
from aslkit.landmarks.sequence_features import feature_width, sequence_features
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import regular_file_problem, shown

FEATURE_SET = "seq-v1"  # bump when sequence_features changes meaning: old models then refuse to load


def sequence_preprocessing_spec(
    layout_name: str,
    length: int,
    labels: list[str] | None = None,
    min_confidence: float = 0.0,
    pose_optional: bool = False,
    aspect: float = 0.0,
) -> dict[str, Any]:
    """How a clip becomes this model's input, and when its answer is "no sign"; saved in model.json."""
    spec = SequencePreprocessing(
        layout=layout_name,
        length=int(length),
        features=FEATURE_SET,
        resample="nearest frames, any clip length to `length`",
        # trained with clips whose pose was dropped: reads hands-only clips too (the key only when true)
        pose_optional=True if pose_optional else None,
        aspect=round(float(aspect), 4) if aspect else None,
    )
    idle = idle_label(labels or [])
    if idle is not None and min_confidence > 0:
        spec.idle_label, spec.min_confidence = idle, float(min_confidence)
    return spec.to_json()


def idle_label(labels: list[str]) -> str | None:
    """The model's "no sign" class (``-``, ``idle``, ...), if it has one."""
    return next((lab for lab in labels if label_key(lab) == IDLE), None)


def sequence_decisions(model: TrainedModel, probs: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(label, confidence) per clip from class probabilities (N, C).

    Why a threshold: "no sign" looks different for every person (hands down, out of view, resting
    on the table, scratching the nose), so no idle class learned from a few signers covers it. A
    sign the model is less than ``min_confidence`` sure of is answered with the idle class instead,
    its confidence then 1 - the best sign's probability. On the word set with a signer held out,
    the idle clips' best-sign probability has a median of 0.25 and real signs' of 0.94."""
    labels = np.array(model.labels, dtype=object)
    best = probs.argmax(1) if len(probs) else np.zeros(0, int)
    conf = probs.max(1) if len(probs) else np.zeros(0)
    out, c = labels[best], conf.astype(np.float64)
    idle = model.preprocessing.get("idle_label")
    threshold = float(model.preprocessing.get("min_confidence", 0.0))
    if idle in model.labels and threshold > 0:
        unsure = (conf < threshold) & (out != idle)
        out = np.where(unsure, idle, out)
        c = np.where(unsure, 1.0 - conf, c)
    return list(out), c


def sequence_arrays(data: SequenceSet, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, length, D) float32, mask (N, length) bool) for every clip of a set."""
    width = feature_width(data.layout)
    x = np.zeros((len(data), length, width), np.float32)
    m = np.zeros((len(data), length), bool)
    for i, seq in enumerate(data.sequences):
        f, fm = sequence_features(seq, data.layout)
        x[i], m[i] = fit_length(f, length, fm)
    return x, m


def without_pose(data: SequenceSet) -> SequenceSet:
    """The set with its pose block zeroed (pose + hands layout kept): what a clip filmed or stored
    without a pose looks like to a pose + hands model."""
    a, b = data.layout.pose or (0, 0)
    seqs = []
    for s in data.sequences:
        z = s.copy()
        z[:, a:b] = 0.0
        seqs.append(z)
    return SequenceSet(seqs, data.labels, data.layout, data.signers, data.sources, data.errors)


def model_aspect(model: TrainedModel) -> float | None:
    """The camera shape (width / height) of the model's training clips, if its JSON records one (``aspect``)."""
    value = model.preprocessing.get("aspect")
    if value is None:
        return None
    try:
        aspect = float(value)
    except (TypeError, ValueError):
        aspect = float("nan")
    if not (0.1 <= aspect <= 10.0):
        raise ModelError(f"model JSON has an aspect of {value!r}; expected a frame width / height between 0.1 and 10")
    return aspect


def check_layout(model: TrainedModel, data: SequenceSet) -> SequenceSet:
    """The set in the model's layout: a model trained on hands only reads the hands of pose+hands
    clips; a pose + hands model reads hands-only clips (pose missing) if it was trained for that
    (``pose_optional``, see seq_pose_dropout), else says it cannot. The clips' times and camera shapes go along."""
    pre = model.preprocessing
    if model.kind is not InputKind.SEQUENCE:
        raise ModelError(f"model {model.architecture!r} does not read landmark sequences")
    if pre.get("features") != FEATURE_SET:
        raise ModelError(f"model features {pre.get('features')!r} are not this aslkit's {FEATURE_SET!r}; retrain it")
    want = LAYOUTS.get(str(pre.get("layout")))
    if want is None:
        raise ModelError(f"model JSON names an unknown layout {pre.get('layout')!r}")
    if data.layout.name == want.name:
        return data
    if want.pose is None:  # keep only the hands
        lay = data.layout if data.layout.face is None else layout_for(258)
        seqs = [drop_face(s, data.layout)[0] for s in data.sequences]
        seqs = [np.concatenate([s[:, lay.left[0] : lay.left[1]], s[:, lay.right[0] : lay.right[1]]], 1) for s in seqs]
        return SequenceSet(seqs, data.labels, want, data.signers, data.sources, data.errors, data.times, data.aspects)
    if data.layout.pose is None and pre.get("pose_optional"):
        pose = want.pose[1] - want.pose[0]
        seqs = [np.concatenate([np.zeros((len(s), pose), np.float32), s], 1) for s in data.sequences]
        return SequenceSet(seqs, data.labels, want, data.signers, data.sources, data.errors, data.times, data.aspects)
    raise ModelError(f"model reads {want} frames but the data has {data.layout}: it has no pose to give")


def model_input(model: TrainedModel, data: SequenceSet) -> SequenceSet:
    """The set as the model reads it: in its layout (``check_layout``), and each clip whose camera shape is
    known (videos) shown as the model's training camera would show it (``aspect``, data.sequences.at_aspect)."""
    return at_camera_aspect(check_layout(model, data), model_aspect(model))


def sequence_probabilities(model: TrainedModel, data: SequenceSet, batch: int = 256) -> np.ndarray:
    """Class probabilities (N, C) for every clip of a set."""
    from aslkit.models.io import probabilities

    data = model_input(model, data)
    x, m = sequence_arrays(data, int(model.preprocessing["length"]))
    out = np.zeros((len(x), len(model.labels)), np.float32)
    for i in range(0, len(x), batch):
        out[i : i + batch] = probabilities(model.logits(x[i : i + batch], m[i : i + batch]))
    return out


def hands_seen(frames: np.ndarray, layout: Layout) -> int:
    """How many frames have a hand (either one)."""
    seen = np.zeros(len(frames), bool)
    for a, b in (layout.left, layout.right):
        seen |= np.abs(frames[:, a:b]).sum(1) > 0
    return int(seen.sum())


@dataclass
class SegmentPrediction:
    """One span of signing in a video (times in seconds) and the sign read in it."""

    start: float
    end: float
    label: str
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "label": self.label,
            "confidence": round(float(self.confidence), 4),
            "top": [[lab, round(float(p), 4)] for lab, p in self.top],
        }


@dataclass
class ClipPrediction(Prediction):
    """One clip's answer; ``hand`` says whether any frame had a hand, ``frames`` how many it had.
    A video also gets ``segments``: each span of signing found in it (see landmarks.segments), in
    time order; the clip's own answer is then its surest segment's (and so are ``as_pipeline`` and
    ``as_label``: the top-k of a video's surest sign, or of the whole clip when no span of signing was found)."""

    frames: int = 0
    hand_frames: int = 0
    segments: list[SegmentPrediction] | None = None

    def to_json(self) -> dict[str, Any]:
        row = {**super().to_json(), "frames": self.frames, "hand_frames": self.hand_frames}
        if self.segments is not None:
            row["segments"] = [g.to_json() for g in self.segments]
        return row

    def text_line(self) -> str:
        """The line `aslkit predict` prints for this clip: a photo's line with the clip's frame count, and
        a video's signs in time order when it holds more than one."""
        if self.error:
            return super().text_line()
        extra = "\t(no hand in any frame)" if not self.hand else ""
        if self.segments and len(self.segments) > 1:
            extra += "\tsigns: " + ", ".join(f"{g.label} {g.start:.1f}-{g.end:.1f} s" for g in self.segments)
        label = "no sign" if self.label is None else self.label
        return f"{shown(self.path)}\t{label}\t{self.confidence:.3f}\t{self.frames} frames{extra}"


def is_clip_path(path: str | Path) -> bool:
    """A file sequence models read directly: a video, or one take's (T, F) landmarks as .npy or .pose."""
    from aslkit.data.sequences import is_video_path

    return is_video_path(path) or Path(path).suffix.lower() == ".npy" or is_pose_path(path)


def collect_clip_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Videos, .npy and .pose takes in files and folders (see recognizer.collect_paths)."""
    return collect_paths(paths, is_clip_path, "videos, .npy or .pose clips")


class SequenceRecognizer(FromPretrained):
    """Recognize a sign in a clip (video file, or landmark frames) with a trained sequence model.

    >>> rec = SequenceRecognizer("words")
    >>> rec.predict("hello.mp4").label
    """

    def __init__(self, model: str | Path | TrainedModel | None = "words", top_k: int = 5, cache_dir="default") -> None:
        self.model = model if isinstance(model, TrainedModel) else load_model(model)
        if self.model.kind is not InputKind.SEQUENCE:  # named as the user named it: `letters`, not its architecture
            src = Path(self.model.source or self.model.architecture)
            name = (
                str(model) if isinstance(model, (str, Path)) else src.parent.name if src.stem == "model" else src.stem
            )
            raise ModelError(f"model {name!r} ({self.model.architecture}) reads {self.model.kind}, not sign clips")
        self.top_k = check_top_k(top_k)
        self.cache_dir = cache_dir

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    def close(self) -> None:
        """Nothing to release (videos are read by a landmarker of their own); here for the Predictor protocol."""

    def predict_frames(
        self, frames: np.ndarray, path: str | None = None, aspect: float | None = None
    ) -> ClipPrediction:
        """(T, F) raw frames in any known layout (F = 126, 258 or 1662) -> the sign. ``aspect``: the camera's
        frame width / height when known; a model that records its training clips' shape then sees the clip as
        that camera would (data.sequences.at_aspect). Unknown: the frames are taken as they are.

        DatasetError when they are not frames: not real numbers, not (T, F), no frames at all, a width no
        layout has. NaN, inf and values no coordinate can have read as "not found" (see finite_frames)."""
        where = shown(path) if path else "clip"
        arr = np.asarray(frames)
        why = number_problem(arr.dtype)
        if why is not None:
            raise DatasetError(f"{where}: landmark frames must be numbers, not {why}")
        if arr.ndim != 2:
            raise DatasetError(f"{where}: landmark frames must be (T, F), got shape {arr.shape}")
        if len(arr) == 0:
            raise DatasetError(f"{where}: the clip has no frames (shape {arr.shape})")
        if len(arr) < MIN_FRAMES:
            raise DatasetError(f"{where}: the clip has {len(arr)} frame(s); a sign needs at least {MIN_FRAMES}")
        try:
            layout = layout_for(arr.shape[1])
        except DatasetError as exc:
            raise DatasetError(f"{where}: {exc}") from None
        frames, layout = drop_face(finite_frames(arr), layout)
        clip = SequenceSet([frames], ["?"], layout, aspects=[aspect])
        probs = sequence_probabilities(self.model, clip)[0]
        if not np.isfinite(probs).all():
            raise DatasetError(f"{where}: the model gives no usable answer for this clip (not-a-number probabilities)")
        order = np.argsort(-probs)[: self.top_k]
        top = [(self.labels[i], float(probs[i])) for i in order]
        label, conf = sequence_decisions(self.model, probs[None])
        seen = hands_seen(frames, layout)
        if not seen and idle_label(self.labels) is None:  # no hand at all, and no "no sign" class to say so (a
            # dictionary): no word, rather than whichever word is nearest to nothing
            return ClipPrediction(path, None, 0.0, [], False, None, None, len(frames), 0)
        return ClipPrediction(path, label[0], float(conf[0]), top, seen > 0, None, None, len(frames), seen)

    def predict(self, clip: str | Path | np.ndarray) -> ClipPrediction:
        """A video file, a .npy or .pose take, or (T, F) frames -> the sign (errors raise AslkitError). A take is
        one clip, read whole as a .npy is; only a video is cut into its spans of signing."""
        if isinstance(clip, (list, tuple)):  # frames as nested lists of numbers
            try:
                clip = np.asarray(clip)
            except ValueError as exc:  # rows of different lengths
                raise DatasetError(f"clip: landmark frames must be (T, F) numbers ({exc})") from None
        if isinstance(clip, np.ndarray):
            return self.predict_frames(clip)
        if not isinstance(clip, (str, Path)):
            raise DatasetError(f"expected a video, a .npy or .pose file, or (T, F) frames, got {type(clip).__name__}")
        p = Path(clip)
        why = regular_file_problem(p)  # a FIFO named x.npy or x.mp4 would block the read forever
        if why is not None:
            raise DatasetError(f"{shown(p)}: {why}")
        if p.suffix.lower() == ".npy":
            return self.predict_frames(read_npy(p, "landmark"), str(p))
        if p.suffix.lower() == ".npz":  # not "not a video": say what reads it
            raise DatasetError(f"{shown(p)}: a .npz is a set of clips, for evaluate and train; predict reads a "
                               "video, a .npy or a .pose take")  # fmt: skip
        if is_pose_path(p):
            return self.predict_frames(read_pose_file(p).frames, str(p))
        return self.predict_video(p)

    def predict_video(self, path: str | Path, settings: SegmentSettings | None = None) -> ClipPrediction:
        """A video -> each span of signing in it (rest, sign, rest, ...) read on its own, and the clip's
        answer: its surest sign, or with no span found (no hand ever raised) the whole clip's."""
        from aslkit.landmarks.holistic import video_aspect, video_clip
        from aslkit.landmarks.video import video_fps

        p = Path(path)
        frames, times = video_clip(p, self.cache_dir)
        return self.predict_signing(frames, video_fps(p), str(p), settings, times=times, aspect=video_aspect(p))

    def predict_signing(
        self,
        frames: np.ndarray,
        fps: float,
        path: str | None = None,
        settings: SegmentSettings | None = None,
        times: np.ndarray | None = None,
        aspect: float | None = None,
    ) -> ClipPrediction:
        """A video's raw (T, F) frames -> its spans of signing, each read on its own (see ``predict_video``).
        Spans are timed by ``times`` (each frame's seconds by the file's clock) when given, else at ``fps``;
        ``aspect``: the video's frame width / height, when known (see ``predict_frames``)."""
        whole = self.predict_frames(frames, path, aspect)
        segments = []
        layout = layout_for(np.asarray(frames).shape[1])
        for seg in signing_segments(frames, layout, fps, settings, times=times):
            got = self.predict_frames(frames[seg.start : seg.end], path, aspect)
            start, end = seg.seconds(fps, times)
            segments.append(SegmentPrediction(start, end, got.label, got.confidence, got.top))
        whole.segments = segments
        signs = [g for g in segments if g.label != idle_label(self.labels)]  # its idle class, threshold or not
        if signs:
            best = max(signs, key=lambda g: g.confidence)
            whole.label, whole.confidence, whole.top = best.label, best.confidence, best.top
        return whole

    def predict_paths(self, paths: Sequence[str | Path], progress: bool = False) -> list[ClipPrediction]:
        """One answer per file; a file that cannot be used gets its error, and the others still run.

        Any per-clip failure becomes that clip's error row, an unexpected one (a library's bug on an odd
        file) too, named by its type; KeyboardInterrupt and SystemExit still stop the batch, and with
        ASLKIT_DEBUG set an unexpected error is raised for its traceback."""
        from tqdm import tqdm

        out = []
        for p in tqdm(path_list(paths), desc="clips", unit="clip", disable=not progress):
            try:
                out.append(self.predict(p))
            except AslkitError as exc:
                out.append(ClipPrediction(str(p), None, 0.0, [], False, str(exc)))
            except Exception as exc:  # not BaseException: an interrupt stops the batch
                if os.environ.get("ASLKIT_DEBUG"):
                    raise
                reason = (str(exc).strip().splitlines() or [""])[0][:200]
                why = f"{shown(p)}: cannot use this clip ({type(exc).__name__}: {shown(reason)})"
                out.append(ClipPrediction(str(p), None, 0.0, [], False, why))
        return out
