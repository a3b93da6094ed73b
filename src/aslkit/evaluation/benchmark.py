"""How long recognition takes on this machine: per-clip latency of a sign (sequence) model, and ``benchmark``,
which times any model the way that fits it (`aslkit benchmark`: a letter model's live pipeline, per stage).

Latency, not throughput: a live recognizer classifies one window at a time, so each clip goes
through alone (batch of one), as `SequenceRecognizer.predict_frames` does it. Stages are timed
separately so a slow step is visible: ``features`` (normalization and resampling) and ``model``
(the network's forward pass); ``total`` is the whole call, labels and top-k included.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.sequences import LAYOUTS, SequenceSet, drop_face, is_video_path, layout_for
from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.sequence_recognizer import SequenceRecognizer, model_input, sequence_arrays
from aslkit.kinds import InputKind
from aslkit.landmarks.holistic import load_sequences, video_clip
from aslkit.models.io import TrainedModel, load_model
from aslkit.names import shown


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"median": round(float(np.median(a)), 4), "p95": round(float(np.percentile(a, 95)), 4)}


def benchmark_sequences(
    model: str | Path | TrainedModel | None = "words",
    data: str | Path | None = None,
    clips: int = 200,
    frames: int = 30,
    warmup: int = 10,
) -> dict[str, Any]:
    """Per-clip milliseconds (median, p95) of a sign model on ``clips`` clips: from ``data`` (any
    sequence source) when given, else random landmark clips of ``frames`` frames in the model's layout."""
    import torch

    rec = SequenceRecognizer(model, top_k=5, cache_dir=None)
    pre = rec.model.preprocessing
    if data is not None and is_video_path(data) and Path(data).is_file():  # one video: its landmarks, timed
        seqs = [video_clip(Path(data), None)[0]] * clips
    elif data is not None:
        source = load_sequences(data, cache_dir=None)
        if len(source) == 0:
            raise DatasetError(f"{shown(data)}: no clips to time")
        seqs = [source.sequences[i % len(source)] for i in range(clips)]
    else:
        rng = np.random.default_rng(0)
        width = LAYOUTS[str(pre["layout"])].width
        seqs = [rng.uniform(0.2, 0.8, (frames, width)).astype(np.float32) for _ in range(clips)]
    length = int(pre["length"])
    for s in seqs[:warmup]:
        rec.predict_frames(s)
    feat_ms, model_ms, total_ms = [], [], []
    with torch.inference_mode():
        for s in seqs:
            t0 = time.perf_counter()
            rec.predict_frames(s)
            total_ms.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            frames_s, layout = drop_face(s, layout_for(s.shape[1]))
            x, m = sequence_arrays(model_input(rec.model, SequenceSet([frames_s], ["?"], layout)), length)
            t1 = time.perf_counter()
            rec.model.logits(x, m)
            t2 = time.perf_counter()
            feat_ms.append(1000 * (t1 - t0))
            model_ms.append(1000 * (t2 - t1))
    return {
        "model": rec.model.source or rec.model.architecture,
        "architecture": rec.model.architecture,
        "clips": len(seqs),
        "frames_per_clip": int(np.median([len(s) for s in seqs])),
        "data": str(data) if data is not None else f"random {frames}-frame clips",
        "backend": rec.model.backend,
        "torch_threads": torch.get_num_threads(),
        "per_clip_ms": _stats(total_ms),
        "stages": {"features": _stats(feat_ms)["median"], "model": _stats(model_ms)["median"]},
        "stages_p95": {"features": _stats(feat_ms)["p95"], "model": _stats(model_ms)["p95"]},
    }


def sequence_benchmark_text(r: dict[str, Any]) -> str:
    """What `aslkit benchmark --model words` prints for the timings of ``benchmark_sequences``."""
    out = [f"model: {r['model']} ({r['architecture']})",
           f"{r['clips']} clips of {r['frames_per_clip']} frames ({r['data']}), one at a time",
           f"per clip: median {r['per_clip_ms']['median']:.3f} ms, p95 {r['per_clip_ms']['p95']:.3f} ms"]  # fmt: skip
    out += [f"  {name:<10} median {ms:.3f} ms, p95 {r['stages_p95'][name]:.3f} ms" for name, ms in r["stages"].items()]
    return "\n".join(out)


def benchmark(
    model: str | None = None,
    backend: str | None = None,
    source: str | Path | None = None,
    data: str | Path | None = None,
    word: str | None = None,
    max_frames: int | None = None,
    clips: int | None = None,
    frames: int | None = None,
    **live: Any,
) -> dict[str, Any]:
    """`aslkit benchmark`: a sign model's ms per clip (``benchmark_sequences`` on ``data``, ``clips`` and
    ``frames``), or a hand-landmark letter model's live pipeline per stage (``benchmark_live`` on ``source``, or
    on a video spelling ``word`` built from the photos in ``data``, default $ASLKIT_BENCH_PHOTOS; ``live``:
    [live] settings). An option or setting the model's kind does not use (--clips for the live pipeline, a live
    setting or --word for a sign model), or any other kind of model, is an AslkitError, never silently ignored."""
    loaded = load_model(model).use_backend(backend)
    if backend:
        live["backend"] = backend
    if loaded.kind is InputKind.SEQUENCE:
        live.pop("backend", None)
        unused = [*live, *(["--word"] if word is not None else []), *(["--max-frames"] if max_frames else [])]
        if unused:
            raise AslkitError(f"{', '.join(unused)}: time the live pipeline of a letter model, not a sign model")
        if source is not None and data is not None:
            raise AslkitError("a sign model's benchmark reads its clips from --data or --source, not both")
        # a video given as --source is timed as a sign model reads it (it was ignored for random clips)
        return benchmark_sequences(loaded, data if source is None else source, clips=clips or 200, frames=frames or 30)
    if loaded.kind is not InputKind.LANDMARKS:
        raise AslkitError("benchmark times the live pipeline (hand-landmark letter models) or sign models")
    unused = [flag for flag, v in (("--clips", clips), ("--frames", frames)) if v is not None]
    if source is not None and word is not None:
        unused.append("--word (a video is built only without --source)")
    if unused:
        raise AslkitError(f"{', '.join(unused)}: not used by a letter model's live benchmark")
    from aslkit.live.benchmark import benchmark_live

    photos = data or os.environ.get("ASLKIT_BENCH_PHOTOS") or None
    b = benchmark_live(source, photos, word or "QUICKBROWNFOX", model, max_frames, **live)
    return {"source": b["source"], "model": loaded.source or loaded.architecture, **b}


def benchmark_text(r: dict[str, Any]) -> str:
    """What `aslkit benchmark` prints for ``benchmark``'s result: a sign model's (it has ``per_clip_ms``) or
    the live pipeline's timings."""
    if "per_clip_ms" in r:
        return sequence_benchmark_text(r)
    from aslkit.live.benchmark import live_benchmark_text

    return live_benchmark_text(r)
