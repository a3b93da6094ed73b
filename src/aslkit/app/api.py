"""The HTTP API of `aslkit serve` (``/v1``): photos, clips and videos in, the CLI's ``--json`` rows out.

- ``POST /v1/predict``: multipart field ``image`` (a photo) -> one row of `aslkit predict --json` (the server's
  photo model, or ``?model=``); field ``video`` (a video, or a .npy landmark clip) -> the row `aslkit predict
  --json --model words` prints for it (the ``words`` sign model, or another sign model by ``?model=``).
- ``POST /v1/transcribe``: field ``video`` (a fingerspelling video), optional ``lexicon`` (a word list) -> one
  row of `aslkit transcribe --json`.
- ``GET /v1/health``.

Every bad request is a 4xx answer ``{"error": "one line"}``: 400 (a bad request or model), 413 (too large), 415
(a file that cannot be read as what was sent).

Uploads are bounded and never spooled to disk by the parser. FastAPI's ``File()`` parameters describe the body
in ``/v1/openapi.json``, but FastAPI parses a form only after reading all of it, and rolls each file over 1 MB
to a temp file as it goes: a 200 MB chunked upload would be read and written whole before any check ran. So the
upload routes use ``BoundedUploadRoute``: it counts the body as it arrives and answers 413 as soon as it passes
the limit (or its Content-Length says it will), parses the form in memory, and only then hands the request to
FastAPI, whose ``File()`` parameters take the parsed files. A video that is used (within the limit) is written
to the server's own temp folder, because OpenCV and FFmpeg read files, and removed after its answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from aslkit.app import schemas
from aslkit.app.pool import CLIP_SUFFIXES, MAX_UPLOAD_MB, ModelPool, predict_upload, saved_upload
from aslkit.errors import AslkitError, ImageError, ImageTooLarge, ModelError
from aslkit.inference.lexicon import LexiconError

if TYPE_CHECKING:
    from aslkit.inference.lexicon import Lexicon
    from aslkit.inference.sequence_recognizer import ClipPrediction
    from aslkit.inference.transcribe import SpellingResult

MAX_BODY = (MAX_UPLOAD_MB + 1) * 1024 * 1024  # a body: the file (and a word list) and its multipart framing
VIDEO_SUFFIXES = tuple(s for s in CLIP_SUFFIXES if s != ".npy")
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.Error, "description": "no file, a field that is not a file, a bad model or word list"},
    413: {"model": schemas.Error, "description": f"the upload is over {MAX_UPLOAD_MB} MB"},
    415: {"model": schemas.Error, "description": "the file cannot be read as a photo, video or clip"},
}


def error(message: str, status: int, close: bool = False) -> JSONResponse:
    """A 4xx answer. ``close``: the client may still be sending a body nobody will read; end the connection
    rather than drain it."""
    return JSONResponse({"error": message}, status_code=status, headers={"connection": "close"} if close else None)


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


NOT_A_FORM = "expected a multipart/form-data body with a file field ('image' or 'video')"


async def parse_form(headers, body: bytes):
    """The multipart form in ``body``, held in memory (the body is already bounded); ValueError with the
    client's one line when it is not one, or breaks the form's limits."""
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream():
        yield body

    if not headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ValueError(NOT_A_FORM)
    m = re.search(r'boundary="?([^";]+)"?', headers.get("content-type", ""))
    if m and not body.rstrip(b"\r\n").endswith(b"--" + m.group(1).encode("latin-1") + b"--"):
        raise ValueError(f"{NOT_A_FORM}; this one is cut short (no closing boundary)")
    parser = MultiPartParser(headers, stream(), max_files=4, max_fields=16)
    parser.spool_max_size = len(body) + 1  # never rolled over to a temp file on disk
    try:
        form = await parser.parse()
    except MultiPartException as exc:  # too many parts, a part too large: said as such
        raise ValueError(f"multipart form refused: {exc.message}") from None
    except Exception:  # noqa: BLE001 - python-multipart's own errors: a malformed body is the client's
        for f in parser._files_to_close_on_error:
            f.close()
        raise ValueError(f"{NOT_A_FORM}; this one is malformed") from None
    twice = [k for k in form if len(form.getlist(k)) > 1]
    if twice:  # the last one would be used without a word
        await form.close()
        raise ValueError(f"multipart field '{twice[0]}' sent more than once; send each field once")
    return form


class ParsedRequest(Request):
    """A request whose multipart form was already read (bounded, in memory): FastAPI's ``await request.form()``
    gets it instead of reading the body again."""

    def __init__(self, request: Request, form: Any) -> None:
        super().__init__(request.scope, request.receive)
        self._parsed = form

    def form(self, **_: Any) -> Any:
        """The form parsed before (Request.form's limits do not apply: the body was bounded as a whole)."""

        async def parsed() -> Any:
            return self._parsed

        return parsed()


class BoundedUploadRoute(APIRoute):
    """An upload route: its body is counted as it arrives and refused (413) past MAX_BODY, whatever its framing,
    then parsed in memory, before FastAPI sees the request (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        from starlette.requests import ClientDisconnect

        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            try:
                body = await read_body(request, MAX_BODY)
            except ClientDisconnect:
                return error("the client went away", 400, close=True)
            if body is None:
                return error(f"upload too large (limit {MAX_UPLOAD_MB} MB)", 413, close=True)
            try:
                form = await parse_form(request.headers, body)
            except ValueError as exc:
                return error(str(exc), 400)
            finally:
                del body
            return await handler(ParsedRequest(request, form))  # FastAPI closes the form's files after it

        return bounded


async def validation_error(request: Request, exc: Any) -> JSONResponse:
    """FastAPI's 422 for a request its parameters refuse, as this API's one-line 400 (every body field of
    this API is a file)."""
    first = exc.errors()[0] if exc.errors() else {}
    where, name = [str(x) for x in (*first.get("loc", ()), "", "")[:2]]
    msg = str(first.get("msg", "invalid request"))
    if where == "body":
        missing = first.get("type") == "missing"
        return error(f"multipart field '{name}': {'missing' if missing else 'not a file'} (a file is expected)", 400)
    return error(f"{where} parameter '{name}': {msg}" if name else msg, 400)


async def http_error(request: Request, exc: Any) -> Response:
    """Starlette's own 4xx (404, 405) under /v1 in this API's shape; elsewhere (the web app) FastAPI's."""
    from fastapi.exception_handlers import http_exception_handler

    if (request.url.path + "/").startswith("/v1/") and 400 <= exc.status_code < 500:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
    return await http_exception_handler(request, exc)


def documented(app: Any) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` without FastAPI's 422 answers: this API answers a refused parameter with a 400 ``Error``
    (see validation_error), and a schema must not promise a body it never sends."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # built once, then cached by FastAPI: the lines below find nothing the next time
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        return schema

    return openapi


def get_pool(request: Request) -> ModelPool:
    """The server's models (create_app puts them in the app's state)."""
    return request.app.state.pool


def _answer(exc: AslkitError, bad_file: int) -> JSONResponse:
    """The 4xx of a failure, by its type, not by words in its message (which holds the file's name):
    ``bad_file`` for an upload that cannot be read as what it was sent as."""
    if isinstance(exc, ImageTooLarge):
        return error(str(exc), 413)
    if isinstance(exc, ImageError):
        return error(str(exc), 415)
    if isinstance(exc, (ModelError, LexiconError)):
        return error(str(exc), 400)
    return error(str(exc), bad_file)


def _file_job(data: bytes, filename: str | None, suffixes: tuple[str, ...], what: str, run: Callable) -> dict:
    """``run(path)``'s row for an uploaded file saved for it (see saved_upload), named as the client named it.
    A failure that is not an AslkitError (a library's bug on an odd file) is this file's one line too, as in
    `aslkit predict`; with ASLKIT_DEBUG set it is raised for its traceback."""
    with saved_upload(data, filename, suffixes, what) as path:
        try:
            row = run(path).to_json()
        except AslkitError:
            raise
        except Exception as exc:
            if os.environ.get("ASLKIT_DEBUG"):
                raise
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            raise AslkitError(f"{path.name}: cannot use this file ({type(exc).__name__}: {reason})") from None
    row["path"] = filename
    return row


Pool = Annotated[ModelPool, Depends(get_pool)]
Model = Annotated[
    str | None,
    Query(description="a shipped model or a run of the server's --runs folder, by name (default: see each field)"),
]
router = APIRouter(route_class=BoundedUploadRoute)


@router.post(
    "/v1/predict",
    response_model=schemas.Prediction | schemas.ClipPrediction,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary="The letter in a photo, or the sign in a clip or video",
)
async def predict(
    pool: Pool,
    image: Annotated[
        UploadFile | None, File(description="a photo, read with a photo model (default: the server's --model)")
    ] = None,
    video: Annotated[
        UploadFile | None,
        File(description="a video, or a .npy landmark clip (T, F), read with a sign model (default: words)"),
    ] = None,
    model: Model = None,
) -> Any:
    """Send one file: ``image`` (a photo) or ``video`` (a video or a .npy clip). The answer is the row
    `aslkit predict --json` prints for that file: Prediction for a photo, ClipPrediction for a clip."""
    from starlette.concurrency import run_in_threadpool

    if (image is None) == (video is None):
        return error("send one file: multipart field 'image' (a photo) or 'video' (a video or .npy clip)", 400)
    upload = image or video
    data = await upload.read()
    try:
        if image is not None:
            pred, _, _ = await run_in_threadpool(predict_upload, pool, data, image.filename, model)
            return pred.to_json()

        def run(path: Path) -> ClipPrediction:
            return pool.predict_clip(path, model)

        return await run_in_threadpool(_file_job, data, video.filename, CLIP_SUFFIXES, "a video or .npy clip", run)
    except AslkitError as exc:
        return _answer(exc, 400 if image is not None else 415)


@router.post(
    "/v1/transcribe",
    response_model=schemas.Transcription,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary="The fingerspelled text of a video",
)
async def transcribe(
    pool: Pool,
    video: Annotated[UploadFile, File(description="a fingerspelling video")],
    lexicon: Annotated[
        UploadFile | None,
        File(description="a word list (UTF-8 text, one word a line): unsure words snap to the nearest word in it"),
    ] = None,
    model: Model = None,
) -> Any:
    """The row `aslkit transcribe --json` prints for the video (with ``--lexicon`` when a word list is sent),
    read with the letter model ``model`` (default: the server's --model)."""
    from starlette.concurrency import run_in_threadpool

    data = await video.read()
    words = await lexicon.read() if lexicon is not None else None

    def run(path: Path) -> SpellingResult:
        lex = _word_list(words, path.parent) if words is not None else None
        return pool.transcribe(path, model, lex)

    try:
        return await run_in_threadpool(_file_job, data, video.filename, VIDEO_SUFFIXES, "a video", run)
    except AslkitError as exc:
        return _answer(exc, 415)


def _word_list(data: bytes, folder: Path) -> Lexicon:
    """The uploaded word list as a Lexicon (read as `--lexicon` reads a file); a bad one is a 400 naming the field."""
    from aslkit.inference.lexicon import load_lexicon

    path = folder / "lexicon.txt"
    path.write_bytes(data)
    try:
        return load_lexicon(path)
    except LexiconError as exc:
        raise LexiconError(str(exc).replace(f"--lexicon {path}", "multipart field 'lexicon'")) from None
