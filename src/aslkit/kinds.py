"""What a model reads: its input kind, and how an input of that kind is prepared (``model.json``'s
``preprocessing``).

Most of aslkit's branching is by input kind (hand landmarks, an image, a landmark clip), so the kind is one
type here instead of a string compared in many files. ``KINDS`` is the bottom row of the task table: kind ->
its ``Preprocessing`` class. The layers above add their own column, each where it may import what it names:
``inference.recognizers.RECOGNIZERS`` (kind -> recognizer) and ``training.trainer.TRAINERS`` (kind -> how a
run loads, fits and scores). A new kind is a member here plus one row in each of those tables.

This module sits with the shared helpers (it imports only ``errors``) because ``export`` and ``report``, below
``models``, also ask what a model reads. The ``Preprocessing`` classes write exactly the keys, in the order,
that ``model.json`` has always had, so shipped weights and old run folders load unchanged; keys they do not
know are kept in ``extra`` and written back after the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar

from aslkit.errors import ModelError


class InputKind(str, Enum):
    """What a model reads; the value is the ``input`` string of ``model.json`` (and of the registry)."""

    LANDMARKS = "hand-landmarks"  # one hand's 21 points, from a photo or a video frame
    IMAGE = "image"  # pixels (the whole photo, or the hand's crop)
    SEQUENCE = "sequence"  # a clip of landmark frames (a video, or a .npy take)

    def __str__(self) -> str:  # f-strings and messages show the model.json word, as before
        return self.value


def parse_kind(value: Any) -> InputKind:
    """The InputKind a model.json or registry ``input`` names; one-line ModelError for anything else."""
    try:
        return InputKind(value)
    except ValueError:
        known = ", ".join(k.value for k in InputKind)
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ModelError(f"unknown input kind {shown}; aslkit reads {known}") from None


def kind_of(preprocessing: Mapping[str, Any], default: InputKind | str | None = None) -> InputKind:
    """The kind a ``preprocessing`` dict says its model reads (``default`` when it names none, e.g. the
    architecture's own; ModelError when it names none and there is no default, or names an unknown kind)."""
    if "input" in preprocessing:
        return parse_kind(preprocessing["input"])
    if default is None:
        raise ModelError("preprocessing names no input kind")
    return parse_kind(default)


CLIPS_SCORED: dict[str, str] = {"input": InputKind.SEQUENCE.value}
"""What evaluation adds to a sequence model's metrics (photo metrics name no input): its report says signer."""


def scored_clips(metrics: Mapping[str, Any]) -> bool:
    """Whether evaluation metrics are a sequence model's (clips, grouped by signer), not a photo model's."""
    return metrics.get("input") == CLIPS_SCORED["input"]


@dataclass
class Preprocessing:
    """How an input of one kind becomes a model's input; ``to_json`` is model.json's ``preprocessing``.

    Fields are written in declaration order after ``input`` and skipped when None (absent from the file),
    then ``extra`` (keys this aslkit does not name). ``from_json(p.to_json()) == p`` and
    ``from_json(d).to_json() == d`` for every dict a model was saved with."""

    kind: ClassVar[InputKind]
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    @classmethod
    def _named(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "extra"]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._order():
            value = self.kind.value if name == "input" else getattr(self, name)
            if value is not None:
                out[name] = value
        return {**out, **self.extra}

    def _order(self) -> list[str]:
        return ["input", *self._named()]

    @classmethod
    def from_json(cls, pre: Mapping[str, Any]) -> Preprocessing:
        """The Preprocessing of the kind ``pre`` names (its ``input``), from a model.json dict."""
        kind = kind_of(pre)
        sub = KINDS[kind]
        if cls is not Preprocessing and sub is not cls:
            raise ModelError(f"preprocessing reads {kind}, not {cls.kind}")
        named = sub._named()
        return sub(
            **{k: pre[k] for k in named if k in pre},
            extra={k: v for k, v in pre.items() if k != "input" and k not in named},
        )


@dataclass
class LandmarkPreprocessing(Preprocessing):
    """A photo -> MediaPipe hand points -> features (``training.trainer.preprocessing_spec`` fills it)."""

    kind: ClassVar[InputKind] = InputKind.LANDMARKS
    views: int | str | None = None
    second_view_below: float | None = None
    features: str | None = None
    canonical_handedness: str | None = None
    hand_choice: str | None = None
    no_hand_label: str | None = None
    extractor: dict[str, Any] | None = None

    def _order(self) -> list[str]:  # today's model.json: the view settings come before "input"
        named = self._named()
        return [*named[:2], "input", *named[2:]]


@dataclass
class ImagePreprocessing(Preprocessing):
    """Pixels, whole or cropped to the hand (``training.image_fit.image_preprocessing_spec`` fills it)."""

    kind: ClassVar[InputKind] = InputKind.IMAGE
    size: int | None = None
    crop: str | None = None
    hand_margin: float | None = None
    resize: str | None = None
    pixels: str | None = None
    no_hand_label: str | None = None


@dataclass
class SequencePreprocessing(Preprocessing):
    """A clip of landmark frames resampled to ``length`` (``inference.sequence_recognizer`` fills it)."""

    kind: ClassVar[InputKind] = InputKind.SEQUENCE
    layout: str | None = None
    length: int | None = None
    features: str | None = None
    resample: str | None = None
    pose_optional: bool | None = None
    idle_label: str | None = None
    min_confidence: float | None = None
    aspect: float | None = None  # camera shape (width / height) of the training clips; videos are shown at it


KINDS: dict[InputKind, type[Preprocessing]] = {
    InputKind.LANDMARKS: LandmarkPreprocessing,
    InputKind.IMAGE: ImagePreprocessing,
    InputKind.SEQUENCE: SequencePreprocessing,
}
"""The task table's bottom row: each kind's Preprocessing (see the module docstring for the other columns)."""
