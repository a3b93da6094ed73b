"""Landmark MLP: a small ensemble of multilayer perceptrons over hand-landmark features.

Why an ensemble of small MLPs: hand-shape features are low-dimensional, so each member trains
in seconds on a CPU, and averaging a few independently initialised members smooths the
decision boundary between look-alike letters (M/N, R/U, K/V) on hands the model has not seen.
Inference also runs in NumPy (no torch import), which keeps `aslkit predict` cold start short.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aslkit.models.registry import register_model


def _build_torch(in_features: int, num_classes: int, hidden: int, depth: int, dropout: float, members: int):
    import torch
    from torch import nn

    class _Member(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            d = in_features
            for _ in range(depth):
                layers += [nn.Linear(d, hidden), nn.LayerNorm(hidden), nn.GELU(approximate="tanh"), nn.Dropout(dropout)]
                d = hidden
            layers.append(nn.Linear(d, num_classes))
            self.net = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    class LandmarkMLP(nn.Module):
        """Standardize features, run each member; returns member logits (members, N, classes)."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("feature_mean", torch.zeros(in_features))
            self.register_buffer("feature_std", torch.ones(in_features))
            self.members = nn.ModuleList(_Member() for _ in range(members))

        def set_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
            self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
            self.feature_std.copy_(torch.as_tensor(np.maximum(std, 1e-4), dtype=torch.float32))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = (x - self.feature_mean) / self.feature_std
            return torch.stack([m(z) for m in self.members])

    return LandmarkMLP()


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


_STACKED: dict[int, tuple[dict, list]] = {}  # id(tensors) -> (tensors, per-layer weights of all members stacked)


def _stacked(tensors: dict[str, np.ndarray], kwargs: dict[str, Any]) -> list[tuple[np.ndarray, ...]]:
    """Each layer's weights of all ensemble members stacked on a first axis, built once per model:
    one matmul per layer for the whole ensemble keeps a live frame's prediction well under 1 ms."""
    hit = _STACKED.get(id(tensors))
    if hit is not None and hit[0] is tensors:
        return hit[1]
    members = range(kwargs["members"])
    layers = []
    i = 0
    for _ in range(kwargs["depth"]):
        w = np.stack([tensors[f"members.{m}.net.{i}.weight"].T for m in members])  # (M, in, out)
        b = np.stack([tensors[f"members.{m}.net.{i}.bias"] for m in members])[:, None]
        g = np.stack([tensors[f"members.{m}.net.{i + 1}.weight"] for m in members])[:, None]
        beta = np.stack([tensors[f"members.{m}.net.{i + 1}.bias"] for m in members])[:, None]
        layers.append((w, b, g, beta))
        i += 4
    w = np.stack([tensors[f"members.{m}.net.{i}.weight"].T for m in members])
    b = np.stack([tensors[f"members.{m}.net.{i}.bias"] for m in members])[:, None]
    layers.append((w, b))
    if len(_STACKED) > 8:
        _STACKED.clear()
    _STACKED[id(tensors)] = (tensors, layers)
    return layers


def numpy_predict(tensors: dict[str, np.ndarray], kwargs: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Class probabilities (N, C), the members' softmax averaged, computed with NumPy only."""
    z = (x.astype(np.float32) - tensors["feature_mean"]) / tensors["feature_std"]
    *hidden, (w_out, b_out) = _stacked(tensors, kwargs)
    h = z[None]  # (1, N, F), broadcast over the members
    for w, b, g, beta in hidden:
        h = h @ w + b
        mu = h.mean(-1, keepdims=True)
        var = h.var(-1, keepdims=True)
        h = _gelu_tanh((h - mu) / np.sqrt(var + 1e-5) * g + beta)
    return np.asarray(_softmax(h @ w_out + b_out).mean(0), dtype=np.float32)


def expected_shapes(
    in_features: int, num_classes: int, hidden: int, depth: int, dropout: float, members: int
) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor ``_build_torch`` holds, computed without torch: a model file is checked
    against its weights without the ~2 s torch import (tests check this against the torch module)."""
    if members < 1:
        raise ValueError("an ensemble needs at least one member")
    if not 0 <= dropout <= 1:
        raise ValueError(f"dropout must be between 0 and 1, got {dropout}")
    shapes: dict[str, tuple[int, ...]] = {"feature_mean": (in_features,), "feature_std": (in_features,)}
    for m in range(members):
        d, i = in_features, 0
        for _ in range(depth):
            shapes[f"members.{m}.net.{i}.weight"] = (hidden, d)  # Linear
            shapes[f"members.{m}.net.{i}.bias"] = (hidden,)
            shapes[f"members.{m}.net.{i + 1}.weight"] = (hidden,)  # LayerNorm
            shapes[f"members.{m}.net.{i + 1}.bias"] = (hidden,)
            d, i = hidden, i + 4  # GELU and Dropout hold nothing
        shapes[f"members.{m}.net.{i}.weight"] = (num_classes, d)
        shapes[f"members.{m}.net.{i}.bias"] = (num_classes,)
    return shapes


_LIMITS = {"depth": (0, 64), "members": (1, 64)}


@register_model(
    "landmark-mlp",
    input="hand-landmarks",
    description="ensemble of 4 MLPs (2x192) over hand-landmark features; the default letter model",
    numpy_predict=numpy_predict,
    expected_shapes=expected_shapes,
    limits=_LIMITS,
    hidden=192,
    depth=2,
    dropout=0.2,
    members=4,
)
def landmark_mlp(in_features: int, num_classes: int, **kw: Any):
    return _build_torch(in_features, num_classes, **kw)


@register_model(
    "landmark-mlp-tiny",
    input="hand-landmarks",
    description="one MLP (1x64) over hand-landmark features; fastest, for small datasets and tests",
    numpy_predict=numpy_predict,
    expected_shapes=expected_shapes,
    limits=_LIMITS,
    hidden=64,
    depth=1,
    dropout=0.1,
    members=1,
)
def landmark_mlp_tiny(in_features: int, num_classes: int, **kw: Any):
    return _build_torch(in_features, num_classes, **kw)
