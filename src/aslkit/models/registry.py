"""One registry of model architectures, found by name (``create_model("landmark-mlp", ...)``).

Each architecture file registers its variants with ``@register_model``; importing
``aslkit.models`` imports every architecture file. The registry itself does not import torch,
so that prediction with models that offer a NumPy forward pass starts fast.

A model file from a stranger is checked against the registry before anything is built: ``checked_kwargs``
(options known to the architecture, of their default's type, within bounds) and ``tensor_shapes`` (the
tensors a module holds, from the architecture's torch-free ``expected_shapes`` or from the module built on
torch's meta device, which allocates nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aslkit.errors import ModelError
from aslkit.kinds import InputKind, parse_kind

MAX_SIZE = 65536  # no integer option in a model file above this (dim=10**7 would allocate gigabytes)
MAX_FLOAT = 1e6  # nor a float option beyond +-this
MAX_TEXT = 4096  # nor a text option longer than this


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one architecture variant."""

    name: str
    build: Callable[..., Any]  # (in_features, num_classes, **kwargs) -> torch.nn.Module
    input: InputKind  # what the model reads (a str: compares equal to model.json's "hand-landmarks", ...)
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    # Optional torch-free inference: (tensors, kwargs, features) -> probabilities (N, C)
    numpy_predict: Callable[..., Any] | None = None
    # Training recipe this architecture wants unless the user says otherwise (e.g. CLIP: lr 1e-5,
    # batch 32, 10 epochs, StepLR); keys of defaults.toml [train]
    train_defaults: dict[str, Any] = field(default_factory=dict)
    # Optional torch-free (in_features, num_classes, **kwargs) -> {tensor name: shape} of the module's state
    # dict, so that a model file is checked without importing torch (else: the module built on "meta")
    expected_shapes: Callable[..., dict[str, tuple[int, ...]]] | None = None
    # (low, high) of integer options, where 1..MAX_SIZE does not fit (layer counts: building 60,000 blocks,
    # even on the meta device, takes a minute)
    limits: dict[str, tuple[int, int]] = field(default_factory=dict)


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
    expected_shapes: Callable[..., dict[str, tuple[int, ...]]] | None = None,
    limits: dict[str, tuple[int, int]] | None = None,
    **defaults: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a builder ``fn(in_features, num_classes, **kwargs) -> nn.Module``.

    ``in_features`` is the feature length for landmark models and the number of colour channels
    (3) for image models; ``defaults`` are the builder's keyword arguments and their defaults."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelInfo(
            name, fn, parse_kind(input), description, dict(defaults), numpy_predict, dict(train_defaults or {}),
            expected_shapes, dict(limits or {}),
        )  # fmt: skip
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


# ---- checking what a model file says ------------------------------------------------------------------
def short(value: Any, limit: int = 60) -> str:
    """repr of a value from a model file, cut to ``limit`` characters (one printable line)."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def json_kind(value: Any) -> str:
    """What a JSON value is, in words, for messages."""
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    for kind, name in ((dict, "an object"), (list, "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _option_problem(value: Any, default: Any, limit: tuple[int, int]) -> str | None:
    """Why ``value`` cannot stand for an option whose default is ``default``, or None."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be a whole number"
        lo, hi = limit
        return None if lo <= value <= hi else f"must be between {lo} and {hi}"
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "must be a number"
        return None if math.isfinite(value) and abs(value) <= MAX_FLOAT else f"must be a number within +-{MAX_FLOAT:g}"
    if isinstance(default, str):
        if not isinstance(value, str):
            return "must be a string"
        return None if len(value) <= MAX_TEXT else f"must be at most {MAX_TEXT} characters"
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (tuple, list)) or len(value) != len(default):
            return f"must be a list of {len(default)} values"
        for v, d in zip(value, default, strict=True):
            why = _option_problem(v, d, limit)
            if why:
                return f"each value {why}"
        return None
    if default is None:
        return None if value is None or isinstance(value, (bool, int, float, str)) else "must be a single value"
    return None if isinstance(value, type(default)) else f"must be of type {type(default).__name__}"


def checked_kwargs(name: str, kwargs: Any) -> dict[str, Any]:
    """Builder options read from a model file, checked before anything is built: each known to the
    architecture and of its default's type (bool is not int; a float option takes an int), integers within
    the architecture's ``limits`` (else 1..MAX_SIZE), floats finite and within +-MAX_FLOAT, text at most
    MAX_TEXT long. Returns the defaults with the options applied; ModelError naming the first bad one."""
    info = get_model_info(name)
    if not isinstance(kwargs, dict):
        raise ModelError(f"kwargs must be an object of options, got {json_kind(kwargs)}")
    unknown = sorted(str(k) for k in kwargs if k not in info.defaults)
    if unknown:
        raise ModelError(f"model {name!r} has no option(s) {short(unknown)}; options: {sorted(info.defaults)}")
    for key, value in kwargs.items():
        why = _option_problem(value, info.defaults[key], info.limits.get(key, (1, MAX_SIZE)))
        if why:
            raise ModelError(f"option {key}={short(value)} of {name!r}: {why}")
    return {**info.defaults, **kwargs}


def tensor_shapes(name: str, in_features: int, num_classes: int, kwargs: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in the state dict of a module of this architecture, without allocating
    it: the architecture's ``expected_shapes`` when it registers one (no torch import), else the module built
    on torch's meta device. Bound the options first (``checked_kwargs``): building still costs time per layer.
    Whatever the builder raises comes through as it is."""
    info = get_model_info(name)
    if info.expected_shapes is not None:
        return info.expected_shapes(in_features, num_classes, **kwargs)
    import torch

    with torch.device("meta"):
        module = info.build(in_features, num_classes, **kwargs)
    return {k: tuple(int(d) for d in v.shape) for k, v in module.state_dict().items()}
