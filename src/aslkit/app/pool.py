"""The models a server answers with: which a client may ask for, loaded and cached under locks (ModelPool),
and one uploaded photo, clip or video run through them. Shared by the HTTP API (api.py, server.py) and the web
app (web.py), which all import it and not each other the wrong way: server mounts web, web never imports server."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aslkit.errors import AslkitError, ImageError, ImageTooLarge, ModelError
from aslkit.names import regular_file_problem, shown

if TYPE_CHECKING:
    from aslkit.inference.lexicon import Lexicon
    from aslkit.inference.sequence_recognizer import ClipPrediction, SequenceRecognizer
    from aslkit.inference.transcribe import SpellingResult

MAX_UPLOAD_MB = 10  # photos larger than this are refused with 413 (and by the app's upload limit)
CACHED_MODELS = 4  # recognizers kept loaded (each holds a MediaPipe graph and its threads), the default included
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a run folder's name: no '/', no '..', no '-x'
SIGN_MODEL = "words"  # what an uploaded clip or video is read with when the client names no sign model
CLIP_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".npy")


def allowed_model(name: str, runs: str | Path | None) -> tuple[str, Path]:
    """(cache key, model JSON) for a model a client may ask for: a shipped model by name, or a run under
    ``runs`` by its folder's name. Anything else is a ModelError whose message is the same whether or not
    such a file or folder exists, so that a client learns nothing about the server's disk."""
    from aslkit.models.io import shipped_models

    shipped = shipped_models()
    if name in shipped:
        return name, shipped[name]
    if runs is not None and RUN_NAME.fullmatch(name):
        path = Path(runs) / name / "model.json"
        if path.is_file():
            return f"run:{name}", path
    raise ModelError(
        f"unknown model '{shown(name)}': ask for a shipped model ({', '.join(shipped)}) or a run of the server's "
        "--runs folder, by its name"
    )


def run_names(runs: str | Path | None) -> list[str]:
    """Runs under ``runs`` that clients may ask for by name (folders holding a model.json)."""
    if runs is None or not Path(runs).is_dir():
        return []
    return sorted(p.parent.name for p in Path(runs).glob("*/model.json") if RUN_NAME.fullmatch(p.parent.name))


