"""ONNX export of any registered model, and the onnxruntime backend that runs it.

The exported graph takes the same inputs as the torch module and gives the same ``logits``:
``features`` (N, F) for landmark models, ``frames`` (N, T, F) + ``mask`` (N, T) for sequence models,
``images`` (N, 3, S, S) in [0, 1] for image models; the batch axis is free. Ensembles (landmark-mlp)
give member logits (M, N, C), averaged after a softmax, as in torch. The model's labels,
preprocessing, architecture and options travel in the ONNX metadata, so the file alone says how to
use it. Every export is checked against torch (largest logit difference, top-1 agreement).

A TrainedModel runs on this backend (``backend="onnx"``), so export sits below models: it works on the
model object it is given and never imports models. Real data for the check comes from inference/inputs.py.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import ModelError
from aslkit.kinds import InputKind, kind_of

OPSET = 17
INPUT_NAMES = {InputKind.LANDMARKS: ("features",), InputKind.SEQUENCE: ("frames", "mask"), InputKind.IMAGE: ("images",)}
TOLERANCE = 1e-4  # largest logit difference an export may have against torch


def input_kind(model) -> InputKind:
    """What the model reads (its preprocessing ``input``; hand landmarks when it names none, as the first
    models did); ModelError for a kind that cannot be exported."""
    try:
        kind = kind_of(model.preprocessing, default=InputKind.LANDMARKS)
    except ModelError:
        kind = None
    if kind not in INPUT_NAMES:
        raise ModelError(f"cannot export a model that reads {str(model.preprocessing.get('input'))!r}")
    return kind


def default_onnx_path(model, name: str, shipped: bool) -> Path:
    """Where `aslkit export NAME` writes without --out: beside a run's model.json (RUN_DIR/model.onnx), or
    NAME.onnx in the working folder for a shipped model (never into the installed package) or one with no file."""
    if shipped or not model.source:
        return Path(f"{name}.onnx")
    return Path(model.source).with_suffix(".onnx")


def example_inputs(model, n: int = 8, seed: int = 0) -> list[np.ndarray]:
    """Random inputs of the model's shapes (used when no real data is given)."""
    rng = np.random.default_rng(seed)
    kind = input_kind(model)
    if kind == "hand-landmarks":
        mean = model.tensors.get("feature_mean")
        std = model.tensors.get("feature_std")
        x = rng.standard_normal((n, model.in_features)).astype(np.float32)
        return [x * std + mean if mean is not None and std is not None else x]
    if kind == "sequence":
        length = int(model.preprocessing["length"])
        mask = np.ones((n, length), bool)
        mask[0, length // 2 :] = False  # a short clip: padded frames must not change the answer
        return [rng.standard_normal((n, length, model.in_features)).astype(np.float32), mask]
    size = int(model.preprocessing["size"])
    return [rng.random((n, 3, size, size), dtype=np.float32)]


def model_key(model) -> str:
    """A hash of everything that defines the exported graph (cache key)."""
    h = hashlib.sha1()
    h.update(json.dumps([model.architecture, model.kwargs, model.in_features, len(model.labels), OPSET]).encode())
    for k in sorted(model.tensors):
        h.update(k.encode())
        h.update(np.ascontiguousarray(model.tensors[k]).tobytes())
    return h.hexdigest()[:16]


def _metadata(model, members: bool) -> dict[str, str]:
    kind = input_kind(model)
    out = "member logits (M, N, C): softmax each, then average" if members else "logits (N, C)"
    return {
        "aslkit_format": "aslkit-onnx/1",
        "architecture": model.architecture,
        "kwargs": json.dumps(model.kwargs),
        "labels": json.dumps(model.labels),
        "preprocessing": json.dumps(model.preprocessing),
        "in_features": str(model.in_features),
        "inputs": ", ".join(INPUT_NAMES[kind]),
        "output": out,
        "key": model_key(model),
    }


def export_onnx(model, out: str | Path) -> Path:
    """Write the model as ONNX (opset 17, free batch axis) with its labels and preprocessing in the metadata."""
    import onnx
    import torch

    kind = input_kind(model)
    names = INPUT_NAMES[kind]
    module = model.torch_module().eval()
    example = [torch.from_numpy(a[:2]) for a in example_inputs(model, n=2)]
    with torch.no_grad():
        ref = module(*example)
    out_axes = {1: "batch"} if ref.dim() == 3 else {0: "batch"}
    axes = {**{n: {0: "batch"} for n in names}, "logits": out_axes}
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():  # the TorchScript exporter warns about its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(example), str(tmp), input_names=list(names), output_names=["logits"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)  # fmt: skip
    proto = onnx.load(str(tmp))
    for k, v in _metadata(model, ref.dim() == 3).items():
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(tmp))
    tmp.replace(path)
    return path


class OnnxRunner:
    """An onnxruntime session over an exported model; ``run`` takes and gives what the torch module does."""

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, *inputs: np.ndarray) -> np.ndarray:
        feeds = {n: np.ascontiguousarray(a) for n, a in zip(self.names, inputs, strict=True)}
        return self.session.run(["logits"], feeds)[0]


def cached_export(model, cache_dir: str | Path | None = "default") -> Path:
    """The model's ONNX file: ``model.onnx`` beside a run's model.json when it matches the weights, else
    one exported once into the cache (``~/.cache/aslkit/onnx/<key>.onnx``)."""
    key = model_key(model)
    if model.source:
        beside = Path(model.source).with_suffix(".onnx")
        if beside.is_file() and _file_key(beside) == key:
            return beside
    if cache_dir == "default" or cache_dir is None:
        from aslkit.landmarks.cache import default_cache_dir

        cache_dir = default_cache_dir()
    path = Path(cache_dir) / "onnx" / f"{key}.onnx"
    if not path.is_file():
        export_onnx(model, path)
    return path


def _file_key(path: Path) -> str | None:
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - an unreadable file is simply not a match
        return None
    return next((p.value for p in proto.metadata_props if p.key == "key"), None)


@dataclass
class Parity:
    """How the ONNX model agrees with torch on some inputs."""

    inputs: int
    max_abs_logit_diff: float
    top1_agreement: float
    real_data: bool

    @property
    def ok(self) -> bool:
        return self.max_abs_logit_diff <= TOLERANCE and self.top1_agreement == 1.0

    def to_json(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "max_abs_logit_diff": self.max_abs_logit_diff,
                "top1_agreement": self.top1_agreement, "real_data": self.real_data, "ok": self.ok}  # fmt: skip


def _top1(logits: np.ndarray) -> np.ndarray:
    if logits.ndim == 3:  # ensemble members: softmax each, then average
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True)).mean(0).argmax(-1)
    return logits.argmax(-1)


def check_parity(model, path: str | Path, inputs: list[np.ndarray] | None = None, batch: int = 256) -> Parity:
    """Torch against onnxruntime on ``inputs`` (default: random inputs of the model's shapes)."""
    import torch

    real = inputs is not None
    inputs = inputs if inputs is not None else example_inputs(model, n=64)
    runner = OnnxRunner(path)
    module = model.torch_module().eval()
    worst, same, n = 0.0, 0, len(inputs[0])
    with torch.no_grad():
        for i in range(0, n, batch):
            part = [a[i : i + batch] for a in inputs]
            ref = module(*[torch.from_numpy(np.ascontiguousarray(a)) for a in part]).numpy()
            got = runner.run(*part)
            worst = max(worst, float(np.abs(ref - got).max()))
            same += int((_top1(ref) == _top1(got)).sum())
    return Parity(n, worst, same / max(n, 1), real)
