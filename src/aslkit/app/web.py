"""The Gradio app of `aslkit serve`: Photo, Webcam, Video, Record and Model tabs over the same Python API.

Offline by construction: Gradio's own front end is served from the wheel, the theme uses its bundled
fonts, analytics are off, and nothing is shared. Each browser session gets its own webcam recognizer
(its own MediaPipe tracker and transcript); photos go through the server's shared, locked recognizer.
The Record tab (app/record.py) saves the browser camera's takes into the server's ``--record-dir``.
"""

from __future__ import annotations

import base64
import functools
import html
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import AslkitError, ImageError, ModelError
from aslkit.kinds import InputKind
from aslkit.names import shown

LOW_CONFIDENCE = 0.5  # under this, the photo's answer is shown with a warning
PHOTO_SIDE = 360  # pixels: the annotated photo's longer side on the page
SIGN_MODEL = "words"
VIDEO_TYPES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
KEPT_VIDEOS = 16  # annotated videos kept for the page to play (in Gradio's cache); older ones are deleted
CACHE_AGE = (600, 3600)  # every 10 minutes, Gradio deletes the uploads and results of this app older than 1 hour


def _photo_card(name: str, pred=None, hands=None, rgb: np.ndarray | None = None, error: str | None = None) -> str:
    """One photo's result as HTML: the photo with landmarks and box, the letter, top-5 bars, and why
    it may be wrong."""
    e = html.escape
    if error is not None:
        return (f"<div class='aslkit-card aslkit-error'><b>{e(name)}</b><p class='aslkit-why'>Cannot read this file: "
                f"{e(error)}</p></div>")  # fmt: skip
    img = ""
    if rgb is not None:
        img = f"<img src='data:image/jpeg;base64,{_annotated_jpeg(rgb, hands)}' alt='{e(name)}'>"
    why = []
    if not pred.hand:
        why.append("No hand found: nothing to read. Show one hand, fingers in view, in good light.")
    elif len(hands.hands) > 1:
        why.append(f"{len(hands.hands)} hands found: the larger one was read.")
    if pred.hand and pred.confidence < LOW_CONFIDENCE:
        why.append(f"Low confidence ({pred.confidence:.2f}): the hand shape is close to other letters.")
    bars = "".join(
        f"<div class='aslkit-bar'><span>{e(lab)}</span><div style='width:{max(1.0, 100 * p):.0f}%'></div>"
        f"<em>{p:.2f}</em></div>"
        for lab, p in pred.top[:5]
    )
    letter = e(pred.label) if pred.hand else "-"
    return (
        f"<div class='aslkit-card'>{img}<div><b>{e(name)}</b>"
        f"<p class='aslkit-letter'>Predicted: <span data-letter='{letter}'>{letter}</span> "
        f"({pred.confidence:.2f})</p>{bars if pred.hand else ''}"
        + "".join(f"<p class='aslkit-why'>{e(w)}</p>" for w in why)
        + "</div></div>"
    )


def _annotated_jpeg(rgb: np.ndarray, hands) -> str:
    import cv2

    from aslkit.live.draw import draw_skeleton

    scale = PHOTO_SIDE / max(rgb.shape[:2])
    bgr = cv2.resize(np.ascontiguousarray(rgb[:, :, ::-1]), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if hands is not None and hands.hands:
        main = hands.main_hand()
        for hand in hands.hands:
            draw_skeleton(bgr, hand)
        x0, y0, x1, y1 = main.box
        h, w = bgr.shape[:2]
        cv2.rectangle(bgr, (int(x0 * w) - 6, int(y0 * h) - 6), (int(x1 * w) + 6, int(y1 * h) + 6), (0, 220, 255), 2)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return base64.b64encode(buf.tobytes()).decode() if ok else ""


CSS = """
.aslkit-card{display:flex;gap:16px;align-items:flex-start;margin:8px 0;padding:8px;border:1px solid #ddd;
  border-radius:8px}
.aslkit-card img{max-width:360px;border-radius:4px}
.aslkit-letter{font-size:1.6em;margin:4px 0}
.aslkit-bar{display:flex;align-items:center;gap:6px;width:260px;font-family:monospace}
.aslkit-bar span{width:4em}.aslkit-bar div{height:12px;background:#f59e0b;border-radius:3px}
.aslkit-why{color:#b45309;margin:4px 0}.aslkit-error .aslkit-why{color:#b91c1c}
"""


def photo_results(pool, files: list | None, model: str | None) -> str:
    """HTML cards for every uploaded photo (a bad file gets its own card with the reason)."""
    if not files:
        return "<p>Upload one or more photos of a hand spelling a letter.</p>"
    from aslkit.app.pool import predict_upload

    cards = []
    for f in files:
        path = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
        name = path.name
        try:
            pred, hands, rgb = predict_upload(pool, path.read_bytes(), name, model)
            cards.append(_photo_card(name, pred, hands, rgb))
        except ModelError as exc:
            return f"<p class='aslkit-why'>{html.escape(str(exc))}</p>"
        except (ImageError, OSError) as exc:
            cards.append(_photo_card(name, error=str(exc).removeprefix(f"{name}: ")))
    return "<div id='aslkit-photo-cards'>" + "".join(cards) + "</div>"


class _Webcam:
    """One browser session's live recognizer (made on its first frame)."""

    def __init__(self, model: str | None) -> None:
        from aslkit.inference.stream import StreamingRecognizer

        self.rec = StreamingRecognizer(model)
        self.t0 = time.monotonic()
        self.lock = threading.Lock()  # one session's frames may come on two threads; its tracker is not shared

    def frame(self, rgb: np.ndarray) -> tuple[np.ndarray, str]:
        import cv2

        from aslkit.live.draw import draw_frame

        with self.lock:  # the time read inside, so frames reach the tracker in order
            res = self.rec.process(np.ascontiguousarray(rgb), time.monotonic() - self.t0)
            text = self.rec.transcript.text
        bgr = draw_frame(np.ascontiguousarray(rgb[:, :, ::-1]), res, text)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), text