def _one_line(text: str, limit: int = 300) -> str:
    text = shown(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_problem(exc: BaseException, name: str, source: str | Path) -> ModelError:
    """Why a model cannot be used, in one line that names it as the client did, never by the server's folders."""
    why = str(exc) if isinstance(exc, AslkitError) else f"{type(exc).__name__}: {exc}"
    if isinstance(source, Path):
        why = why.replace(str(source.parent), shown(name))
    return ModelError(f"model '{shown(name)}' cannot be used: {_one_line(why)}")


def _check_files(source: str | Path, name: str) -> None:
    """A model's two files must be regular files: a FIFO would block the loader for ever."""
    if isinstance(source, Path):
        for part in (source, source.with_suffix(".safetensors")):
            trouble = regular_file_problem(part)
            if trouble is not None:
                raise ModelError(f"model '{shown(name)}' cannot be used: {part.name} {trouble}")


def load_recognizer(source: str | Path, name: str):
    """A ready recognizer for ``source`` (``name`` is how the client spelled it): loaded, tried once on a
    synthetic hand (a crafted model fails here, not on a client's photo) and warmed up. Any failure is a
    one-line ModelError that names ``name`` and not the server's folders."""
    from aslkit.inference.recognizer import Recognizer
    from aslkit.inference.recognizers import photo_recognizer
    from aslkit.landmarks.extractor import Hand, HandsResult

    _check_files(source, name)
    rec = None
    try:
        rec = photo_recognizer(source)
        if isinstance(rec, Recognizer):  # a landmark model: tried on a made-up hand, without MediaPipe
            t = np.linspace(0.0, 1.0, 21, dtype=np.float32)
            pts = np.stack([0.4 + 0.2 * t, 0.3 + 0.4 * np.sin(3 * t) ** 2, 0.05 * t], axis=1)
            pred = rec.predict_hands(HandsResult(640, 480, [Hand(pts, pts - 0.5, "Right", 1.0)]))
        else:
            pred = rec.predict(np.zeros((64, 64, 3), np.uint8))
        if not pred.top or pred.label not in rec.labels:
            raise ModelError("its answers do not match its labels")
        rec.landmarker.warmup()
        return rec
    except Exception as exc:  # noqa: BLE001 - whatever a crafted model breaks is one line to the client
        if rec is not None:
            rec.close()
        raise _model_problem(exc, name, source) from None


def load_clip_recognizer(source: str | Path, name: str) -> SequenceRecognizer:
    """A ready sign recognizer for ``source`` (see load_recognizer), tried once on a made-up clip of moving
    hands; a photo model is refused here with a pointer to what reads its uploads."""
    from aslkit.inference.recognizers import recognizer
    from aslkit.inference.sequence_recognizer import SequenceRecognizer

    _check_files(source, name)
    try:
        rec = recognizer(source, top_k=5, cache_dir=None)  # an upload's landmarks are never cached
    except Exception as exc:  # noqa: BLE001 - as load_recognizer
        raise _model_problem(exc, name, source) from None
    if not isinstance(rec, SequenceRecognizer):
        rec.close()
        raise ModelError(
            f"model '{shown(name)}' reads photos, not clips: send a photo as field 'image', or a fingerspelling "
            "video to /v1/transcribe"
        )
    try:
        t = np.linspace(0.0, 1.0, 20, dtype=np.float32)[:, None]
        frames = np.zeros((20, 258), np.float32)
        frames[:, 132:258] = 0.3 + 0.4 * np.abs(np.sin(3 * t + np.arange(126, dtype=np.float32) / 7))
        pred = rec.predict_frames(frames)
        if not pred.top or pred.label not in rec.labels:
            raise ModelError("its answers do not match its labels")
        return rec
    except Exception as exc:  # noqa: BLE001 - as load_recognizer
        raise _model_problem(exc, name, source) from None


class _Entry:
    """A cached recognizer and its lock; ``rec`` is None once evicted (and its MediaPipe graph closed)."""

    def __init__(self, rec) -> None:
        self.rec = rec
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:  # waits for a request that is using it
            rec, self.rec = self.rec, None
        if rec is not None:
            rec.close()
            _trim_heap()


def _trim_heap() -> None:
    """Give freed memory back to the system (glibc keeps a closed MediaPipe graph's pages otherwise: about
    250 MB more RSS after a dozen loads and closes instead of about 100 MB)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


class ModelPool:
    """The recognizers of the server: its default model, and the shipped models and runs under ``runs`` that
    clients ask for by name (see allowed_model), at most ``size`` loaded at once (least recently used
    evicted; never the default). Each is used under its own lock."""

    DEFAULT = "\0default"  # the default model's cache key: a name no client can spell

    def __init__(self, default: str | None = None, runs: str | Path | None = "runs", size: int = CACHED_MODELS):
        from aslkit.models.io import load_model

        self.default = default or "letters"
        load_model(self.default)  # fail now, with one line, if the model is unknown
        self.runs = Path(runs) if runs is not None else None
        self.size = max(2, int(size))
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._guard = threading.Lock()
        # videos and clips, one at a time (a video is seconds of MediaPipe on every core): the others wait
        self.videos = threading.Lock()

    def resolve(self, name: str | None) -> tuple[str, str | Path]:
        """(cache key, what to load) for a model name from a client; ModelError if it is not allowed."""
        if not name or name == self.default:
            return self.DEFAULT, self.default  # the operator's --model: any name or path
        return allowed_model(name, self.runs)

    def source(self, name: str | None) -> str:
        """What to hand to load_model for ``name`` (for the webcam and video tabs)."""
        return str(self.resolve(name)[1])

    def _entry(self, name: str | None, clips: bool = False) -> _Entry:
        """The cached recognizer of ``name``: for photos (default: the server's model), or with ``clips`` for
        clips and videos (default: SIGN_MODEL), each cached under its own key."""
        if clips:
            name = name or SIGN_MODEL
        key, source = self.resolve(name)
        key = "clip:" + key if clips else key
        load = load_clip_recognizer if clips else load_recognizer
        evicted = []
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
            entry = _Entry(load(source, name or self.default))
            self._entries[key] = entry
            while len(self._entries) > self.size:
                old = next(k for k in self._entries if k not in (self.DEFAULT, key))
                evicted.append(self._entries.pop(old))
        for old_entry in evicted:
            old_entry.close()
        return entry

    def warm(self, name: str | None = None, clips: bool = False) -> None:
        """Load a model (and MediaPipe) now rather than on the first photo (or clip)."""
        self._entry(name, clips)

    def analyze(self, rgb: np.ndarray, name: str | None = None):
        """(Prediction, HandsResult) of one RGB image with the model ``name`` (None: the default)."""
        while True:
            entry = self._entry(name)
            with entry.lock:
                if entry.rec is not None:  # else evicted between the two lines above: load it again
                    return entry.rec.analyze(rgb)

    def predict_clip(self, path: Path, name: str | None = None) -> ClipPrediction:
        """The ClipPrediction of a video or .npy clip file with the sign model ``name`` (None: SIGN_MODEL),
        after the videos before it (see ``videos``). Raises as SequenceRecognizer.predict."""
        with self.videos:
            while True:
                entry = self._entry(name, clips=True)
                with entry.lock:
                    if entry.rec is not None:  # else evicted meanwhile: load it again
                        return entry.rec.predict(path)

    def transcribe(self, path: Path, name: str | None = None, lexicon: Lexicon | None = None) -> SpellingResult:
        """The SpellingResult of a fingerspelling video with the letter model ``name`` (None: the server's),
        after the videos before it. The model is checked as for photos first (a crafted one is a ModelError
        here); the video then gets a streaming recognizer of its own, as `aslkit transcribe` gives each."""
        from aslkit.inference.transcribe import transcribe

        self.warm(name)
        source = self.resolve(name)[1]
        with self.videos:
            try:
                return transcribe(path, model=source, lexicon=lexicon)
            except ModelError as exc:  # e.g. an image model, which the live recognizer cannot stream
                raise _model_problem(exc, name or self.default, source) from None

    def close(self) -> None:
        with self._guard:
            entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            entry.close()


def predict_upload(pool: ModelPool, data: bytes, filename: str | None, model: str | None = None):
    """(Prediction, HandsResult) for uploaded bytes; ImageError (with the file's name) for a bad upload."""
    from aslkit.data.images import decode_image

    name = filename or "upload"
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise ImageTooLarge(f"{name}: file too large ({len(data) / 1e6:.1f} MB; limit {MAX_UPLOAD_MB} MB)")
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    rgb = decode_image(data, name)
    pred, hands = pool.analyze(rgb, model)
    pred.path = filename
    return pred, hands, rgb


def _upload_name(filename: str | None, suffixes: tuple[str, ...], what: str) -> str:
    """A safe file name for an upload, keeping the client's name where it is plain (errors then name the file
    as the client knows it), and its suffix, which says how the file is read; ImageError for another suffix."""
    base = os.path.basename((filename or "").replace("\\", "/"))
    suffix = os.path.splitext(base)[1].lower()
    if suffix not in suffixes:
        got = f"'{shown(base)}'" if base else "a file without a name"
        raise ImageError(f"{got}: expected {what} ({', '.join(suffixes)}), by the file name's suffix")
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.splitext(base)[0])[:100].lstrip(".-") or "upload"
    return stem + suffix


@contextlib.contextmanager
def saved_upload(data: bytes, filename: str | None, suffixes: tuple[str, ...], what: str) -> Iterator[Path]:
    """The uploaded bytes as a file (OpenCV and FFmpeg read videos from files only), in a folder of its own in
    the temp folder (the server's own, see server.serve), removed afterwards. The bytes are already bounded
    (MAX_UPLOAD_MB); errors raised inside name the file as the client did, not the folder."""
    name = filename or "upload"
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise ImageTooLarge(f"{shown(name)}: file too large ({len(data) / 1e6:.1f} MB; limit {MAX_UPLOAD_MB} MB)")
    if not data:
        raise ImageError(f"{shown(name)}: empty file (0 bytes)")
    folder = tempfile.mkdtemp(prefix="aslkit-upload-")
    try:
        path = Path(folder) / _upload_name(filename, suffixes, what)
        path.write_bytes(data)
        try:
            yield path
        except AslkitError as exc:
            raise type(exc)(str(exc).replace(folder + os.sep, "")) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
