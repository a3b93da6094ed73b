"""The documented HTTP API (app/api.py, issue 20 item 4), in process (no browser, no Gradio):

- /v1/openapi.json names each route's multipart body (its file fields) and its answer's fields, and promises no
  422 the API never sends;
- the pydantic models are the CLI's --json rows field by field (a field added to a row and not to its model, or
  the other way round, fails);
- /v1/predict answers a photo, a .npy clip and a real video, and /v1/transcribe a fingerspelling video, with the
  very rows `aslkit predict --json` and `aslkit transcribe --json` print for the same files;
- every bad request is a one-line 4xx ``{"error"}`` naming the file as the client did, never a temp path;
- a chunked upload far over the limit is refused while it streams, before 3x the limit is read, and no upload is
  ever spooled to disk by the form parser; a video's temp copy is gone after its answer.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_dir

from aslkit.cli import main

fastapi_testclient = pytest.importorskip("fastapi.testclient")

LIMIT = 10 * 1024 * 1024  # MAX_UPLOAD_MB


@pytest.fixture(scope="module")
def app():
    from aslkit.app.server import create_app

    return create_app(web=False)


@pytest.fixture(scope="module")
def client(app):
    return fastapi_testclient.TestClient(app)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A real take of "hello" (pose + hands landmarks, 20 frames) as a .npy clip."""
    data = np.load(shared_dir("sign-sequences") / "words-pose-hands.npz")
    i = int(np.flatnonzero(data["label"] == "hello")[0])
    path = tmp_path_factory.mktemp("clip") / "hello.npy"
    np.save(path, data["sequences"][i].astype(np.float32))
    return path


def _cli_rows(args: list[str], capsys) -> list[dict]:
    main(args)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _post(client, route: str, field: str, path: Path, query: str = "", **extra) -> tuple[int, dict]:
    r = client.post(f"{route}{query}", files={field: (path.name, path.read_bytes()), **extra})
    return r.status_code, r.json()


# ---------------------------------------------------------------------------------------------
# the schema
# ---------------------------------------------------------------------------------------------
def _rows() -> dict[str, dict]:
    """One row of every kind the CLI prints, each with all its optional fields."""
    from aslkit.inference.recognizer import Prediction
    from aslkit.inference.sequence_recognizer import ClipPrediction, SegmentPrediction
    from aslkit.inference.spelling import SpelledLetter
    from aslkit.inference.transcribe import SpellingResult

    top = [("B", 0.9), ("U", 0.05)]
    seg = SegmentPrediction(0.2, 1.4, "hello", 0.8, [("hello", 0.8), ("-", 0.1)])
    clip = ClipPrediction("a.mp4", "hello", 0.8, [("hello", 0.8)], True, None, None, 40, 31, [seg])
    letters = [SpelledLetter("B", 0.1, 0.6, 0.9), SpelledLetter("L", 0.8, 1.2, 0.7)]
    return {
        "Prediction": Prediction("b.jpg", "B", 0.9, top, True).to_json(),
        "ClipPrediction": clip.to_json(),
        "Segment": seg.to_json(),
        "Transcription": SpellingResult("bl.mp4", "BL", letters, raw_text="BI").to_json(),
        "SpelledLetter": letters[0].to_json(),
    }


def test_models_are_the_cli_rows_field_by_field() -> None:
    from aslkit.app import schemas
    from aslkit.inference.sequence_recognizer import ClipPrediction
    from aslkit.inference.transcribe import SpellingResult

    for name, row in _rows().items():
        model = getattr(schemas, name)
        assert set(model.model_fields) == set(row), (name, set(model.model_fields) ^ set(row))
        assert model.model_validate(row).model_dump(mode="json", exclude_unset=True) == row, name
    # the optional fields are optional, and left out when the CLI leaves them out
    npy_row = ClipPrediction("a.npy", "hello", 0.8, [("hello", 0.8)], True, None, None, 20, 11).to_json()
    plain = SpellingResult("bl.mp4", "BL").to_json()
    for model, row in ((schemas.ClipPrediction, npy_row), (schemas.Transcription, plain)):
        assert model.model_validate(row).model_dump(mode="json", exclude_unset=True) == row