def webcam_frame(frame: np.ndarray | None, state: _Webcam | None, model: str | None):
    if frame is None:
        return None, (state.rec.transcript.text if state else ""), state
    if state is None:
        state = _Webcam(model)
    image, text = state.frame(frame)
    return image, text, state


@functools.cache
def _sign_recognizer():
    """The word-sign model, loaded once for the server's life rather than per uploaded video."""
    from aslkit.inference.recognizers import recognizer

    return recognizer(SIGN_MODEL, top_k=3, cache_dir=None)


def _video_folder() -> Path:
    """A new folder for one annotated video, in Gradio's cache (which then serves the file as it is, without
    a copy, and is removed with the server's temp folder); only the newest KEPT_VIDEOS such folders stay."""
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder())
    cache.mkdir(parents=True, exist_ok=True)
    old = sorted(cache.glob("aslkit-video-*"), key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
    for folder in old[: max(0, len(old) - KEPT_VIDEOS + 1)]:
        shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="aslkit-video-", dir=cache))


def _upload_named(why: object, path: str) -> str:
    """A message about an upload with the file by its name, not the server's temp folder it sits in."""
    return shown(str(why).replace(str(path), Path(path).name))


def video_results(path: str | None, model: str | None) -> tuple[str | None, str, str]:
    """(annotated video, transcript, sign prediction) for an uploaded clip. ``model``: a name or path for
    load_model (the app resolves the Model tab's choice first)."""
    if not path:
        return None, "", "Upload a video first."
    from aslkit.labels import IDLE, label_key
    from aslkit.live.run import run_live

    folder = _video_folder()
    out = folder / (Path(path).stem + "-annotated.webm")
    try:
        res = run_live(path, out=out, window=False, model=model)
    except AslkitError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return None, "", f"Cannot read this video: {_upload_named(exc, path)}"
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:  # the letters stand even where the sign model cannot read the clip (under 5 frames, say)
        sign = _sign_recognizer().predict(path)
    except AslkitError as exc:
        return str(out), res.text, f"No word sign read: {_upload_named(exc, path)}"
    if sign.error is not None:
        return str(out), res.text, f"No word sign read: {_upload_named(sign.error, path)}"
    top = ", ".join(f"{lab} {p:.2f}" for lab, p in sign.top)
    if sign.label is None:  # no hand in any frame
        return str(out), res.text, f"No word sign recognized (model {SIGN_MODEL}): no hand in the video"
    if label_key(sign.label) == IDLE:
        return str(out), res.text, f"No word sign recognized (model {SIGN_MODEL}; likeliest: {top})"
    return str(out), res.text, f"Sign (model {SIGN_MODEL}): {sign.label} ({sign.confidence:.2f}); top: {top}"


def model_choices(runs: str | Path | None = "runs", default: str | None = None) -> list[str]:
    """What the Model tab offers, the same models ``?model=`` takes (pool.allowed_model): the shipped photo
    models and the runs under ``runs`` by name, plus the server's own ``default``."""
    from aslkit.app.pool import run_names
    from aslkit.models.io import load_model, shipped_models

    names = []
    for n in shipped_models():
        try:
            if load_model(n).kind is InputKind.LANDMARKS:
                names.append(n)
        except AslkitError:
            continue
    names += [n for n in run_names(runs) if n not in names]
    if default and default not in names:
        names.insert(0, default)
    return names


def choose_model(pool, name: str | None, current: str | None) -> tuple[str | None, str]:
    """The Model tab's choice and its card; the choice is kept only when it loads, so a broken run is
    described but photos and the webcam go on with the model they had."""
    from aslkit.models.io import load_model

    try:
        load_model(pool.source(name))
    except Exception:  # noqa: BLE001 - a crafted run too: the card says why, the page goes on
        card = model_card(name or "", pool.runs, pool.default)
        return current, f"{card}\n\nPhotos and the webcam still use **{shown(current or pool.default)}**."
    return name, model_card(name or "", pool.runs, pool.default)


