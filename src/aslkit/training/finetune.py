"""Start a network from a trained model's weights (``train --finetune``), for sign and letter models alike.

Why by name and shape: the new run may have other classes than the model it starts from. Every tensor that fits
is copied; the class outputs are matched row by row by class name, so a class the trained model knows keeps its own
output and a new class starts fresh (never another class's row by position).
"""

from __future__ import annotations

import re

import numpy as np

from aslkit.errors import AslkitError


def output_names(state: dict) -> list[str]:
    """The class-output tensors: the last module's, and those of its twins in an ensemble (the same path with
    another member number, the same shapes), so every member of a landmark MLP keeps its rows."""
    last = next(reversed(state)).rsplit(".", 1)[0]
    shapes = {k.rsplit(".", 1)[1]: tuple(v.shape) for k, v in state.items() if k.rsplit(".", 1)[0] == last}
    pattern = re.compile(re.sub(r"\\\.\d+\\\.", r"\\.\\d+\\.", re.escape(last), count=1) + r"\.(\w+)")
    out = []
    for k, v in state.items():
        m = pattern.fullmatch(k)
        if m and shapes.get(m.group(1)) == tuple(v.shape):
            out.append(k)
    return out


def start_from(model, base, labels: list[str], start: str) -> None:
    """Copy the trained model ``base`` (a TrainedModel, loaded from ``start``) into ``model``, whose classes are
    ``labels``; AslkitError when less than half of the network fits."""
    import torch

    own = model.state_dict()
    theirs = {k: torch.from_numpy(np.array(v)) for k, v in base.tensors.items()}
    same = {k: v for k, v in theirs.items() if k in own and own[k].shape == v.shape}
    if len(same) < len(own) // 2:
        raise AslkitError(f"--finetune {start!r}: its weights do not fit this network ({len(same)} of {len(own)})")
    known = [(i, base.labels.index(lab)) for i, lab in enumerate(labels) if lab in base.labels]
    for k in output_names(own):
        same.pop(k, None)
        old = theirs.get(k)
        if old is None or old.shape[1:] != own[k].shape[1:] or len(old) != len(base.labels):
            continue  # not an output layer of the same width: stays fresh
        row = own[k].clone()
        for i, j in known:
            row[i] = old[j]
        same[k] = row
    model.load_state_dict({**own, **same})
