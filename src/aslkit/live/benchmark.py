"""`aslkit benchmark` for the live pipeline: run_live timed on a video, or on a spelling video built from photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aslkit.errors import AslkitError
from aslkit.live.run import run_live


def benchmark_live(
    source: str | Path | None = None,
    photos: str | Path | None = None,
    word: str = "QUICKBROWNFOX",
    model: str | None = None,
    max_frames: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The live pipeline timed on ``source``, or on a video spelling ``word`` built from ``photos`` (class
    folders) when no source is given: {"source": what was read, **LiveResult.summary()}, no window."""
    import tempfile

    from aslkit.data.spelling_video import make_spelling_video

    with tempfile.TemporaryDirectory() as tmp:
        video = source
        if video is None:
            if photos is None or not Path(photos).is_dir():
                why = f" ({photos} is absent)" if photos is not None else ""
                raise AslkitError(f"give --source VIDEO, or --data PHOTO_DIR to build one{why}")
            video = str(make_spelling_video(word, photos, Path(tmp) / "bench.mp4", hold_s=1.0).path)
        res = run_live(video, window=False, model=model, max_frames=max_frames, **overrides)
    what = str(source) if source is not None else f"spelling video of {word!r} from {photos}"
    return {"source": what, **res.summary()}


def live_benchmark_text(r: dict[str, Any]) -> str:
    """What `aslkit benchmark` prints for the result of ``benchmark_live``."""
    out = [f"source: {r['source']}", f"{r['frames']} frames, {r['fps']:.1f} FPS end to end (text: {r['text']!r})",
           f"hand found in {r['hand_frames']} frames ({100 * r['hand_rate']:.1f}%), {r['retry_frames']} of them by "
           f"the landmark retry ({r['retry_runs']} retry runs)"]  # fmt: skip
    out += [f"  {name:<14} median {ms:.3f} ms, p95 {r['stages_p95'][name]:.3f} ms" for name, ms in r["stages"].items()]
    out.append(f"  classifier + smoothing: median {r['classifier_and_smoothing_ms']:.3f} ms")
    return "\n".join(out)
