"""`aslkit serve` without a browser: POST /v1/predict against `aslkit predict --json`, its 4xx errors,
concurrent uploads, and the app's photo, webcam, video and model handlers on real photos."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import on_two_threads, shared_dir

from aslkit.cli import main

fastapi_testclient = pytest.importorskip("fastapi.testclient")


@pytest.fixture(scope="module")
def client():
    from aslkit.app.server import create_app

    return fastapi_testclient.TestClient(create_app())


@pytest.fixture(scope="module")
def photos() -> list[Path]:
    massey = shared_dir("massey-letters")
    return [sorted((massey / c).iterdir())[0] for c in "abcly"]


def test_predict_endpoint_answers_like_the_cli(client, photos, capsys) -> None:
    assert client.get("/v1/health").json() == {"status": "ok", "model": "letters"}
    assert main(["predict", *map(str, photos), "--json", "--no-cache"]) == 0
    cli = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for photo, row in zip(photos, cli, strict=True):
        r = client.post("/v1/predict", files={"image": (photo.name, photo.read_bytes(), "image/jpeg")})
        assert r.status_code == 200
        got = r.json()
        assert set(got) == set(row) and got["path"] == photo.name
        assert got["label"] == row["label"] and [t[0] for t in got["top"]] == [t[0] for t in row["top"]]
        assert got["confidence"] == pytest.approx(row["confidence"], abs=1e-3)
    assert sum(r["label"] == Path(r["path"]).parent.name.upper() for r in cli) >= 4


def test_predict_endpoint_refuses_bad_uploads_with_json(client, tmp_path: Path) -> None:
    r = client.post("/v1/predict", files={"image": ("notes.jpg", b"this is text, not a photo\n" * 20, "image/jpeg")})
    assert r.status_code == 415 and "not an image file" in r.json()["error"]
    r = client.post("/v1/predict", files={"photo": ("a.jpg", b"x", "image/jpeg")})
    assert r.status_code == 400 and "'image'" in r.json()["error"]
    assert client.post("/v1/predict").status_code == 400
    r = client.post("/v1/predict", files={"image": ("empty.jpg", b"", "image/jpeg")})
    assert r.status_code == 415 and "empty" in r.json()["error"]
    big = b"\xff\xd8" + b"0" * (11 * 1024 * 1024)
    r = client.post("/v1/predict", files={"image": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    # the status comes from the kind of error, not from words in the message (which holds the file's name)
    r = client.post("/v1/predict", files={"image": ("too large.jpg", b"plain text\n" * 20, "image/jpeg")})
    assert r.status_code == 415 and "not an image file" in r.json()["error"]
    r = client.post("/v1/predict?model=no-such-model", files={"image": ("a.jpg", b"\xff\xd8", "image/jpeg")})
    assert r.status_code in (400, 415)


def test_other_requests_under_v1_get_the_apis_error_shape_beside_the_web_app(client) -> None:
    """With the web app mounted at /, it answered them with its own {"detail": "Not Found"}."""
    for method, path, status, words in (
        ("GET", "/v1/predict", 405, "GET /v1/predict: use POST"),
        ("PUT", "/v1/transcribe", 405, "use POST"),
        ("POST", "/v1/health", 405, "use GET"),
        ("GET", "/v1/nothing/here", 404, "no /v1/nothing/here in this API"),
        ("GET", "/v1", 404, "no /v1 in this API (see /v1/openapi.json)"),  # the root without its slash too
    ):
        r = client.request(method, path)
        assert r.status_code == status and set(r.json()) == {"error"} and words in r.json()["error"], (path, r.text)
    assert client.get("/v1/predict").headers["allow"] == "POST"
    assert client.get("/").status_code == 200, "the web app is still at /"


def test_twenty_uploads_from_five_clients_are_all_answered(client, photos) -> None:
    """MediaPipe is not thread-safe: concurrent requests must wait their turn, not fail or mix answers."""
    jobs = [photos[i % len(photos)] for i in range(20)]
    alone = {p.name: client.post("/v1/predict", files={"image": (p.name, p.read_bytes())}).json() for p in photos}

    def one(p: Path) -> tuple[int, dict]:
        r = client.post("/v1/predict", files={"image": (p.name, p.read_bytes())})
        return r.status_code, r.json()

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(one, jobs))
    assert [code for code, _ in answers] == [200] * 20
    for p, (_, row) in zip(jobs, answers, strict=True):
        assert row["label"] == alone[p.name]["label"] and row["confidence"] == alone[p.name]["confidence"]


def test_photo_tab_explains_each_result(photos, tmp_path: Path) -> None:
    from aslkit.app.pool import ModelPool
    from aslkit.app.web import photo_results

    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((200, 200, 3), 128, np.uint8))
    fake = tmp_path / "fake.jpg"
    fake.write_text("not a photo")
    page = photo_results(ModelPool(), [str(photos[1]), str(grey), str(fake)], None)
    assert page.count("class='aslkit-card") == 3 and "data-letter='B'" in page
    assert "data:image/jpeg;base64," in page, "the photo is shown with its landmarks"
    assert "No hand found" in page and "Cannot read this file: not an image file" in page


def test_webcam_tab_writes_the_transcript_and_clears(tmp_path: Path) -> None:
    """Frames of one photo held for a second and a half, as the browser would stream them."""
    from aslkit.app import web

    rgb = cv2.cvtColor(cv2.imread(str(sorted((shared_dir("massey-letters") / "b").iterdir())[0])), cv2.COLOR_BGR2RGB)
    frame = cv2.copyMakeBorder(rgb, 60, 60, 60, 60, cv2.BORDER_CONSTANT)
    clock = iter(np.arange(0, 3, 1 / 15))
    web.time.monotonic, real = (lambda: float(next(clock))), web.time.monotonic
    try:
        state, text = None, ""
        for _ in range(30):
            shown, text, state = web.webcam_frame(frame, state, None)
        assert shown.shape == frame.shape and text == "B"
    finally:
        web.time.monotonic = real
    assert web.webcam_frame(None, None, None) == (None, "", None)


def test_video_tab_gives_annotated_video_transcript_and_sign(tmp_path: Path, monkeypatch) -> None:
    from aslkit.app.web import video_results

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # the annotated video goes to Gradio's cache
    from aslkit.data.spelling_video import make_spelling_video

    v = make_spelling_video("BL", shared_dir("massey-letters"), tmp_path / "bl.mp4")
    out, text, sign = video_results(str(v.path), None)
    assert text == "BL" and Path(out).suffix == ".webm" and Path(out).stat().st_size > 1000
    assert sign.startswith(("Sign (model words): ", "No word sign recognized (model words")), sign
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    out, text, sign = video_results(str(bad), None)
    assert out is None and sign.startswith("Cannot read this video")
    assert len(list((tmp_path / "gradio").iterdir())) == 1, "a failed video leaves no folder behind"


def test_model_tab_lists_and_describes_models() -> None:
    from aslkit.app.web import model_card, model_choices

    assert "letters" in model_choices() and "words" not in model_choices(), "photo models only"
    card = model_card("letters")
    assert "landmark-mlp" in card and "Space" in card
    assert model_card("no-such-model").startswith("Cannot load")


def test_serve_says_when_its_port_is_taken(capsys) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "pick another --port" in err
    assert main(["serve", "--host", "999.1.1.1", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert "check --host" in err and "--port" not in err, "the host is the fault, not the port"


def test_video_tab_keeps_the_letters_of_a_clip_too_short_for_a_sign(tmp_path: Path, monkeypatch) -> None:
    """A readable 1-frame video was "Cannot read this video" (only the sign model had refused it), and error
    lines named the server's temp folder the upload sat in."""
    import cv2

    from aslkit.app.web import video_results

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    one = tmp_path / "uploads" / "one.mp4"
    one.parent.mkdir()
    w = cv2.VideoWriter(str(one), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    out, text, sign = video_results(str(one), None)
    assert out is not None and Path(out).is_file() and text == ""
    assert sign.startswith("No word sign read: one.mp4") and "at least 5" in sign and str(tmp_path) not in sign
    bad = tmp_path / "uploads" / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert video_results(str(bad), None)[2] == "Cannot read this video: bad.mp4: not a video OpenCV can read"


def test_webcam_frames_of_one_session_on_two_threads(monkeypatch) -> None:
    """Two stream events of one session at once broke its tracker (timestamps out of order, shapes mixed)."""
    from aslkit.app import web

    frame = np.zeros((120, 160, 3), np.uint8)
    _, _, state = web.webcam_frame(frame, None, None)
    assert on_two_threads(lambda: web.webcam_frame(frame, state, None), 10) == []
    assert state.lock.acquire(blocking=False)


def test_camera_streams_leave_room_beyond_a_few_abandoned_tabs(tmp_path: Path) -> None:
    """Two streams at once per tab: two closed tabs, whose streams hold their slots, shut everyone else out."""
    from aslkit.app.pool import ModelPool
    from aslkit.app.record import STREAMS_AT_ONCE
    from aslkit.app.web import build_ui

    demo = build_ui(ModelPool(None, None), tmp_path / "takes")
    streams = [fn for fn in demo.fns.values() if "stream" in [t[1] for t in fn.targets]]
    assert len(streams) == 2 and STREAMS_AT_ONCE >= 8
    assert all(fn.concurrency_limit == STREAMS_AT_ONCE for fn in streams)


def test_a_broken_run_chosen_in_the_model_tab_is_described_not_used(tmp_path: Path) -> None:
    """Choosing a listed run whose model.json is broken made it the photos' model: every upload then failed."""
    from aslkit.app.pool import ModelPool
    from aslkit.app.web import choose_model

    runs = tmp_path / "runs"
    (runs / "broken").mkdir(parents=True)
    (runs / "broken" / "model.json").write_text("{not json", encoding="utf-8")
    (runs / "broken" / "model.safetensors").write_bytes(b"")
    pool = ModelPool(None, runs)
    model, card = choose_model(pool, "broken", "letters")
    assert model == "letters" and card.startswith("Cannot load broken") and "still use **letters**" in card
    assert str(tmp_path) not in card
    model, card = choose_model(pool, "letters", "broken")
    assert model == "letters" and card.startswith("### letters")
