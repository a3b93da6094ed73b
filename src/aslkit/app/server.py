"""`aslkit serve`: the web app and the HTTP API on one local server.

The HTTP API (app/api.py, described at ``GET /v1/openapi.json``): ``POST /v1/predict`` (multipart field
``image``, a photo, or ``video``, a video or .npy clip) answers with one row of ``aslkit predict --json``;
``POST /v1/transcribe`` (field ``video``) with one row of ``aslkit transcribe --json``; a bad upload gets a 4xx
JSON ``{"error": ...}``. ``GET /v1/health`` says the server is up and which model it serves. The Gradio app
(app/web.py) is mounted at ``/``.

Everything is local: no CDN, no analytics, no share links; the server binds to 127.0.0.1 unless told
otherwise. MediaPipe graphs are not thread-safe, so each model's recognizer is used under a lock,
and videos are read one at a time: concurrent requests wait their turn rather than fail.

Hostile or careless clients: a request body is counted as it arrives and refused (413) once it passes the
limit, whatever its framing (chunked or not), and is never spooled to disk (a video within the limit is
written to the server's temp folder for FFmpeg to read, and removed after its answer); ``?model=`` takes only the
shipped models and runs under ``--runs`` by name, with a bounded recognizer cache; a connection that has
not sent its headers within ``header_timeout`` seconds, or its body within ``body_timeout``, is closed; and
the server keeps its temp files (Gradio's included) in a folder of its own, removed when it stops.
"""

from __future__ import annotations

import math
import os
import re
import threading
from pathlib import Path
from typing import Any

from aslkit.app.pool import MAX_UPLOAD_MB, ModelPool
from aslkit.errors import AslkitError
from aslkit.names import shown

API_DESCRIPTION = (
    "ASL letters in photos, signs in clips and videos, fingerspelled text in videos: the rows of `aslkit predict "
    f"--json` and `aslkit transcribe --json`. Uploads are multipart/form-data, at most {MAX_UPLOAD_MB} MB; every "
    'error is a 4xx answer {"error": "one line"}.'
)
HEADER_TIMEOUT = 10.0  # seconds for a connection to send a request's headers, from its start or the last answer
BODY_TIMEOUT = 60.0  # seconds for the body, from the end of the headers


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


def server_inputs(model: str | None, runs: str | Path | None) -> list[str | Path]:
    """What the server reads from disk (its runs folder, a model's run folder): takes are never written there."""
    return [p for p in (runs, model) if p is not None and Path(p).exists()]


def check_record_dir(record_dir: str | Path | None, model: str | None, runs: str | Path | None) -> None:
    """``--record-dir``, checked before anything loads: a new or empty folder, or a folder of takes, outside
    the server's inputs and any read-only folder (the rule of live.capture.check_takes_folder)."""
    from aslkit.live.capture import check_takes_folder

    if record_dir is not None:
        check_takes_folder(record_dir, server_inputs(model, runs), flag="--record-dir")


def create_app(
    model: str | None = None, web: bool = True, runs: str | Path | None = "runs", record_dir: str | Path | None = None
):
    """The FastAPI app: the HTTP API (app/api.py), and (``web``) the Gradio app at ``/``. ``runs``: the folder
    whose runs clients may pick by name (``?model=NAME``, the Model tab). ``record_dir``: the folder the Record
    tab saves takes into (None: recording off, nothing written)."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from aslkit.app import api, schemas

    check_record_dir(record_dir, model, runs)
    pool = ModelPool(model, runs)
    pool.warm()  # load the model and MediaPipe now: the first photo is answered as fast as the next
    # no docs page: Swagger UI loads from a CDN, which an offline server does not (and OfflinePages strips)
    app = FastAPI(
        title="aslkit",
        version="1",  # of the /v1 API
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
        generate_unique_id_function=lambda route: route.name,  # operation ids `predict`, `transcribe`, `health`
    )
    app.state.pool = pool
    app.add_exception_handler(RequestValidationError, api.validation_error)
    app.add_exception_handler(StarletteHTTPException, api.http_error)

    @app.get("/v1/health", response_model=schemas.Health)
    def health() -> dict[str, Any]:
        """The server is up; ``model``: its photo model (the default of /v1/predict's ``image``, /v1/transcribe)."""
        return {"status": "ok", "model": pool.default}

    app.include_router(api.router)
    app.openapi = api.documented(app)
    _answer_the_rest_of_v1(app, [*app.routes, *api.router.routes])
    if web:
        import gradio as gr

        from aslkit.app.web import build_ui

        blocks = build_ui(pool, record_dir, server_inputs(model, runs))
        app = gr.mount_gradio_app(app, blocks, path="/", max_file_size=f"{MAX_UPLOAD_MB}mb", show_api=False)
        app.add_middleware(OfflinePages)
    return app


def _answer_the_rest_of_v1(app: Any, routes: list[Any]) -> None:
    """Every other request under /v1 answered by the API, in its ``{"error"}`` shape: a known route called with
    another method is a 405 (with Allow), anything else a 404. Without this the web app mounted at ``/`` took them
    and answered its own ``{"detail": "Not Found"}``."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    # ``routes``: the app's and its routers' (an included router's routes are not all listed in ``app.routes``)
    known = {r.path: sorted(r.methods - {"HEAD"}) for r in routes if str(getattr(r, "path", "")).startswith("/v1/")
             and getattr(r, "methods", None)}  # fmt: skip
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    async def elsewhere(request: Any) -> None:  # a plain Starlette endpoint: it takes the request, no parameters
        path = request.url.path
        if path in known:
            allow = ", ".join(known[path])
            raise StarletteHTTPException(405, f"{request.method} {path}: use {allow}", headers={"Allow": allow})
        raise StarletteHTTPException(404, f"no {path} in this API (see /v1/openapi.json)")

    app.add_route("/v1/{rest:path}", elsewhere, methods=methods, include_in_schema=False)
    app.add_route("/v1", elsewhere, methods=methods, include_in_schema=False)  # the API's root, without a slash


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
    record_dir: str | Path | None = None,
) -> None:
    """Run the server until interrupted (Ctrl-C or SIGTERM); its temp folder is removed on the way out.
    ``runs``: the folder of runs clients may pick by name (default ./runs, which may be absent). ``record_dir``:
    where the Record tab saves takes (default: recording off)."""
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
    check_record_dir(record_dir, model, runs)
    with socket.socket() as s:  # a taken port is the user's to fix: one line, before loading anything
        try:
            s.bind((host, port))
        except OSError as exc:
            import errno

            taken = exc.errno in (errno.EADDRINUSE, errno.EACCES)  # else the host: unknown, or not this machine's
            fix = "pick another --port" if taken else "check --host (an address of this machine, e.g. 127.0.0.1)"
            raise AslkitError(f"cannot listen on {host}:{port} ({exc.strerror}); {fix}") from None

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
            app = create_app(model, runs=runs, record_dir=record_dir)
        print(f"aslkit: serving on http://{host}:{port}/ (API: http://{host}:{port}/v1/openapi.json)", flush=True)
        if record_dir is not None:
            print(f"aslkit: the Record tab saves takes to {shown(str(record_dir))}/<label>/take-NNN.mp4", flush=True)
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
