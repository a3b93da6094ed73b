"""`aslkit serve`: the web app and the HTTP API on one local server.

``POST /v1/predict`` (multipart field ``image``) answers with the same JSON object as one row of
``aslkit predict --json``; a bad upload gets a 4xx JSON ``{"error": ...}``. ``GET /v1/health`` says the
server is up and which model it serves. The Gradio app (app/web.py) is mounted at ``/``.

Everything is local: no CDN, no analytics, no share links; the server binds to 127.0.0.1 unless told
otherwise. MediaPipe graphs are not thread-safe, so each model's recognizer is used under a lock:
concurrent requests wait their turn rather than fail.

Hostile or careless clients: a request body is counted as it arrives and refused (413) once it passes the
limit, whatever its framing (chunked or not), and is never written to disk; ``?model=`` takes only the
shipped models and runs under ``--runs`` by name, with a bounded recognizer cache; a connection that has
not sent its headers within ``header_timeout`` seconds, or its body within ``body_timeout``, is closed; and
the server keeps its temp files (Gradio's included) in a folder of its own, removed when it stops.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aslkit.errors import AslkitError, ImageError, ModelError
from aslkit.names import regular_file_problem, shown

MAX_UPLOAD_MB = 10  # photos larger than this are refused with 413 (and by the app's upload limit)
MAX_BODY = (MAX_UPLOAD_MB + 1) * 1024 * 1024  # a /v1/predict body: the photo and its multipart framing
HEADER_TIMEOUT = 10.0  # seconds for a connection to send a request's headers, from its start or the last answer
BODY_TIMEOUT = 60.0  # seconds for the body, from the end of the headers
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
        raise ImageError(f"{name}: file too large ({len(data) / 1e6:.1f} MB; limit {MAX_UPLOAD_MB} MB)")
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    rgb = decode_image(data, name)
    pred, hands = pool.analyze(rgb, model)
    pred.path = filename
    return pred, hands, rgb


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, counted as it arrives; None as soon as it passes ``limit`` bytes (or its
    Content-Length says it will), without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_form(headers, body: bytes):
    """The multipart form in ``body``, held in memory (the body is already bounded), or None if it is not one."""
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream():
        yield body

    if not headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return None
    parser = MultiPartParser(headers, stream(), max_files=4, max_fields=16)
    parser.spool_max_size = len(body) + 1  # never rolled over to a temp file on disk
    try:
        return await parser.parse()
    except MultiPartException:
        return None
    except Exception:  # noqa: BLE001 - python-multipart's own errors: a malformed body is the client's
        for f in parser._files_to_close_on_error:
            f.close()
        return None


# Gradio's page template points at a CDN script (iframe-resizer) and preconnects to Google Fonts; an
# offline app must not, so those tags are taken out of every HTML page it serves.
_EXTERNAL_TAG = re.compile(
    rb"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]*\shref=\"https?://[^\"]*\"[^>]*/?>", re.I
)


class OfflinePages:
    """ASGI middleware: HTML responses lose their tags that would load something from another host."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body: list[bytes] = []

        async def wrapped(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = _EXTERNAL_TAG.sub(b"", b"".join(body))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(model: str | None = None, web: bool = True, runs: str | Path | None = "runs"):
    """The FastAPI app: the HTTP API, and (``web``) the Gradio app at ``/``. ``runs``: the folder whose runs
    clients may pick by name (``?model=NAME``, the Model tab)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile
    from starlette.requests import ClientDisconnect

    pool = ModelPool(model, runs)
    pool.warm()  # load the model and MediaPipe now: the first photo is answered as fast as the next
    # no docs page: Swagger UI loads from a CDN, which an offline server does not (and OfflinePages strips)
    app = FastAPI(title="aslkit", docs_url=None, openapi_url="/v1/openapi.json", redoc_url=None)
    app.state.pool = pool

    def error(message: str, status: int, close: bool = False) -> JSONResponse:
        # close: the client may still be sending a body nobody will read; end the connection rather than drain it
        return JSONResponse({"error": message}, status_code=status, headers={"connection": "close"} if close else None)

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": pool.default}

    @app.post("/v1/predict")
    async def predict(request: Request, model: str | None = None):
        """Multipart field ``image``: the letter in the photo, as one row of `aslkit predict --json`."""
        try:
            body = await read_body(request, MAX_BODY)
        except ClientDisconnect:
            return error("the client went away", 400, close=True)
        if body is None:
            return error(f"upload too large (limit {MAX_UPLOAD_MB} MB)", 413, close=True)
        form = await parse_form(request.headers, body)
        del body
        if form is None:
            return error("expected a multipart/form-data body with a field 'image'", 400)
        try:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                return error("multipart field 'image' (a photo file) is missing", 400)
            data = await upload.read()
        finally:
            await form.close()
        try:
            pred, _, _ = await run_in_threadpool(predict_upload, pool, data, upload.filename, model)
        except ImageError as exc:
            return error(str(exc), 413 if "too large" in str(exc) else 415)
        except AslkitError as exc:
            return error(str(exc), 400)
        return pred.to_json()

    if web:
        import gradio as gr

        from aslkit.app.web import build_ui

        blocks = build_ui(pool)
        app = gr.mount_gradio_app(app, blocks, path="/", max_file_size=f"{MAX_UPLOAD_MB}mb", show_api=False)
        app.add_middleware(OfflinePages)
    return app


def timed_protocol(header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT):
    """uvicorn's h11 protocol, plus what it lacks against slow clients (slowloris): a connection must send a
    request's headers within ``header_timeout`` seconds (counted from its start, or from the previous answer
    on a kept-alive connection) and its body within ``body_timeout`` seconds of the headers, or it gets a 408
    and is closed. The app's own time (a slow model) is not counted."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    timeout_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

    class TimedH11Protocol(H11Protocol):
        _timer: Any = None
        _waiting: str | None = None  # "headers", "body" or None (the app's turn, or not HTTP any more)
        _upgraded = False

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._expect("headers")

        def connection_lost(self, exc) -> None:
            self._expect(None)
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self._upgraded or self.transport.is_closing():
                self._expect(None)
            elif self.conn.their_state is h11.IDLE:
                if self._waiting != "headers":
                    self._expect("headers")  # the next request on a kept-alive connection
            elif self.conn.their_state is h11.SEND_BODY:
                if self._waiting != "body":
                    self._expect("body")
            else:
                self._expect(None)  # the request is in: the app may take its time

        def handle_websocket_upgrade(self, event) -> None:
            self._upgraded = True
            self._expect(None)
            super().handle_websocket_upgrade(event)

        def _expect(self, what: str | None) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiting = what
            if what is not None:
                delay = header_timeout if what == "headers" else body_timeout
                self._timer = self.loop.call_later(delay, self._too_slow)

        def _too_slow(self) -> None:
            self._timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if self._waiting == "headers":  # no request is being answered on this connection
                self.transport.write(timeout_408)
            elif cycle is not None and not cycle.response_complete:
                if not cycle.response_started:
                    self.transport.write(timeout_408)
                cycle.disconnected = True  # the app, waiting for the body, gets a disconnect and answers no one
                cycle.message_event.set()
            self.transport.close()

    return TimedH11Protocol


