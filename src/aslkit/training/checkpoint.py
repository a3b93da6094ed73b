"""Resumable training state in a run folder, without pickle.

``RUN/checkpoint/epoch-NNNN.safetensors`` holds every tensor (model, best model so far, optimizer
moments, torch RNG); ``RUN/checkpoint/state.json`` holds everything else (epoch, history, scheduler,
NumPy RNG) and names the tensor file it belongs to. Both are written to a temp file and renamed, the
tensors first and the JSON last, so a run killed at any moment leaves the last complete epoch's pair
intact; older tensor files are removed only after the new JSON points past them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aslkit.errors import AslkitError
from aslkit.names import shown
from aslkit.outputs import atomic_write, check_new_folder

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"


def optimizer_state(opt) -> tuple[dict[str, Any], dict[str, Any]]:
    """An optimizer's state_dict split into tensors (for safetensors) and JSON-able rest."""
    import torch

    sd = opt.state_dict()
    tensors: dict[str, Any] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optimizer.{pid}.{k}"] = v
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def restore_optimizer(opt, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optimizer."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for pid, st in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(st)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(run_dir: str | Path, epoch: int, tensors: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write one epoch's checkpoint atomically; returns the state JSON path."""
    import torch
    from safetensors.torch import save

    d = Path(run_dir) / CHECKPOINT_DIR
    name = f"epoch-{epoch:04d}.safetensors"
    blob = save({k: v.detach().cpu().contiguous() for k, v in tensors.items() if torch.is_tensor(v)})
    atomic_write(d / name, blob)
    atomic_write(d / STATE_FILE, json.dumps({**state, "epoch": epoch, "tensors": name}).encode())
    for old in d.glob("epoch-*.safetensors"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return d / STATE_FILE


def load_checkpoint(run_dir: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state, tensors) of the last complete epoch; AslkitError if the run has none."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(run_dir) / CHECKPOINT_DIR
    try:
        state = json.loads((d / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AslkitError(f"{run_dir}: no checkpoint to resume from (no {CHECKPOINT_DIR}/{STATE_FILE})") from None
    except (OSError, ValueError) as exc:
        raise AslkitError(f"{d / STATE_FILE}: unreadable checkpoint ({exc})") from None
    try:
        tensors = load_file(str(d / state["tensors"]))
    except (OSError, KeyError, SafetensorError) as exc:
        raise AslkitError(f"{d}: checkpoint tensors missing or damaged ({exc})") from None
    return state, tensors


def clear_checkpoint(run_dir: str | Path) -> None:
    """Remove the checkpoint once the run has finished and saved its model."""
    d = Path(run_dir) / CHECKPOINT_DIR
    if d.is_dir():
        for f in d.iterdir():
            f.unlink(missing_ok=True)
        d.rmdir()


def check_run_folder(out: str | Path, data: list[str | Path]) -> None:
    """A new run goes to a new or empty folder outside the data; an earlier run's folder is continued only
    with --resume (never silently restarted, which would delete its checkpoint)."""
    if not str(out).strip():  # Path("") is the current folder
        raise AslkitError("--out: give a folder name")
    run_dir = Path(out)
    if (run_dir / "model.json").exists():
        raise AslkitError(f"{shown(run_dir)} already holds a trained model; choose a new --out folder")
    if (run_dir / "checkpoint").exists() or (run_dir / "config.json").exists():
        raise AslkitError(
            f"{shown(run_dir)} holds an unfinished run; continue it with `aslkit train --resume {shown(run_dir)}`, "
            "or give a new --out folder"
        )
    check_new_folder(run_dir, data, flag="--out", what="the training data")
