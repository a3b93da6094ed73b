"""`aslkit export`: a trained or shipped model written as ONNX and checked against torch, on random inputs or
on a labelled set's real ones.

It lives in inference, not in export, because it loads models by name and prepares real inputs the way
prediction does (``real_inputs``); export sits below models and only reads the model object it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aslkit.errors import AslkitError
from aslkit.export.onnx import check_parity, default_onnx_path, export_onnx
from aslkit.inference.inputs import real_inputs
from aslkit.models.io import load_model, shipped_models
from aslkit.names import shown
from aslkit.outputs import check_new_file


def export_checked(
    model: str,
    out: str | Path | None = None,
    data: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    progress: bool = False,
) -> dict[str, Any]:
    """Export ``model`` (a shipped name or a run folder) to ``out`` (default: beside a run's model.json, or
    NAME.onnx here for a shipped model) and compare it with torch on ``data``'s inputs (default: random ones).
    Returns what `aslkit export --json` prints: the file, the model, its size and the parity figures (``ok``:
    within ``TOLERANCE`` and the same top-1 answer everywhere). The output is never written over an existing
    file, nor over the check data."""
    loaded = load_model(model)
    dest = Path(out) if out else default_onnx_path(loaded, model, model in shipped_models())
    check_new_file(dest, [data] if data else [], what="the check data")  # never over an existing file
    if dest.suffix.lower() != ".onnx":  # runtimes and model hubs find ONNX files by this name
        raise AslkitError(f"--out {shown(dest)}: an ONNX model's file name ends in .onnx")
    # the check data first: a set with nothing usable in it is an error before any file is written
    inputs = real_inputs(loaded, data, cache_dir=cache_dir, progress=progress) if data else None
    path = export_onnx(loaded, dest)
    parity = check_parity(loaded, path, inputs)
    return {"onnx": str(path), "model": loaded.source or model, "bytes": path.stat().st_size, **parity.to_json()}


def export_text(r: dict[str, Any], data: str | Path | None = None) -> str:
    """What `aslkit export` prints for ``export_checked``'s result (``data``: the labelled set it was checked
    on, if any)."""
    what = f"{r['inputs']} real inputs from {data}" if data else f"{r['inputs']} random inputs"
    return (f"wrote {shown(r['onnx'])} ({r['bytes'] / 1e6:.2f} MB); against torch on {what}: largest logit difference "
            f"{r['max_abs_logit_diff']:.2e}, top-1 agreement {100 * r['top1_agreement']:.2f}%")  # fmt: skip