def _check_seconds(option: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise AslkitError(f"{option} {value}: expected a positive number of seconds")
    return float(value)


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    model: str | None = None,
    runs: str | Path | None = None,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
) -> None:
    """Run the server until interrupted (Ctrl-C or SIGTERM); its temp folder is removed on the way out.
    ``runs``: the folder of runs clients may pick by name (default ./runs, which may be absent)."""
    import contextlib
    import io
    import shutil
    import signal
    import socket
    import tempfile

    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise AslkitError(f"--port {port}: not a TCP port (expected 1-65535)")
    header_timeout = _check_seconds("--header-timeout", header_timeout)
    body_timeout = _check_seconds("--body-timeout", body_timeout)
    if runs is None:
        runs = "runs"
    elif not Path(runs).is_dir():
        raise AslkitError(f"--runs {shown(runs)}: not a folder")
    with socket.socket() as s:  # a taken port is the user's to fix: one line, before loading anything
        try:
            s.bind((host, port))
        except OSError as exc:
            raise AslkitError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home
    # The server's own temp folder: Gradio's uploads and cache (GRADIO_TEMP_DIR, read when gradio is imported)
    # and anything else this process spools go there, and it is removed when the server stops.
    tmp = tempfile.mkdtemp(prefix="aslkit-serve-")
    saved_env, saved_tempdir = os.environ.get("GRADIO_TEMP_DIR"), tempfile.tempdir
    os.environ["GRADIO_TEMP_DIR"] = os.path.join(tmp, "gradio")
    tempfile.tempdir = tmp

    def terminated(signum, frame) -> None:  # SIGTERM: unwind (and clean up) like Ctrl-C, not die on the spot
        raise SystemExit(128 + signum)

    old_term = (
        signal.signal(signal.SIGTERM, terminated) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        import uvicorn

        with contextlib.redirect_stdout(io.StringIO()):  # gradio's mount prints a stray "new /"
            app = create_app(model, runs=runs)
        print(f"aslkit: serving on http://{host}:{port}/ (API: POST http://{host}:{port}/v1/predict)", flush=True)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            http=timed_protocol(header_timeout, body_timeout),
            timeout_graceful_shutdown=5,  # open event streams must not hold Ctrl-C up
        )
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        tempfile.tempdir = saved_tempdir
        if saved_env is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = saved_env
        shutil.rmtree(tmp, ignore_errors=True)
