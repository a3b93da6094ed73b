"""One registry of model architectures, found by name (``create_model("landmark-mlp", ...)``).

Each architecture file registers its variants with ``@register_model``; importing
``aslkit.models`` imports every architecture file. The registry itself does not import torch,
so that prediction with models that offer a NumPy forward pass starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aslkit.errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one architecture variant."""

    name: str
    build: Callable[..., Any]  # (in_features, num_classes, **kwargs) -> torch.nn.Module
    input: str  # what the model reads: "hand-landmarks", "image", later "sequence"
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    # Optional torch-free inference: (tensors, kwargs, features) -> probabilities (N, C)
    numpy_predict: Callable[..., Any] | None = None
    # Training recipe this architecture wants unless the user says otherwise (e.g. CLIP: lr 1e-5,
    # batch 32, 10 epochs, StepLR); keys of defaults.toml [train]
    train_defaults: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, ModelInfo] = {}
# Architecture files whose import needs torch (image models): imported on first need, so that a
# landmark model predicts without importing torch (cold start ~1 s instead of ~3 s).
_DEFERRED: list[str] = []


def defer_import(*modules: str) -> None:
    """Register architecture modules to import the first time a name is not found or all are listed."""
    _DEFERRED.extend(m for m in modules if m not in _DEFERRED)


def _import_deferred() -> None:
    import importlib

    while _DEFERRED:
        importlib.import_module(_DEFERRED.pop(0))


def register_model(
    name: str,
    *,
    input: str,
    description: str,
    numpy_predict: Callable[..., Any] | None = None,
    train_defaults: dict[str, Any] | None = None,
    **defaults: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a builder ``fn(in_features, num_classes, **kwargs) -> nn.Module``.

    ``in_features`` is the feature length for landmark models and the number of colour channels
    (3) for image models; ``defaults`` are the builder's keyword arguments and their defaults."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelInfo(
            name, fn, input, description, dict(defaults), numpy_predict, dict(train_defaults or {})
        )
        return fn

    return deco


def list_models() -> list[str]:
    """Names of every registered architecture, sorted."""
    _import_deferred()
    return sorted(_REGISTRY)


def get_model_info(name: str) -> ModelInfo:
    if name not in _REGISTRY:
        _import_deferred()
    if name not in _REGISTRY:
        raise ModelError(f"unknown model architecture {name!r}; registered: {', '.join(list_models())}")
    return _REGISTRY[name]


def model_kwargs(name: str, **overrides: Any) -> dict[str, Any]:
    """The registered defaults of a variant with overrides applied (unknown keys rejected)."""
    info = get_model_info(name)
    bad = set(overrides) - set(info.defaults)
    if bad:
        raise ModelError(f"model {name!r} has no option(s) {sorted(bad)}; options: {sorted(info.defaults)}")
    return {**info.defaults, **overrides}


def create_model(name: str, in_features: int, num_classes: int, **kwargs: Any):
    """Build a fresh torch module of a registered architecture."""
    return get_model_info(name).build(in_features, num_classes, **model_kwargs(name, **kwargs))
