"""`aslkit serve`: the web app and the HTTP API on one local server.

``POST /v1/predict`` (multipart field ``image``) answers with the same JSON object as one row of
``aslkit predict --json``; a bad upload gets a 4xx JSON ``{"error": ...}``. ``GET /v1/health`` says the
server is up and which model it serves. The Gradio app (app/web.py) is mounted at ``/``.

Everything is local: no CDN, no analytics, no share links; the server binds to 127.0.0.1 unless told
otherwise. MediaPipe graphs are not thread-safe, so each model's recognizer is used under a lock:
concurrent requests wait their turn rather than fail.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aslkit.errors import AslkitError, ImageError

MAX_UPLOAD_MB = 10  # photos larger than this are refused with 413 (and by the app's upload limit)


class ModelPool:
    """One recognizer per model name, made on first use, each with its own lock."""

    def __init__(self, default: str | None = None) -> None:
        from aslkit.models.io import load_model

        self.default = default or "letters"
        load_model(self.default)  # fail now, with one line, if the model is unknown
        self._recs: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str | None = None):
        """(recognizer, lock) for a photo model."""
        from aslkit.inference.recognizer import Recognizer

        key = name or self.default
        with self._guard:
            if key not in self._recs:
                rec = Recognizer(key)
                rec.landmarker.warmup()
                self._recs[key] = rec
                self._locks[key] = threading.Lock()
            return self._recs[key], self._locks[key]


def predict_upload(pool: ModelPool, data: bytes, filename: str | None, model: str | None = None):
    """(Prediction, HandsResult) for uploaded bytes; ImageError (with the file's name) for a bad upload."""
    from aslkit.data.images import decode_image

    name = filename or "upload"
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise ImageError(f"{name}: file too large ({len(data) / 1e6:.1f} MB; limit {MAX_UPLOAD_MB} MB)")
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    rgb = decode_image(data, name)
    rec, lock = pool.get(model)
    with lock:
        pred, hands = rec.analyze(rgb)
    pred.path = filename
    return pred, hands, rgb


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


def create_app(model: str | None = None, web: bool = True):
    """The FastAPI app: the HTTP API, and (``web``) the Gradio app at ``/``."""
    from aslkit.models.io import ModelError

    pool = ModelPool(model)
    pool.get()  # load the model and MediaPipe now: the first photo is answered as fast as the next
    app = FastAPI(title="aslkit", docs_url="/v1/docs", openapi_url="/v1/openapi.json", redoc_url=None)

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": pool.default}

    @app.post("/v1/predict")
    async def predict(request: Request, model: str | None = None):
        """Multipart field ``image``: the letter in the photo, as one row of `aslkit predict --json`."""
        from starlette.concurrency import run_in_threadpool
        from starlette.datastructures import UploadFile

        size = int(request.headers.get("content-length") or 0)
        if size > (MAX_UPLOAD_MB + 1) * 1024 * 1024:
            return JSONResponse({"error": f"upload too large (limit {MAX_UPLOAD_MB} MB)"}, status_code=413)
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - any malformed body is the client's error, said in one line
            return JSONResponse({"error": "expected a multipart/form-data body with a field 'image'"}, 400)
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            return JSONResponse({"error": "multipart field 'image' (a photo file) is missing"}, status_code=400)
        data = await upload.read()
        try:
            pred, _, _ = await run_in_threadpool(predict_upload, pool, data, upload.filename, model)
        except ImageError as exc:
            code = 413 if "too large" in str(exc) else 415
            return JSONResponse({"error": str(exc)}, status_code=code)
        except (ModelError, AslkitError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return pred.to_json()

    if web:
        import gradio as gr

        from aslkit.app.web import build_ui

        blocks = build_ui(pool)
        app = gr.mount_gradio_app(app, blocks, path="/", max_file_size=f"{MAX_UPLOAD_MB}mb", show_api=False)
        app.add_middleware(OfflinePages)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, model: str | None = None) -> None:
    """Run the server until interrupted."""
    import contextlib
    import io
    import socket

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home
    import uvicorn

    with socket.socket() as s:  # a taken port is the user's to fix: one line, before loading anything
        try:
            s.bind((host, port))
        except OSError as exc:
            raise AslkitError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    with contextlib.redirect_stdout(io.StringIO()):  # gradio's mount prints a stray "new /"
        app = create_app(model)
    print(f"aslkit: serving on http://{host}:{port}/ (API: POST http://{host}:{port}/v1/predict)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