def test_openapi_names_the_request_bodies_and_the_response_fields(client) -> None:
    spec = client.get("/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def body(route: str) -> dict:
        ref = spec["paths"][route]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    def answer(route: str, status: str = "200") -> list[str]:
        schema = spec["paths"][route]["post"]["responses"][status]["content"]["application/json"]["schema"]
        return sorted(s["$ref"].rsplit("/", 1)[1] for s in schema.get("anyOf", [schema]))

    assert set(body("/v1/predict")["properties"]) == {"image", "video"}
    assert set(body("/v1/transcribe")["properties"]) == {"video", "lexicon"}
    assert body("/v1/transcribe")["required"] == ["video"]
    assert answer("/v1/predict") == ["ClipPrediction", "Prediction"]
    assert answer("/v1/transcribe") == ["Transcription"]
    for route in ("/v1/predict", "/v1/transcribe"):
        op = spec["paths"][route]["post"]
        assert op["operationId"] == route.rsplit("/", 1)[1]
        assert {"400", "413", "415"} <= set(op["responses"]) and "422" not in op["responses"], op["responses"]
        assert all(answer(route, s) == ["Error"] for s in ("400", "413", "415"))
    rows = _rows()
    for name in ("Prediction", "ClipPrediction", "Transcription", "Segment", "SpelledLetter"):
        assert set(schemas[name]["properties"]) == set(rows[name]), name
    assert (
        "segments" not in schemas["ClipPrediction"]["required"]
        and "raw_text" not in schemas["Transcription"]["required"]
    )
    assert "error" in schemas["Prediction"]["required"], "a field the CLI always prints, null or not, is required"
    assert "HTTPValidationError" not in schemas and schemas["Error"]["required"] == ["error"]
    assert spec["paths"]["/v1/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"
    }


# ---------------------------------------------------------------------------------------------
# the same rows as the CLI
# ---------------------------------------------------------------------------------------------
def test_clips_and_videos_are_answered_like_the_cli(client, clip: Path, capsys) -> None:
    video = shared_dir("word-videos") / "yes" / "text2hand-yes.mp4"
    cli = _cli_rows(["predict", str(clip), str(video), "--model", "words", "--json", "--no-cache"], capsys)
    for path, row in zip((clip, video), cli, strict=True):
        status, got = _post(client, "/v1/predict", "video", path)  # no ?model=: a clip is read with words
        assert status == 200, got
        assert got == {**row, "path": path.name}
    assert "segments" not in cli[0] and cli[1]["segments"] and cli[1]["label"] == "yes", cli
    assert _post(client, "/v1/predict", "video", clip, "?model=words")[1] == {**cli[0], "path": clip.name}


def test_a_photo_is_answered_like_the_cli(client, capsys) -> None:
    photo = sorted((shared_dir("massey-letters") / "l").iterdir())[0]
    (row,) = _cli_rows(["predict", str(photo), "--json", "--no-cache"], capsys)
    status, got = _post(client, "/v1/predict", "image", photo)
    assert status == 200 and got == {**row, "path": photo.name}


def test_transcribe_answers_like_the_cli(client, tmp_path: Path, capsys, monkeypatch) -> None:
    from aslkit.data.spelling_video import make_spelling_video
    from aslkit.inference import transcribe as module

    video = make_spelling_video("BL", shared_dir("massey-letters"), tmp_path / "bl.mp4").path
    words = tmp_path / "words.txt"
    words.write_text("# a word list\nBLT\nBE\n")
    plain, snapped = (
        _cli_rows(["transcribe", str(video), "--json", *extra], capsys)[0] for extra in ([], ["--lexicon", str(words)])
    )
    assert plain["text"] == "BL" and len(plain["letters"]) == 2, plain
    status, got = _post(client, "/v1/transcribe", "video", video)
    assert status == 200 and got == {**plain, "path": "bl.mp4"}, got
    seen = []
    real = module.transcribe
    monkeypatch.setattr(module, "transcribe", lambda *a, **k: seen.append(k["lexicon"].words) or real(*a, **k))
    lexicon = {"lexicon": ("words.txt", words.read_bytes())}
    status, got = _post(client, "/v1/transcribe", "video", video, **lexicon)
    assert status == 200 and got == {**snapped, "path": "bl.mp4"}, (got, snapped)
    assert seen == [["BLT", "BE"]], "the uploaded word list is the one transcribe snaps to"


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------
def test_bad_requests_are_one_line_4xx_errors(client, clip: Path) -> None:
    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0].read_bytes()
    npy = clip.read_bytes()
    words = ("w.txt", b"BL\n")
    cases = [  # (route, files, status, words in the error)
        ("/v1/predict", {"image": ("b.jpg", photo), "video": ("c.npy", npy)}, 400, "send one file"),
        ("/v1/predict", {"other": ("b.jpg", photo)}, 400, "send one file"),
        ("/v1/predict?model=letters", {"video": ("c.npy", npy)}, 400, "reads photos, not clips"),
        ("/v1/predict?model=words", {"image": ("b.jpg", photo)}, 400, "reads clips, not photos"),
        ("/v1/predict?model=/etc", {"video": ("c.npy", npy)}, 400, "unknown model '/etc'"),
        ("/v1/predict", {"video": ("notes.txt", b"hello")}, 415, "'notes.txt': expected a video or .npy clip"),
        ("/v1/predict", {"video": ("fake.mp4", b"not a video\n" * 50)}, 415, "fake.mp4"),
        ("/v1/predict", {"video": ("bad.npy", b"\x93NUMPY garbage")}, 415, "bad.npy"),
        ("/v1/predict", {"video": ("empty.mp4", b"")}, 415, "empty.mp4: empty file"),
        ("/v1/predict", {"video": ("big.mp4", b"\0" * (LIMIT + 1))}, 413, "too large"),
        ("/v1/transcribe", {"lexicon": words}, 400, "multipart field 'video': missing"),
        ("/v1/transcribe?model=words", {"video": ("fake.mp4", b"x" * 100)}, 400, "model 'words' cannot be used"),
        ("/v1/transcribe", {"video": ("clip.npy", npy)}, 415, "expected a video"),
        ("/v1/transcribe", {"video": ("fake.mp4", b"x" * 100), "lexicon": ("w", b"\0\1")}, 400, "field 'lexicon'"),
    ]
    for route, files, status, words_in in cases:
        r = client.post(route, files=files)
        got = r.json()
        assert r.status_code == status and set(got) == {"error"}, (route, files.keys(), r.status_code, got)
        msg = got["error"]
        assert words_in in msg and "\n" not in msg and "aslkit-upload-" not in msg and "/tmp" not in msg, (route, msg)
    r = client.post("/v1/predict", data={"image": "not a file"}, files={"x": ("a", b"1")})
    assert r.status_code == 400 and r.json() == {"error": "multipart field 'image': not a file (a file is expected)"}
    assert client.get("/v1/predict").json() == {"error": "GET /v1/predict: use POST"}


