"""`aslkit serve` under a stopwatch: start to usable page, photo upload to letter on the page (Debian's
chromium via Playwright), and 20 uploads from 5 concurrent clients over HTTP, then 5 browsers at once.

    .venv/bin/python benchmarks/serve_load.py [--port 7870] [--photos DIR]

Prints one JSON object. The server is started and stopped by the script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def post(url: str, photo: Path) -> tuple[int, dict]:
    """multipart/form-data by hand (no client library needed)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{photo.name}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n")  # fmt: skip
    body = head.encode() + photo.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(
        f"{url}/v1/predict", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def browser_upload(url: str, photo: Path) -> float:
    """Seconds from handing the photo to the page to the letter shown."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = b.new_page()
        page.goto(url)
        page.wait_for_selector("#photo-upload input[type=file]", state="attached")
        t = time.perf_counter()
        page.set_input_files("#photo-upload input[type=file]", str(photo))
        page.wait_for_selector("#photo-results [data-letter]", timeout=120_000)
        dt = time.perf_counter() - t
        b.close()
    return dt


def page_load(url: str) -> float:
    """Seconds for chromium to show the app's upload field."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = b.new_page()
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#photo-upload input[type=file]", state="attached")
        dt = time.perf_counter() - t
        b.close()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7870)
    ap.add_argument("--photos", default=str(SHARED / "massey-letters"))
    args = ap.parse_args()
    photos = [sorted(d.iterdir())[0] for d in sorted(Path(args.photos).iterdir()) if d.is_dir()][:20]
    url = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "aslkit", "serve", "--port", str(args.port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    out: dict = {}
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/", timeout=1) as r:
                    if r.status == 200 and b"photo-upload" in r.read():
                        break
            except OSError:
                time.sleep(0.1)
        out["start_to_page_s"] = round(time.perf_counter() - t0, 2)
        out["start_to_page_in_browser_s"] = round(out["start_to_page_s"] + page_load(url), 2)
        lat = []
        for p in photos[:10]:
            t = time.perf_counter()
            post(url, p)
            lat.append(time.perf_counter() - t)
        out["http_predict_ms_median"] = round(1000 * statistics.median(lat), 1)
        out["browser_upload_to_letter_s"] = [round(browser_upload(url, photos[i]), 2) for i in range(3)]
        jobs = [photos[i % len(photos)] for i in range(20)]
        t = time.perf_counter()
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda p: post(url, p), jobs))
        out["http_20_uploads_5_clients"] = {
            "seconds": round(time.perf_counter() - t, 2),
            "answered_200": sum(code == 200 for code, _ in answers),
            "with_a_label": sum(bool(a.get("label")) for _, a in answers),
        }
        t = time.perf_counter()
        with ThreadPoolExecutor(5) as pool:
            times = list(pool.map(lambda p: browser_upload(url, p), photos[:5]))
        out["browsers_5_at_once_upload_to_letter_s"] = {"each": [round(x, 2) for x in times],
                                                         "wall": round(time.perf_counter() - t, 2)}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
