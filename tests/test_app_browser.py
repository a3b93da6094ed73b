"""The web app in a real browser: Debian's chromium, driven headless by Playwright (never a downloaded
browser). Starts `aslkit serve`, uploads a real photo and a text file named .jpg, checks what the page
shows, that the page loads nothing from another host, and saves a screenshot to artifacts/ (a CI
artifact). Without chromium the test is skipped, unless ASLKIT_REQUIRE_BROWSER=1 (set by .ci/run)."""

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
def server(tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "aslkit", "serve", "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env=env)  # fmt: skip
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