def test_a_form_that_breaks_its_limits_says_so(client) -> None:
    """Ten files, a field sent twice and a body cut short were all "expected a multipart/form-data body"."""
    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0].read_bytes()
    many = [("image", (f"{i}.jpg", photo)) for i in range(10)]
    r = client.post("/v1/predict", files=many)
    assert r.status_code == 400 and r.json()["error"].startswith("multipart form refused: Too many files")
    r = client.post("/v1/predict", files=[("image", ("a.jpg", photo)), ("image", ("t.jpg", b"x"))])
    assert r.status_code == 400 and r.json() == {
        "error": "multipart field 'image' sent more than once; send each field once"
    }
    b = "bnd"
    cut = f'--{b}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'.encode() + photo[:500]
    r = client.post("/v1/predict", content=cut, headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    assert r.status_code == 400 and r.json()["error"].endswith("this one is cut short (no closing boundary)"), r.json()
    r = client.post("/v1/predict", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.json() == {"error": "expected a multipart/form-data body with a file field ('image' or 'video')"}


# ---------------------------------------------------------------------------------------------
# bounded, queued, never spooled
# ---------------------------------------------------------------------------------------------
def _asgi_post(app, route: str, field: str, total: int, block: int = 256 * 1024) -> tuple[int, int, dict]:
    """POST a multipart body of up to ``total`` bytes in ``block``s, chunked (no Content-Length), straight to
    the ASGI app: (status, bytes the app read, answer)."""
    b = "boundary"
    head = f'--{b}\r\nContent-Disposition: form-data; name="{field}"; filename="big.mp4"\r\n\r\n'.encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": route, "raw_path": route.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"x"), (b"transfer-encoding", b"chunked"),
                    (b"content-type", f"multipart/form-data; boundary={b}".encode())],
        "client": ("127.0.0.1", 1), "server": ("x", 80),
    }  # fmt: skip
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        if read == 0:
            read += len(head)
            return {"type": "http.request", "body": head, "more_body": True}
        if read >= total:
            return {"type": "http.request", "body": f"\r\n--{b}--\r\n".encode(), "more_body": False}
        read += block
        return {"type": "http.request", "body": b"0" * block, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], read, json.loads(body)


def test_uploads_are_cut_off_while_streaming_and_never_spooled(app, client, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rollovers = []
    real = tempfile.SpooledTemporaryFile.rollover
    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", lambda f: rollovers.append(1) or real(f))
    for route, field in (("/v1/predict", "image"), ("/v1/predict", "video"), ("/v1/transcribe", "video")):
        status, read, answer = _asgi_post(app, route, field, 200 * 1024 * 1024)
        assert status == 413 and "too large" in answer["error"], (route, status, answer)
        assert read < 3 * LIMIT, f"{route} read {read / 1e6:.0f} MB before its 413"
    # within the limit: parsed in memory (FastAPI's own File() parsing would roll a 3 MB file over to disk)
    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0].read_bytes() + b"\0" * (3 * 1024 * 1024)
    assert client.post("/v1/predict", files={"image": ("b.jpg", photo)}).status_code in (200, 415)
    assert client.post("/v1/predict", files={"video": ("big.mp4", b"\0" * (5 * 1024 * 1024))}).status_code == 415
    assert rollovers == [], "an upload was spooled to a temp file"
    assert list(tmp_path.iterdir()) == [], "a video's temp copy is removed after its answer"


def test_concurrent_clips_wait_their_turn(client, clip: Path) -> None:
    """Videos and clips are read one at a time (the pool's ``videos`` lock): six at once are all answered alike."""
    data = clip.read_bytes()
    alone = client.post("/v1/predict", files={"video": ("c.npy", data)}).json()

    def one(i: int) -> tuple[int, dict]:
        r = client.post("/v1/predict", files={"video": ("c.npy", data)})
        return r.status_code, r.json()

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(one, range(6)))
    assert answers == [(200, alone)] * 6
