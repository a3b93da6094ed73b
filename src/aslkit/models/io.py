"""Trained models on disk: ``model.safetensors`` (weights) + ``model.json`` (labels, preprocessing).

Never pickle: safetensors holds only tensors, JSON holds everything else, so loading a model
from a stranger cannot run code. A model is found by a shipped name (``letters``), a run folder
holding model.json, or a path to the JSON file itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import ModelError
from aslkit.models.registry import get_model_info

BACKENDS = ("torch", "onnx")
FORMAT = "aslkit-model"
FORMAT_VERSION = 1
DEFAULT_MODEL = "letters"


def shipped_models() -> dict[str, Path]:
    """Trained models that ship inside the package: name -> path of its JSON."""
    d = resources.files("aslkit").joinpath("weights")
    out = {}
    for p in sorted(Path(str(d)).glob("*.json")):
        if p.with_suffix(".safetensors").is_file():
            out[p.stem] = p
    return out


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a saved model is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass
class TrainedModel:
    """A registered architecture with trained weights, its labels and how inputs are prepared."""

    architecture: str
    kwargs: dict[str, Any]
    labels: list[str]
    in_features: int
    preprocessing: dict[str, Any]
    tensors: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    _torch_module: Any = None
    backend: str = "torch"  # "onnx": run the exported graph with onnxruntime (see export/onnx.py)
    onnx_threads: int = 0  # onnxruntime's threads (0: its default, one per core)
    _onnx: Any = None

    # ---- inference -------------------------------------------------------------------------
    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C) for a feature matrix (N, F)."""
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x[None]
        if x.shape[1] != self.in_features:
            raise ModelError(f"model expects {self.in_features} features, got {x.shape[1]}")
        info = get_model_info(self.architecture)
        if info.numpy_predict is not None and self.backend == "torch":
            return info.numpy_predict(self.tensors, self.kwargs, x)
        return probabilities(self.logits(x))

    def use_backend(self, backend: str | None) -> TrainedModel:
        """Run on "torch" (default) or "onnx" (onnxruntime over the exported graph); returns self."""
        backend = backend or "torch"
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if backend != self.backend:
            self.backend, self._onnx = backend, None
        return self

    def logits(self, *inputs: np.ndarray) -> np.ndarray:
        """The network's raw output for numpy inputs (what the torch module or the ONNX graph gives)."""
        if self.backend == "onnx":
            if self._onnx is None:
                from aslkit.export.onnx import OnnxRunner, cached_export

                self._onnx = OnnxRunner(cached_export(self), threads=self.onnx_threads)
            return self._onnx.run(*inputs)
        import torch

        with torch.inference_mode():
            return self.torch_module()(*[torch.from_numpy(np.ascontiguousarray(a)) for a in inputs]).numpy()

    def torch_module(self):
        """The weights in a torch module of the registered architecture (built once)."""
        if self._torch_module is None:
            import torch

            from aslkit.models.registry import create_model

            m = create_model(self.architecture, self.in_features, len(self.labels), **self.kwargs)
            m.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.tensors.items()})
            m.eval()
            self._torch_module = m
        return self._torch_module

    # ---- files -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": self.architecture,
            "kwargs": self.kwargs,
            "labels": self.labels,
            "in_features": self.in_features,
            "preprocessing": self.preprocessing,
            "meta": self.meta,
        }

    def save(self, out_dir: str | Path, name: str = "model") -> Path:
        """Write ``<name>.safetensors`` and ``<name>.json`` atomically; returns the JSON path."""
        from safetensors.numpy import save

        d = Path(out_dir)
        blob = save({k: np.ascontiguousarray(v) for k, v in self.tensors.items()}, metadata={"format": FORMAT})
        atomic_write(d / f"{name}.safetensors", blob)
        atomic_write(d / f"{name}.json", json.dumps(self.to_json(), indent=2).encode())
        return d / f"{name}.json"

    @classmethod
    def from_torch(
        cls,
        module,
        architecture: str,
        kwargs: dict,
        labels: list[str],
        in_features: int,
        preprocessing: dict,
        meta: dict | None = None,
    ) -> TrainedModel:
        tensors = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in module.state_dict().items()}
        return cls(architecture, dict(kwargs), list(labels), in_features, dict(preprocessing), tensors, meta or {})


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax over classes; ensemble member logits (M, N, C) are averaged after it."""
    e = np.exp(logits - logits.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p.mean(0) if p.ndim == 3 else p


def resolve_model_path(name_or_path: str | Path | None) -> Path:
    """Shipped name, run folder or JSON path -> the model's JSON path (ModelError if none)."""
    key = str(name_or_path) if name_or_path else DEFAULT_MODEL
    shipped = shipped_models()
    if key in shipped:
        return shipped[key]
    p = Path(key)
    if p.is_dir():
        if (p / "model.json").is_file():
            return p / "model.json"
        raise ModelError(f"{p}: no model.json in this folder (is it an aslkit run folder?)")
    if p.is_file() and p.suffix == ".json":
        return p
    if p.is_file() and p.suffix == ".safetensors" and p.with_suffix(".json").is_file():
        return p.with_suffix(".json")
    names = ", ".join(shipped) or "none"
    raise ModelError(f"model {key!r} not found: not a shipped model ({names}) nor a run folder or model.json")


def load_model(name_or_path: str | Path | None = None) -> TrainedModel:
    """Load a shipped model by name, or a trained one from its run folder or JSON file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    jpath = resolve_model_path(name_or_path)
    try:
        spec = json.loads(jpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{jpath}: cannot read model description ({exc})") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelError(f"{jpath}: not an aslkit model description")
    wpath = jpath.with_suffix(".safetensors")
    try:
        tensors = load_file(str(wpath))
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"{wpath}: cannot read weights ({exc})") from None
    try:
        get_model_info(spec["architecture"])
        return TrainedModel(
            architecture=spec["architecture"],
            kwargs=dict(spec.get("kwargs", {})),
            labels=list(spec["labels"]),
            in_features=int(spec["in_features"]),
            preprocessing=dict(spec.get("preprocessing", {})),
            tensors=tensors,
            meta=dict(spec.get("meta", {})),
            source=str(jpath),
        )
    except KeyError as exc:
        raise ModelError(f"{jpath}: missing field {exc}") from None
