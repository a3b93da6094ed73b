"""The web app in a real browser: Debian's chromium, driven headless by Playwright (never a downloaded
browser). Starts `aslkit serve --record-dir`, uploads a real photo and a text file named .jpg, checks what the
page shows, that the page loads nothing from another host, records a take from chromium's fake camera in the
Record tab, and saves screenshots to artifacts/ (CI artifacts). Without chromium the tests are skipped, unless
ASLKIT_REQUIRE_BROWSER=1 (set by .ci/run)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import shared_dir

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update",
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]  # fmt: skip


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("ASLKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium), and CI requires the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def record_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's --record-dir: a folder that does not exist yet (the Record tab makes it on the first take)."""
    return tmp_path_factory.mktemp("record") / "my_signs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, record_dir: Path):
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "aslkit", "serve", "--port", str(port), "--record-dir", str(record_dir)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/v1/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
            if proc.poll() is not None:
                pytest.fail(f"aslkit serve exited: {log.read_text()[-2000:]}")
        else:
            pytest.fail(f"aslkit serve did not answer within 60 s: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_photo_upload_in_a_real_browser(server: str, tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    photo = sorted((shared_dir("massey-letters") / "b").iterdir())[0]
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is a text file with a photo's name\n")
    elsewhere: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            local = (server, "data:", "blob:")
            page.on("request", lambda r: None if r.url.startswith(local) else elsewhere.append(r.url))
            page.goto(server)
            page.set_input_files("#photo-upload input[type=file]", str(photo))
            page.wait_for_selector("#photo-results [data-letter]", timeout=30_000)
            assert page.get_attribute("#photo-results [data-letter]", "data-letter") == "B"
            assert "Predicted: B" in page.inner_text("#photo-results")
            page.wait_for_function("!document.querySelector('#photo-results').innerText.includes('processing')")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "app-photo.png"), full_page=True)
            page.set_input_files("#photo-upload input[type=file]", str(fake))
            page.wait_for_selector("#photo-results .aslkit-error", timeout=30_000)
            text = page.inner_text("#photo-results")
            assert "holiday.jpg" in text and "Cannot read this file: not an image file" in text
            page.wait_for_function("!document.querySelector('#photo-results').innerText.includes('processing')")
            page.screenshot(path=str(ARTIFACTS / "app-bad-upload.png"), full_page=True)
        finally:
            browser.close()
    assert elsewhere == [], f"the page asked other hosts: {elsewhere}"
    assert (ARTIFACTS / "app-photo.png").stat().st_size > 10_000


def test_video_and_webcam_tabs_in_a_real_browser(server: str, tmp_path: Path) -> None:
    """A spelling video gives its transcript; chromium's fake camera streams frames that come back drawn."""
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    from aslkit.data.spelling_video import make_spelling_video

    clip = make_spelling_video("BL", shared_dir("massey-letters"), tmp_path / "bl.mp4").path
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 1000}, permissions=["camera"]).new_page()
            page.goto(server)
            page.get_by_role("tab", name="Video").click()
            page.set_input_files("#video-upload input[type=file]", str(clip))
            page.get_by_role("button", name="Recognize").click()
            page.wait_for_function("document.querySelector('#video-sign textarea')?.value.length > 0", timeout=90_000)
            assert page.input_value("#video-transcript textarea") == "BL"
            page.get_by_role("tab", name="Webcam").click()
            page.get_by_text("Click to Access Webcam").click()
            page.locator("#webcam-input button", has_text="Record").click()
            page.wait_for_selector("#webcam-annotated img", timeout=30_000)
            page.locator("#webcam-input button", has_text="Stop").click()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "app-webcam.png"), full_page=True)
        finally:
            browser.close()


def _status_is(page, start: str, timeout: float = 30_000) -> str:
    """Wait until the Record tab's status line starts with ``start``; the line."""
    js = "s => document.querySelector('#record-status textarea')?.value.startsWith(s)"
    page.wait_for_function(js, arg=start, timeout=timeout)
    return page.input_value("#record-status textarea")


def test_record_tab_saves_a_take_from_the_fake_camera(server: str, record_dir: Path) -> None:
    """Bad input first (no label, a label with '..', no frames), each one line on the page and nothing written;
    then chromium's fake camera streams, Start take, Save take: a readable take-001.mp4 in record_dir/hello/."""
    chromium = _chromium()
    import cv2
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 1100}, permissions=["camera"]).new_page()
            page.goto(server)
            page.get_by_role("tab", name="Record").click()
            page.locator("#record-save").click()
            assert "\n" not in _status_is(page, "Type a label first")
            page.fill("#record-label textarea", "../x")
            page.locator("#record-start").click()
            assert "give a plain name" in _status_is(page, "Label '../x'")
            page.fill("#record-label textarea", "hello")
            page.locator("#record-start").click()
            _status_is(page, "No frames received from the camera")
            assert not record_dir.exists(), "nothing is written before a take is saved"

            page.locator("#record-input").get_by_text("Click to Access Webcam").click()
            page.locator("#record-input button", has_text="Record").click()
            page.wait_for_selector("#record-preview img", timeout=30_000)
            page.locator("#record-start").click()
            page.wait_for_function(
                "() => /^Recording 'hello': ([5-9]|[1-9][0-9]+) frames/"
                ".test(document.querySelector('#record-status textarea')?.value ?? '')",
                timeout=30_000,
            )
            page.locator("#record-save").click()
            line = _status_is(page, "Saved hello/take-001.mp4: ")
            page.wait_for_function("document.querySelector('#record-takes')?.innerText.includes('hello')")
            assert "Takes in my_signs/: 1" in page.inner_text("#record-takes").replace("`", "")
            page.locator("#record-input button", has_text="Stop").click()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "app-record.png"), full_page=True)
        finally:
            browser.close()
    takes = sorted(p.relative_to(record_dir).as_posix() for p in record_dir.rglob("*"))
    assert takes == ["hello", "hello/take-001.mp4"], takes
    cap = cv2.VideoCapture(str(record_dir / "hello" / "take-001.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n >= 5 and f": {n} frames" in line, (n, line)
    assert not (record_dir.parent / "x").exists()
