"""The models a server answers with: which a client may ask for, loaded and cached under locks (ModelPool),
and one uploaded photo run through them. Shared by the HTTP API (server.py) and the web app (web.py), which
both import it and not each other the wrong way: server mounts web, web never imports server."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from aslkit.errors import AslkitError, ImageError, ImageTooLarge, ModelError
from aslkit.names import regular_file_problem, shown

MAX_UPLOAD_MB = 10  # photos larger than this are refused with 413 (and by the app's upload limit)
CACHED_MODELS = 4  # recognizers kept loaded (each holds a MediaPipe graph and its threads), the default included
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a run folder's name: no '/', no '..', no '-x'


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


def load_recognizer(source: str | Path, name: str):
    """A ready recognizer for ``source`` (``name`` is how the client spelled it): loaded, tried once on a
    synthetic hand (a crafted model fails here, not on a client's photo) and warmed up. Any failure is a
    one-line ModelError that names ``name`` and not the server's folders."""
    from aslkit.inference.recognizer import Recognizer
    from aslkit.inference.recognizers import photo_recognizer
    from aslkit.landmarks.extractor import Hand, HandsResult

    shown_name = shown(name)
    folder = str(Path(source).parent) if isinstance(source, Path) else None

    def problem(exc: BaseException) -> ModelError:
        why = str(exc) if isinstance(exc, AslkitError) else f"{type(exc).__name__}: {exc}"
        if folder:
            why = why.replace(folder, shown_name)
        return ModelError(f"model '{shown_name}' cannot be used: {_one_line(why)}")

    if isinstance(source, Path):
        for part in (source, source.with_suffix(".safetensors")):
            trouble = regular_file_problem(part)  # a FIFO would block the loader for ever
            if trouble is not None:
                raise ModelError(f"model '{shown_name}' cannot be used: {part.name} {trouble}")
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
        raise problem(exc) from None


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

    def resolve(self, name: str | None) -> tuple[str, str | Path]:
        """(cache key, what to load) for a model name from a client; ModelError if it is not allowed."""
        if not name or name == self.default:
            return self.DEFAULT, self.default  # the operator's --model: any name or path
        return allowed_model(name, self.runs)

    def source(self, name: str | None) -> str:
        """What to hand to load_model for ``name`` (for the webcam and video tabs)."""
        return str(self.resolve(name)[1])

    def _entry(self, name: str | None) -> _Entry:
        key, source = self.resolve(name)
        evicted = []
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
            entry = _Entry(load_recognizer(source, name or self.default))
            self._entries[key] = entry
            while len(self._entries) > self.size:
                old = next(k for k in self._entries if k not in (self.DEFAULT, key))
                evicted.append(self._entries.pop(old))
        for old_entry in evicted:
            old_entry.close()
        return entry

    def warm(self, name: str | None = None) -> None:
        """Load a model (and MediaPipe) now rather than on the first photo."""
        self._entry(name)

    def analyze(self, rgb: np.ndarray, name: str | None = None):
        """(Prediction, HandsResult) of one RGB image with the model ``name`` (None: the default)."""
        while True:
            entry = self._entry(name)
            with entry.lock:
                if entry.rec is not None:  # else evicted between the two lines above: load it again
                    return entry.rec.analyze(rgb)

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
