"""Trained models on disk: ``model.safetensors`` (weights) + ``model.json`` (labels, preprocessing).

Never pickle: safetensors holds only tensors, JSON holds everything else, so loading a model
from a stranger cannot run code. A model is found by a shipped name (``letters``), a run folder
holding model.json, or a path to the JSON file itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.errors import AslkitError, ModelError
from aslkit.kinds import InputKind, kind_of
from aslkit.models.registry import (
    MAX_SIZE,
    checked_kwargs,
    get_model_info,
    json_kind,
    list_models,
    short,
    tensor_shapes,
)
from aslkit.names import regular_file_problem, shown
from aslkit.outputs import atomic_write

BACKENDS = ("torch", "onnx")
FORMAT = "aslkit-model"
FORMAT_VERSION = 1
DEFAULT_MODEL = "letters"
MAX_JSON_BYTES = 64 * 2**20  # a model description is a few KB; even 100,000 labels fit in a few MB
MAX_WEIGHTS_BYTES = 4 * 2**30  # CLIP ViT-B/32 is 350 MB; nothing aslkit trains comes near this
MAX_LABEL_CHARS = 200
MAX_SEQUENCE_LENGTH = 1024  # frames a clip is resampled to (20 in the shipped models)
MAX_IMAGE_SIZE = 4096  # side an image model reads (224 at most in the registry)
_FLOAT_DTYPES = ("F16", "F32", "F64")  # safetensors' codes; all are read as float32


def shipped_models() -> dict[str, Path]:
    """Trained models that ship inside the package: name -> path of its JSON."""
    d = resources.files("aslkit").joinpath("weights")
    out = {}
    for p in sorted(Path(str(d)).glob("*.json")):
        if p.with_suffix(".safetensors").is_file():
            out[p.stem] = p
    return out


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

    def __repr__(self) -> str:
        """One line (the dataclass's own printed every weight: 90 KB for `letters`)."""
        n = sum(int(np.asarray(t).size) for t in self.tensors.values())
        where = f", source={self.source!r}" if self.source else ""
        return f"TrainedModel({self.architecture!r}, {len(self.labels)} labels, {n:,} weights{where})"

    @property
    def kind(self) -> InputKind:
        """What the model reads: its preprocessing's ``input``, else its architecture's (the one thing every
        caller branches on; ModelError for a kind this aslkit does not know)."""
        return kind_of(self.preprocessing, default=get_model_info(self.architecture).input)

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

            m = create_model(self.architecture, self.in_features, len(self.labels), **_own_weights(self.kwargs))
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
    if name_or_path is not None and not str(name_or_path).strip():  # "" is a slip, not a wish for the default
        raise ModelError("the model name is empty; give a shipped name, a run folder or a model.json")
    key = str(name_or_path) if name_or_path else DEFAULT_MODEL
    shipped = shipped_models()
    if key in shipped:
        return shipped[key]
    p = Path(key)
    if p.is_dir():
        return _folder_model(p)
    if p.is_file() and p.suffix == ".json":
        return p
    if p.is_file() and p.suffix == ".safetensors" and p.with_suffix(".json").is_file():
        return p.with_suffix(".json")
    if p.exists() or p.is_symlink():  # there, but not a model's file: say what it is, not "not found"
        why = regular_file_problem(p) or "not a model: give a run folder, a model.json or a NAME.safetensors"
        raise ModelError(f"model {shown(key)}: {why}")
    names = ", ".join(shipped) or "none"
    hint = ""
    if key.count("/") == 1 and not key.startswith((".", "/", "~")) and all(key.split("/")):
        hint = (f"; aslkit downloads nothing: fetch a Hugging Face repository first "
                f"(huggingface-cli download {key} --local-dir DIR) and give DIR")  # fmt: skip
    raise ModelError(f"model {key!r} not found: not a shipped model ({names}) nor a run folder or model.json{hint}")


def _folder_model(folder: Path) -> Path:
    """The model JSON of a folder: its model.json (an aslkit run folder), else its one ``NAME.json`` beside a
    ``NAME.safetensors`` (a folder a model was copied or downloaded into, model card and all)."""
    if (folder / "model.json").is_file():
        return folder / "model.json"
    if (folder / "model.json").exists() or (folder / "model.json").is_symlink():  # a FIFO, a device, a folder
        raise ModelError(f"{shown(folder / 'model.json')}: {regular_file_problem(folder / 'model.json')}")
    pairs = sorted(j for j in folder.glob("*.json") if j.is_file() and j.with_suffix(".safetensors").is_file())
    if len(pairs) == 1:
        return pairs[0]
    if pairs:
        found = ", ".join(shown(j.name) for j in pairs[:5])
        raise ModelError(f"{shown(folder)}: {len(pairs)} models in this folder ({found}); give one's .json")
    raise ModelError(f"{shown(folder)}: no model.json in this folder (is it an aslkit run folder?)")


def load_model(name_or_path: str | Path | None = None) -> TrainedModel:
    """Load a shipped model by name, or a trained one from its run folder or JSON file.

    A model file may come from a stranger, so everything it says is checked before anything is built
    (``check_spec``, ``check_tensors``): one ModelError line for any problem, never an IndexError at predict
    time, a wrong answer from a label list that does not fit the weights, or gigabytes allocated for
    ``dim=10**7``."""
    jpath = resolve_model_path(name_or_path)
    spec = read_spec(jpath)
    fields = check_spec(spec, shown(jpath))
    wpath = jpath.with_suffix(".safetensors")
    tensors = read_weights(wpath)
    check_tensors(tensors, fields["architecture"], fields["in_features"], fields["labels"], fields["kwargs"],
                  shown(wpath))  # fmt: skip
    return TrainedModel(**fields, tensors=tensors, source=str(jpath))


def describe_models() -> dict[str, list[dict[str, Any]]]:
    """What `aslkit models --json` prints: every registered architecture (what it reads, what it is, its
    training recipe) and every shipped trained model (its architecture, classes and labels; which is the
    default), each loaded, so a shipped model that cannot be read fails here, not at its first use."""
    arch = [_architecture(n) for n in list_models()]
    trained = []
    for name in shipped_models():
        m = load_model(name)
        trained.append({"name": name, "architecture": m.architecture, "classes": len(m.labels),
                        "default": name == DEFAULT_MODEL, "labels": m.labels})  # fmt: skip
    return {"architectures": arch, "trained": trained}


def describe_architecture(name: str) -> dict[str, Any] | None:
    """A registered architecture as `aslkit models NAME` shows it (what it reads, what it is, its recipe); None
    for a name that is not one, or that a shipped model also has (the model's card wins)."""
    if name not in list_models() or name in shipped_models():
        return None
    return _architecture(name)


def _architecture(name: str) -> dict[str, Any]:
    info = get_model_info(name)
    return {"name": name, "input": info.input, "description": info.description, "recipe": info.train_defaults}


def architecture_text(a: dict[str, Any]) -> str:
    recipe = ", ".join(f"{k}={v}" for k, v in a["recipe"].items())
    return f"{a['name']} [{a['input']}] {a['description']}" + (f"\nrecipe: {recipe}" if recipe else "")


def models_text(d: dict[str, list[dict[str, Any]]]) -> str:
    """What `aslkit models` prints for ``describe_models()``: one line per architecture (and its recipe), one
    per shipped model."""
    lines = ["registered architectures:"]
    for a in d["architectures"]:
        lines.append(f"  {a['name']:<22} [{a['input']}] {a['description']}")
        if a["recipe"]:
            lines.append(f"  {'':<22} recipe: {', '.join(f'{k}={v}' for k, v in a['recipe'].items())}")
    lines.append("shipped trained models:")
    for t in d["trained"]:
        flag = " (default)" if t["default"] else ""
        lines.append(f"  {t['name']:<22} {t['architecture']}, {t['classes']} classes{flag}")
    return "\n".join(lines)


def read_spec(jpath: Path) -> dict[str, Any]:
    """The parsed model.json (a dict in the aslkit format); ModelError if it cannot be read."""
    where = shown(jpath)
    why = regular_file_problem(jpath)
    if why is None and jpath.stat().st_size > MAX_JSON_BYTES:
        why = f"too large ({jpath.stat().st_size} bytes; at most {MAX_JSON_BYTES})"
    if why is not None:
        raise ModelError(f"{where}: cannot read model description ({why})")
    try:
        spec = json.loads(jpath.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: [[[[...]]]] nested 100,000 deep
        reason = "nested too deeply" if isinstance(exc, RecursionError) else _reason(exc)
        raise ModelError(f"{where}: cannot read model description ({reason})") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelError(f"{where}: not an aslkit model description")
    version = spec.get("format_version", 1)  # a newer file may mean something this aslkit would misread
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelError(
            f"{where}: model format version {short(version)}; this aslkit reads version {FORMAT_VERSION} (upgrade it?)"
        )
    return spec


def _reason(exc: BaseException) -> str:
    """An exception's message as one printable line of at most 200 characters (else its type's name)."""
    return shown((str(exc).strip().splitlines() or [""])[0][:200]) or type(exc).__name__


def _whole(value: Any, what: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ModelError(f"{what} must be a whole number, got {short(value)}")
    if not lo <= value <= hi:
        raise ModelError(f"{what} must be between {lo} and {hi}, got {value}")
    return value


def check_labels(labels: Any) -> list[str]:
    """A list of at least one label name: unique, non-empty strings without control characters."""
    if not isinstance(labels, list) or not labels:
        raise ModelError(f"labels must be a list of at least one label name, got {short(labels)}")
    for i, lab in enumerate(labels):
        if not isinstance(lab, str):
            raise ModelError(f"label {i} is {short(lab)}, not a string")
        if not lab.strip():
            raise ModelError(f"label {i} is empty")
        if not lab.isprintable():
            raise ModelError(f"label {i} ({short(lab)}) has control characters")
        if len(lab) > MAX_LABEL_CHARS:
            raise ModelError(f"label {i} is longer than {MAX_LABEL_CHARS} characters")
    if len(set(labels)) != len(labels):
        seen: set[str] = set()
        for lab in labels:
            if lab in seen:
                raise ModelError(f"label {short(lab)} appears more than once")
            seen.add(lab)
    return list(labels)


_PRE_TEXT = ("input", "layout", "features", "idle_label", "no_hand_label", "crop", "resample")
_PRE_UNIT = ("min_confidence", "second_view_below")  # probabilities


def check_preprocessing(pre: Any, architecture: str, in_features: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The values later code reads from ``preprocessing`` (``length``, ``layout``, ``views``, ``size``, ...)
    of the right type and range, and fitting the architecture; other keys are kept as they are."""
    if not isinstance(pre, dict):
        raise ModelError(f"preprocessing must be an object, got {json_kind(pre)}")
    for key in _PRE_TEXT:
        if key in pre and not isinstance(pre[key], str):
            raise ModelError(f"preprocessing {key} must be a string, got {short(pre[key])}")
    for key in ("idle_label", "no_hand_label"):  # printed as answers, like the labels themselves
        if key in pre:
            try:
                check_labels([pre[key]])
            except ModelError as exc:
                raise ModelError(f"preprocessing {key}: {str(exc).replace('label 0', 'the label')}") from None
    for key in _PRE_UNIT:
        v = pre.get(key, 0.0)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
            raise ModelError(f"preprocessing {key} must be a number from 0 to 1, got {short(v)}")
    if "pose_optional" in pre and not isinstance(pre["pose_optional"], bool):
        raise ModelError(f"preprocessing pose_optional must be true or false, got {short(pre['pose_optional'])}")
    views = pre.get("views", 1)
    if (
        isinstance(views, bool)
        or not isinstance(views, (int, str))
        or str(views).strip().lower() not in ("1", "2", "auto")
    ):
        raise ModelError(f"preprocessing views must be 1, 2 or auto, got {short(views)}")
    reads = get_model_info(architecture).input
    try:
        says = kind_of(pre, default=reads)
    except ModelError:  # a kind this aslkit does not know: said as "does not fit", as before
        says = None
    if says is not reads:
        raise ModelError(f"preprocessing input {pre['input']!r} does not fit {architecture!r}, which reads {reads}")
    if reads is InputKind.SEQUENCE:
        from aslkit.data.sequences import LAYOUTS
        from aslkit.landmarks.sequence_features import feature_width

        _whole(pre.get("length"), "preprocessing length (frames per clip)", 1, MAX_SEQUENCE_LENGTH)
        layout = LAYOUTS.get(pre.get("layout"))  # type: ignore[arg-type]  (a string, checked above)
        if layout is None:
            raise ModelError(f"preprocessing layout {short(pre.get('layout'))} is not one of {', '.join(LAYOUTS)}")
        if in_features != feature_width(layout):
            raise ModelError(f"in_features {in_features} does not fit layout {layout.name!r}, whose frames give "
                             f"{feature_width(layout)} features")  # fmt: skip
    if reads is InputKind.LANDMARKS:  # features this aslkit computes, or a model that would read them wrong
        from aslkit.landmarks.features import CANONICAL_HANDEDNESS, FEATURE_SET

        for key, ours in (("features", FEATURE_SET), ("canonical_handedness", CANONICAL_HANDEDNESS),
                          ("hand_choice", "largest")):  # fmt: skip
            if key in pre and pre[key] != ours:
                raise ModelError(f"preprocessing {key} {short(pre[key])} is not this aslkit's {ours!r}; retrain it")
    if reads is InputKind.IMAGE:
        size = _whole(pre.get("size"), "preprocessing size (image side in pixels)", 1, MAX_IMAGE_SIZE)
        if kwargs.get("image_size", size) != size:
            raise ModelError(f"preprocessing size {size} differs from the option image_size={kwargs['image_size']}")
    return dict(pre)


def check_spec(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """TrainedModel's fields from a parsed model.json, each checked (see load_model); ``where`` names the file."""
    try:
        for key in ("architecture", "labels", "in_features"):
            if key not in spec:
                raise ModelError(f"missing field {key!r}")
        arch = spec["architecture"]
        if not isinstance(arch, str):
            raise ModelError(f"architecture must be a name, got {short(arch)}")
        get_model_info(arch)
        labels = check_labels(spec["labels"])
        in_features = _whole(spec["in_features"], "in_features", 1, MAX_SIZE)
        kwargs = checked_kwargs(arch, spec.get("kwargs", {}))
        preprocessing = check_preprocessing(spec.get("preprocessing", {}), arch, in_features, kwargs)
        meta = spec.get("meta", {})
        if not isinstance(meta, dict):
            raise ModelError(f"meta must be an object, got {json_kind(meta)}")
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None
    return {"architecture": arch, "kwargs": kwargs, "labels": labels, "in_features": in_features,
            "preprocessing": preprocessing, "meta": dict(meta)}  # fmt: skip


def read_weights(wpath: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as float32; ModelError if it cannot be read, is too large or holds
    anything but float tensors. The header is read first: a bfloat16 or integer tensor is named, not loaded."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    where = shown(wpath)
    why = regular_file_problem(wpath)  # a FIFO would block
    if why is None and wpath.stat().st_size > MAX_WEIGHTS_BYTES:
        why = f"too large ({wpath.stat().st_size} bytes; at most {MAX_WEIGHTS_BYTES} bytes)"
    if why is not None:
        raise ModelError(f"{where}: cannot read weights ({why})")
    try:
        with safe_open(str(wpath), framework="numpy") as f:
            dtypes = {k: f.get_slice(k).get_dtype() for k in f.keys()}  # noqa: SIM118  (not a dict)
        bad = next((k for k, d in dtypes.items() if d not in _FLOAT_DTYPES), None)
        if bad is not None:
            raise ModelError(f"{where}: tensor {short(bad)} is {_dtype_name(dtypes[bad])}, not float16/32/64")
        tensors = load_file(str(wpath))
    except AslkitError:
        raise
    except Exception as exc:  # SafetensorError, and whatever else a damaged file makes the reader raise
        raise ModelError(f"{where}: cannot read weights ({_reason(exc)})") from None
    return {k: np.asarray(v, np.float32) for k, v in tensors.items()}


def _dtype_name(code: str) -> str:
    """numpy's name for a safetensors dtype code (I32 -> int32, BF16 -> bfloat16)."""
    if code in ("BOOL", "BF16"):
        return {"BOOL": "bool", "BF16": "bfloat16"}[code]
    prefix = {"I": "int", "U": "uint", "F": "float", "C": "complex"}.get(code[:1])
    return prefix + code[1:].lower() if prefix and code[1:2].isdigit() else code.lower()


def _own_weights(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Builder options for a saved model: it carries its own weights, so ``pretrained`` is never read
    (a model file must not make aslkit open another file, or a FIFO that blocks)."""
    return {**kwargs, "pretrained": ""} if "pretrained" in kwargs else kwargs


def _output_size(want: tuple[int, ...], got: tuple[int, ...], n_labels: int) -> int | None:
    """The weights' number of outputs, when ``got`` differs from ``want`` only where ``want`` has n_labels."""
    if len(want) != len(got):
        return None
    diff = {g for w, g in zip(want, got, strict=True) if w != g}
    if len(diff) != 1 or any(w != n_labels for w, g in zip(want, got, strict=True) if w != g):
        return None
    return diff.pop()


def _check_finite(tensors: dict[str, np.ndarray], where: str) -> None:
    """Weights with NaN or infinity give NaN for every answer (and NaN is not JSON): refused when loaded."""
    for k, v in tensors.items():
        if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all():
            raise ModelError(f"{where}: weight {shown(k)[:100]} holds NaN or infinite values")


def check_tensors(
    tensors: dict[str, np.ndarray], architecture: str, in_features: int, labels: list[str], kwargs: dict, where: str
) -> None:
    """The weights hold exactly the tensors the architecture with these options expects, each of its shape;
    ModelError naming what differs (and "N labels but M outputs" when only the label count is wrong)."""
    n = len(labels)
    try:
        want = tensor_shapes(architecture, in_features, n, _own_weights(kwargs))
    except AslkitError as exc:
        raise ModelError(f"{where}: {exc}") from None
    except Exception as exc:  # the builder refusing options that pass the generic checks (dropout=5, heads=7)
        raise ModelError(
            f"{where}: cannot build {architecture!r} with the options in its JSON ({_reason(exc)})"
        ) from None
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    missing = [k for k in want if k not in got]
    unexpected = [k for k in got if k not in want]
    # a 0-d tensor (BatchNorm's num_batches_tracked) may be stored as (1,): torch loads that too
    wrong = [k for k in want if k in got and got[k] != tuple(want[k]) and not (want[k] == () and got[k] == (1,))]
    if not (missing or unexpected or wrong):
        _check_finite(tensors, where)
        return
    if wrong and not (missing or unexpected):
        outputs = {_output_size(tuple(want[k]), got[k], n) for k in wrong}
        if len(outputs) == 1 and None not in outputs:
            raise ModelError(f"{where}: the model lists {n} labels but its weights give {outputs.pop()} outputs")

    def some(items: list[str]) -> str:
        return ", ".join(shown(k)[:100] for k in items[:3]) + (", ..." if len(items) > 3 else "")

    problems = [f"{len(missing)} missing ({some(missing)})"] if missing else []
    problems += [f"{len(unexpected)} unexpected ({some(unexpected)})"] if unexpected else []
    if wrong:
        problems.append(
            f"{len(wrong)} of another shape ({some([f'{k} {got[k]}, expected {tuple(want[k])}' for k in wrong])})"
        )
    raise ModelError(
        f"{where}: weights do not fit {architecture!r} with the options in its JSON: {'; '.join(problems)}"
    )
