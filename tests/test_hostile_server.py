"""`aslkit serve` against hostile or careless clients (issue 15, server items 6-10), on a real server process.

One `aslkit serve` subprocess (module fixture, its own TMPDIR, runs folder and short header/body timeouts) takes:
chunked uploads far over the size limit (cut off while streaming, no memory or deleted temp files kept),
``?model=`` spellings of paths (only shipped models and named runs; the same 400 whether a path exists or
not; a crafted model is a 400, not a 500; a bounded recognizer cache), slow clients (dropped after the
header or body timeout), temp files (none left after a request, nothing at all after Ctrl-C), and the
docs page (gone; the OpenAPI JSON stays). ``serve --port 99999`` is one line and exit 1.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import SHIPPED_LETTERS, shared_dir

from aslkit.cli import main

HEADER_TIMEOUT = 2.0  # seconds, given to the server under test (the default is 10)
BODY_TIMEOUT = 4.0  # seconds (the default is 60)
LIMIT = 10 * 1024 * 1024  # MAX_UPLOAD_MB
RUNS = ("good", "good2", "good3", "good4", "good5", "good6")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    tmpdir: Path  # the server's TMPDIR
    runs: Path
    log: Path

    def status(self, key: str) -> int:
        """A number from /proc/PID/status (VmRSS in kB, Threads)."""
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{key}:\s+(\d+)", text, re.M).group(1))

    def deleted_open_files(self) -> list[str]:
        out = []
        for fd in Path(f"/proc/{self.proc.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith("(deleted)"):
                out.append(target)
        return out

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def predict(self, data: bytes, model: str | None = None, name: str = "photo.jpg"):
        b = uuid.uuid4().hex
        body = (f'--{b}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
                "Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()  # fmt: skip
        q = "" if model is None else "?" + urlencode({"model": model})
        headers = {"Content-Type": f"multipart/form-data; boundary={b}"}
        status, out = self.request("POST", f"/v1/predict{q}", body, headers)
        return status, json.loads(out) if out.startswith(b"{") else out


def _write_runs(runs: Path) -> None:
    for name in RUNS:
        (runs / name).mkdir(parents=True)
        shutil.copy(SHIPPED_LETTERS, runs / name / "model.json")
        shutil.copy(SHIPPED_LETTERS.with_suffix(".safetensors"), runs / name / "model.safetensors")
    spec = json.loads(SHIPPED_LETTERS.read_text())
    for name, change in (("crafted", {"in_features": "many"}), ("crafted2", {"in_features": 7})):
        (runs / name).mkdir()
        (runs / name / "model.json").write_text(json.dumps({**spec, **change}))
        shutil.copy(SHIPPED_LETTERS.with_suffix(".safetensors"), runs / name / "model.safetensors")


def _start_server(base: Path, *args: str) -> Server:
    """`aslkit serve` in ``base/cwd`` (whose ./runs is ``base/runs``), with TMPDIR ``base/tmp``, answering."""
    tmpdir, cwd, runs = base / "tmp", base / "cwd", base / "runs"
    for d in (tmpdir, cwd):
        d.mkdir()
    _write_runs(runs)
    (cwd / "runs").symlink_to(runs)  # the default --runs is ./runs
    port = _free_port()
    log = base / "serve.log"
    env = {**os.environ, "TMPDIR": str(tmpdir), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_TEMP_DIR", None)
    cmd = [sys.executable, "-m", "aslkit", "serve", "--port", str(port), *args]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(port, proc, tmpdir, runs, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"aslkit serve exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                if srv.request("GET", "/v1/health")[0] == 200:
                    return srv
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"aslkit serve did not answer within 120 s: {log.read_text()[-2000:]}")
            time.sleep(0.25)
    except BaseException:
        _kill(proc)
        raise


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = _start_server(
        tmp_path_factory.mktemp("hostile"), "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)
    )
    try:
        yield srv
    finally:
        _kill(srv.proc)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return sorted((shared_dir("massey-letters") / "b").iterdir())[0].read_bytes()


# ---------------------------------------------------------------------------------------------
# --port out of range
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_out_of_range_in_one_line(port: str, capsys) -> None:
    t0 = time.monotonic()
    assert main(["serve", "--port", port]) == 1
    err = capsys.readouterr().err
    assert err.startswith("aslkit: error: ") and err.count("\n") == 1 and "1-65535" in err, err
    assert time.monotonic() - t0 < 5, "refused before anything loads"


# ---------------------------------------------------------------------------------------------
# item 6: chunked uploads over the limit
# ---------------------------------------------------------------------------------------------
def _chunked_upload(port: int, total: int, block: int = 256 * 1024) -> tuple[int | None, int, dict | bytes]:
    """POST /v1/predict with Transfer-Encoding: chunked and no Content-Length, offering up to ``total``
    bytes of photo; stops sending as soon as the server answers. (status, bytes sent, answer)."""
    b = "hostileboundary"
    head = (f'--{b}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n\xff\xd8").encode("latin-1")  # fmt: skip
    data = b"0" * block
    sent = 0
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                  f"Content-Type: multipart/form-data; boundary={b}\r\n\r\n".encode())  # fmt: skip
        try:
            s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
            while sent < total and not select.select([s], [], [], 0)[0]:
                s.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                sent += len(data)
            if sent >= total:
                tail = f"\r\n--{b}--\r\n".encode()
                s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        r = http.client.HTTPResponse(s)
        try:
            r.begin()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            return None, sent, b""
        body = r.read()
        return r.status, sent, json.loads(body) if body.startswith(b"{") else body
    finally:
        s.close()


def test_chunked_uploads_over_the_limit_are_cut_off_while_streaming(server: Server, photo: bytes) -> None:
    assert server.predict(photo)[0] == 200
    rss0 = server.status("VmRSS")
    answers = [_chunked_upload(server.port, 200 * 1024 * 1024) for _ in range(6)]
    for status, sent, answer in answers:
        assert status == 413 and "too large" in answer["error"], (status, sent, answer)
        assert sent < 3 * LIMIT, f"the server read {sent / 1e6:.0f} MB before answering 413"
    time.sleep(0.5)
    rss1 = server.status("VmRSS")
    print(f"server RSS {rss0 / 1024:.0f} MB -> {rss1 / 1024:.0f} MB after 6 chunked uploads of up to 200 MB; "
          f"sent before the 413: {[round(a[1] / 1e6, 1) for a in answers]} MB")  # fmt: skip
    assert rss1 - rss0 < 60 * 1024, f"RSS grew by {(rss1 - rss0) / 1024:.0f} MB"
    assert server.deleted_open_files() == [], "deleted temp files still held open"
    # a Content-Length over the limit is refused before any body is sent
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with s:
        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                  b"Content-Length: 209715200\r\n\r\n")  # fmt: skip
        r = http.client.HTTPResponse(s)
        r.begin()
        assert r.status == 413
    assert server.predict(photo)[0] == 200, "the server still answers"


# ---------------------------------------------------------------------------------------------
# item 7: ?model=
# ---------------------------------------------------------------------------------------------
def test_model_query_takes_only_shipped_models_and_named_runs(server: Server, photo: bytes) -> None:
    status, answer = server.predict(photo, "letters")
    assert status == 200 and answer["label"] == "B"
    status, answer = server.predict(photo, "good")
    assert status == 200 and answer["label"] == "B", "a run under --runs, by name"
    refused = {}
    good = server.runs / "good"
    for spelling in [str(good), str(good / "model.json"), "runs/good", "./runs/good", "runs//good", "good/",
                     "../runs/good", ".", "..", "/etc", "/etc/passwd", "/no/such/folder", "no-such-run",
                     "runs/no-such-run", "good/../good", "%2e%2e", "a\nb"]:  # fmt: skip
        status, answer = server.predict(photo, spelling)
        assert status == 400, (spelling, status, answer)
        refused[spelling] = answer["error"]
    # one message whatever exists: only the spelling itself differs
    forms = {msg.replace(spelling, "NAME") for spelling, msg in refused.items() if "\n" not in spelling}
    assert len(forms) == 1, forms
    for name in ("crafted", "crafted2"):  # a model that cannot be loaded or run: 400 in one line, never 500
        status, answer = server.predict(photo, name)
        assert status == 400 and "\n" not in answer["error"] and name in answer["error"], (name, status, answer)
    assert server.predict(photo)[0] == 200


def test_model_cache_is_bounded_and_closes_what_it_evicts(tmp_path: Path) -> None:
    import numpy as np

    from aslkit.app.pool import CACHED_MODELS, ModelPool

    _write_runs(tmp_path / "runs")
    pool = ModelPool(runs=tmp_path / "runs")
    blank = np.zeros((64, 64, 3), np.uint8)
    loaded = []
    for name in [None, *RUNS, "good", "letters"]:
        pool.analyze(blank, name)
        loaded += [e for e in pool._entries.values() if e not in loaded]
        assert len(pool._entries) <= CACHED_MODELS
    assert ModelPool.DEFAULT in pool._entries, "the default model is never evicted"
    evicted = [e for e in loaded if e not in pool._entries.values()]
    assert len(evicted) >= 4 and all(e.rec is None for e in evicted), "evicted recognizers are closed"
    assert all(e.rec._landmarker is not None for e in pool._entries.values())
    pool.close()


def test_server_memory_stays_bounded_over_many_models(server: Server, photo: bytes) -> None:
    """Six runs asked for in turn: loads and evictions without end. After a warm-up (the allocator's
    pools fill), 36 more loads leave RSS and threads where they were."""
    for name in RUNS * 4:
        assert server.predict(photo, name)[0] == 200
    threads0, rss0 = server.status("Threads"), server.status("VmRSS")
    for name in RUNS * 6:
        assert server.predict(photo, name)[0] == 200
    threads1, rss1 = server.status("Threads"), server.status("VmRSS")
    print(f"threads {threads0} -> {threads1}, RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MB over 36 more loads")
    assert threads1 <= threads0 + 2, f"threads {threads0} -> {threads1}"
    assert rss1 - rss0 < 150 * 1024, f"RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MB"


def test_model_tab_uses_the_same_allow_list(tmp_path: Path) -> None:
    from aslkit.app.web import model_card, model_choices

    _write_runs(tmp_path / "runs")
    (tmp_path / "notes").mkdir()
    choices = model_choices(tmp_path / "runs")
    assert "letters" in choices and "good" in choices and "crafted" in choices
    assert all("/" not in c for c in choices), choices
    assert "Architecture `landmark-mlp`" in model_card("good", tmp_path / "runs")
    assert "Cannot load" in model_card("crafted", tmp_path / "runs")
    exists, missing = model_card(str(tmp_path / "runs" / "good"), tmp_path / "runs"), model_card("/no/such", tmp_path)
    assert exists.startswith("Cannot load") and missing.startswith("Cannot load")
    assert exists.replace(str(tmp_path / "runs" / "good"), "X") == missing.replace("/no/such", "X")
    assert model_card("/etc", tmp_path).replace("/etc", "X") == missing.replace("/no/such", "X")


# ---------------------------------------------------------------------------------------------
# item 8: slow clients
# ---------------------------------------------------------------------------------------------
def test_slow_clients_are_dropped(server: Server) -> None:
    """Five connections sending headers a byte at a time, two sending a body a byte at a time, and one
    dripping a second request on a kept-alive connection: all closed by the server, in seconds."""
    conns: list[tuple[str, socket.socket, bytes]] = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        conns.append(("headers", s, b"X-Slow: " + b"a" * 10_000))
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                  b"Content-Length: 100000\r\n\r\n--x\r\n")  # fmt: skip
        conns.append(("body", s, b"a" * 100_000))
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    r = http.client.HTTPResponse(s)
    r.begin()
    r.read()
    conns.append(("keep-alive", s, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000))
    t0 = time.monotonic()
    closed: dict[int, float] = {}
    step = 0
    while len(closed) < len(conns) and time.monotonic() - t0 < BODY_TIMEOUT + 8:
        for i, (_, s, drip) in enumerate(conns):
            if i in closed:
                continue
            try:
                if select.select([s], [], [], 0)[0]:
                    s.recv(65536)  # a 408, then the end
                    if not s.recv(65536):
                        closed[i] = time.monotonic() - t0
                        continue
                s.sendall(drip[step : step + 1])
            except OSError:
                closed[i] = time.monotonic() - t0
        step += 1
        time.sleep(0.2)
    for _, s, _ in conns:
        s.close()
    kinds = {kind: [round(closed[i], 1) for i, (k, _, _) in enumerate(conns) if k == kind and i in closed]
             for kind in ("headers", "body", "keep-alive")}  # fmt: skip
    print(f"slow connections closed after (s): {kinds}")
    assert len(closed) == len(conns), f"{len(conns) - len(closed)} slow connections still open: {kinds}"
    for i, (kind, _, _) in enumerate(conns):
        limit = BODY_TIMEOUT if kind == "body" else HEADER_TIMEOUT
        assert closed[i] < limit + 3, (kind, closed[i])
    assert server.request("GET", "/v1/health")[0] == 200


# ---------------------------------------------------------------------------------------------
# item 10: the docs page
# ---------------------------------------------------------------------------------------------
def test_docs_page_is_gone_and_the_openapi_json_stays(server: Server) -> None:
    status, body = server.request("GET", "/v1/docs")
    assert status == 404 or b"swagger" not in body.lower(), status
    status, body = server.request("GET", "/v1/openapi.json")
    assert status == 200 and "/v1/predict" in json.loads(body)["paths"]


# ---------------------------------------------------------------------------------------------
# item 9: temp files (last: it stops the server)
# ---------------------------------------------------------------------------------------------
def _run_video_tab(port: int, clip: Path) -> dict:
    """Upload a clip and press Recognize, as the browser does: Gradio's upload route, then its queue."""
    b = uuid.uuid4().hex
    body = (f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{clip.name}"\r\n'
            "Content-Type: video/mp4\r\n\r\n").encode() + clip.read_bytes() + f"\r\n--{b}--\r\n".encode()  # fmt: skip
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/gradio_api/upload", body=body, headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    r = c.getresponse()
    assert r.status == 200
    path = json.loads(r.read())[0]
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/config")
    config = json.loads(c.getresponse().read())
    c.close()
    field = next(x["id"] for x in config["components"] if x.get("props", {}).get("elem_id") == "video-upload")
    dep = next(d for d in config["dependencies"] if field in d["inputs"] and d["targets"][0][1] == "click")
    session = uuid.uuid4().hex[:10]
    file = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": clip.name}
    payload = {"data": [file, "letters"], "fn_index": dep["id"], "trigger_id": dep["targets"][0][0],
               "session_hash": session, "event_data": None}  # fmt: skip
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/gradio_api/queue/join", body=json.dumps(payload), headers={"Content-Type": "application/json"})
    assert c.getresponse().status == 200
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", f"/gradio_api/queue/data?session_hash={session}")
    r = c.getresponse()
    try:
        while line := r.readline():
            if line.startswith(b"data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg["output"]
    finally:
        c.close()
    raise AssertionError("the Video tab gave no answer")


def test_temp_files_are_removed_after_requests_and_on_shutdown(server: Server, photo: bytes, tmp_path: Path) -> None:
    from aslkit.data.spelling_video import make_spelling_video

    clip = make_spelling_video("BL", shared_dir("massey-letters"), tmp_path / "bl.mp4").path
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all\n" * 100)
    out = _run_video_tab(server.port, clip)
    assert out["data"][1] == "BL", out
    video = out["data"][0]["video"]
    status, served = server.request("GET", "/gradio_api/file=" + video["path"])
    assert status == 200 and len(served) > 1000, "the annotated video is still served"
    out = _run_video_tab(server.port, bad)
    assert out["data"][2].startswith("Cannot read this video"), out
    big = photo + b"\0" * (3 * 1024 * 1024)  # over the 1 MB a spooled upload keeps in memory
    assert server.predict(big)[0] in (200, 415)
    left = sorted(p.name for p in server.tmpdir.iterdir())
    assert len(left) == 1 and left[0].startswith("aslkit-serve-"), f"in TMPDIR after the requests: {left}"
    assert server.deleted_open_files() == []
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) in (0, 130), server.log.read_text()[-2000:]
    print(f"stopped {time.monotonic() - t0:.1f} s after Ctrl-C")
    assert sorted(p.name for p in server.tmpdir.iterdir()) == [], "TMPDIR is clean after Ctrl-C"
    assert "Traceback" not in server.log.read_text()


def test_sigterm_also_removes_the_servers_temp_folder(tmp_path: Path) -> None:
    srv = _start_server(tmp_path)
    try:
        assert [p.name[:13] for p in srv.tmpdir.iterdir()] == ["aslkit-serve-"]
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=30)
        assert sorted(p.name for p in srv.tmpdir.iterdir()) == [], "TMPDIR is clean after SIGTERM"
        assert "Traceback" not in srv.log.read_text()
    finally:
        _kill(srv.proc)
