"""The HTTP API's rows as pydantic models: the same fields as the CLI's ``--json`` rows (``Prediction.to_json``,
``ClipPrediction.to_json``, ``SpellingResult.to_json``), so that ``/v1/openapi.json`` tells a client generator
exactly what `aslkit predict --json` and `aslkit transcribe --json` print. tests/test_api.py checks them field
by field against real rows: a field added to a row and not here fails there.

A field the CLI always prints is required here, ``null`` or not; one it prints only sometimes (a video's
``segments``, a word list's ``raw_text``) is optional and left out of the answer when absent, as in the CLI.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Ranked = list[tuple[str, float]]  # [[label, probability], ...], best first


class Prediction(BaseModel):
    """One photo's answer: one row of `aslkit predict --json` with a photo model."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(description="the uploaded file's name")
    label: str | None = Field(description="the answer (the model's no-hand label, e.g. Nothing, when no hand)")
    confidence: float = Field(description="the answer's probability, 0-1")
    top: Ranked = Field(description="the top-k [label, probability] pairs, best first")
    hand: bool | None = Field(description="a hand was found; null: the model reads the whole photo")
    error: str | None = Field(description="always null in a 200 answer (errors are 4xx)")


class Segment(BaseModel):
    """One span of signing in a video and the sign read in it."""

    model_config = ConfigDict(extra="forbid")

    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    label: str
    confidence: float
    top: Ranked


class ClipPrediction(Prediction):
    """One clip's or video's answer: one row of `aslkit predict --json` with a sign model (e.g. ``words``)."""

    frames: int = Field(description="frames read")
    hand_frames: int = Field(description="frames with a hand")
    segments: list[Segment] | None = Field(
        None, description="a video's spans of signing in time order (absent for a .npy clip); label and top are "
        "then its surest sign's"
    )  # fmt: skip


class SpelledLetter(BaseModel):
    """One letter read from a fingerspelling video, with its span."""

    model_config = ConfigDict(extra="forbid")

    letter: str
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    confidence: float


class Transcription(BaseModel):
    """A fingerspelling video's text: one row of `aslkit transcribe --json`."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the uploaded file's name")
    text: str = Field(description="the text read ('' when no letter was)")
    letters: list[SpelledLetter]
    error: str | None = Field(description="always null in a 200 answer (errors are 4xx)")
    raw_text: str | None = Field(None, description="the text before the word list changed it (only then present)")


class Error(BaseModel):
    """What every 4xx answer holds: one line saying what was wrong with the request."""

    error: str


class Health(BaseModel):
    """The server is up, and the photo model it answers with by default."""

    status: str
    model: str