def model_card(name: str, runs: str | Path | None = "runs", default: str | None = None) -> str:
    """Markdown: the model's architecture, labels, how it was trained and its evaluation report. Only for the
    models of model_choices: any other name gets the same one line, whatever is on disk."""
    from aslkit.app.pool import allowed_model
    from aslkit.models.io import load_model

    try:
        m = load_model(name if default and name == default else allowed_model(name, runs)[1])
    except Exception as exc:  # noqa: BLE001 - a crafted model.json too: one line, not a traceback on the page
        why = str(exc) if isinstance(exc, AslkitError) else f"{type(exc).__name__}: {exc}"
        if runs is not None:  # a run by its name, not by where the server keeps it
            why = why.replace(str(Path(runs) / name), name)
        return f"Cannot load {shown(name)}: {shown(why)}"
    lines = [f"### {name}", f"Architecture `{m.architecture}`, {len(m.labels)} labels: {', '.join(m.labels)}", ""]
    meta = m.meta or {}
    if meta.get("command"):
        lines += [f"Trained with: `{meta['command']}`", ""]
    if meta.get("test_accuracy") is not None:
        lines += [f"Test accuracy (its own test split): {100 * float(meta['test_accuracy']):.2f}%", ""]
    report = Path(m.source or "").parent / "report.md" if m.source else None
    if report is not None and report.is_file():
        lines += [report.read_text(encoding="utf-8")]
    return "\n".join(lines)


def build_ui(pool, record_dir: str | Path | None = None, read_from: list[str | Path] | None = None) -> Any:
    """The gr.Blocks app (mounted at / by server.create_app). ``record_dir``: where the Record tab saves takes
    (None: recording off); ``read_from``: the server's inputs, which takes are never written into."""
    import gradio as gr

    from aslkit.app.record import STREAM_EVERY, STREAMS_AT_ONCE, record_tab

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])

    def webcam(frame, state, name):
        return webcam_frame(frame, state, pool.source(name) if state is None and frame is not None else name)

    def video(path, name):
        return video_results(path, pool.source(name))

    def choose(name, current):
        return choose_model(pool, name, current)

    # uploads and results in Gradio's cache (the server's temp folder) are deleted an hour after they were made
    with gr.Blocks(title="aslkit", theme=theme, css=CSS, analytics_enabled=False, delete_cache=CACHE_AGE) as demo:
        model = gr.State(pool.default)
        gr.Markdown("# aslkit: American Sign Language letters and signs, offline")
        with gr.Tabs():
            with gr.Tab("Photo", id="photo"):
                files = gr.File(label="Photos", file_count="multiple", file_types=["image"], elem_id="photo-upload")
                out = gr.HTML(elem_id="photo-results", padding=True)
                files.upload(lambda f, m: photo_results(pool, f, m), [files, model], out, concurrency_limit=1)
                files.clear(lambda: "", None, out)
            with gr.Tab("Webcam", id="webcam"):
                with gr.Row():
                    cam = gr.Image(
                        sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="webcam-input"
                    )
                    drawn = gr.Image(label="Recognized", elem_id="webcam-annotated")
                text = gr.Textbox(label="Transcript", elem_id="webcam-transcript", interactive=False)
                clear = gr.Button("Clear")
                live = gr.State(None)
                cam.stream(webcam, [cam, live, model], [drawn, text, live], stream_every=STREAM_EVERY,
                           time_limit=600, concurrency_limit=STREAMS_AT_ONCE)  # fmt: skip
                clear.click(lambda: ("", None), None, [text, live])
            with gr.Tab("Video", id="video"):
                # a file field, not gr.Video: the browser cannot preview every codec people upload (mp4v, avi)
                clip = gr.File(label="Video file", file_types=list(VIDEO_TYPES), elem_id="video-upload")
                run = gr.Button("Recognize", variant="primary")
                annotated = gr.Video(label="Annotated", interactive=False)
                transcript = gr.Textbox(label="Transcript (letters)", elem_id="video-transcript", interactive=False)
                sign = gr.Textbox(label="Sign", elem_id="video-sign", interactive=False)
                run.click(video, [clip, model], [annotated, transcript, sign], concurrency_limit=1)
            with gr.Tab("Record", id="record"):
                record_tab(record_dir, read_from or [])
            with gr.Tab("Model", id="model"):
                choices = model_choices(pool.runs, pool.default)
                choice = gr.Dropdown(choices, value=pool.default, label="Model for photos and webcam")
                card = gr.Markdown(model_card(pool.default, pool.runs, pool.default))
                choice.change(choose, [choice, model], [model, card])
        demo.queue(default_concurrency_limit=1, max_size=64)
    return demo
