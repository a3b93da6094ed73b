"""Every registered architecture (timm style): builds, runs forward/backward, and its NumPy path agrees."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_TRANSFORMER, bump_clips

from aslkit.errors import ModelError
from aslkit.landmarks.features import feature_dim
from aslkit.models import create_model, get_model_info, list_models, register_model
from aslkit.models.io import TrainedModel, load_model
from aslkit.models.registry import model_kwargs

NUM_CLASSES = 5
ALL_MODELS = list_models()
# Landmark models' save/load and NumPy checks; image and sequence models have theirs in their own files.
LANDMARK_MODELS = [n for n in ALL_MODELS if get_model_info(n).input == "hand-landmarks"]


def _logits_to_probs(out: torch.Tensor) -> torch.Tensor:
    probs = out.softmax(-1)
    return probs.mean(0) if probs.dim() == 3 else probs


def _loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.dim() == 3:
        return sum(torch.nn.functional.cross_entropy(m, y) for m in out) / len(out)
    return torch.nn.functional.cross_entropy(out, y)


def test_registry_lists_the_documented_models() -> None:
    assert "landmark-mlp" in ALL_MODELS and "landmark-mlp-tiny" in ALL_MODELS
    assert sorted(ALL_MODELS) == ALL_MODELS
    for name in ALL_MODELS:
        info = get_model_info(name)
        assert info.name == name and info.description and info.input


def test_unknown_model_and_option() -> None:
    with pytest.raises(ModelError, match="unknown model architecture 'resnet-9000'"):
        create_model("resnet-9000", 10, 2)
    name = LANDMARK_MODELS[0]
    with pytest.raises(ModelError, match="no option"):
        model_kwargs(name, not_an_option=3)


def test_registering_a_name_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_model("landmark-mlp", input="hand-landmarks", description="dup")(lambda i, c: None)


@dataclass(frozen=True)
class Task:
    """What one input kind gives a model in these tests (timm style: each task's dummy input): tiny build
    options, a batch ``(inputs, y)`` and how the model must learn it."""

    in_features: int
    batch: Callable[[int], tuple[tuple[torch.Tensor, ...], torch.Tensor]]  # seed -> (inputs, labels)
    steps: int
    optimizer: Callable[..., torch.optim.Optimizer]
    clip: float | None = None
    classes: int = NUM_CLASSES


def _landmark_batch(seed: int) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    torch.manual_seed(seed)
    return (torch.randn(12, feature_dim()),), torch.arange(12) % NUM_CLASSES


def _image_batch(seed: int) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(8, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g),), torch.arange(8) % NUM_CLASSES


def _sequence_batch(seed: int) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    x, mask, y = bump_clips(32, seed, 20, 16, 4)
    return (x, mask), y


TASKS = {
    "hand-landmarks": Task(feature_dim(), _landmark_batch, 25, lambda p: torch.optim.Adam(p, lr=1e-2)),
    "image": Task(3, _image_batch, 10, lambda p: torch.optim.Adam(p, lr=1e-3)),
    "sequence": Task(16, _sequence_batch, 60, lambda p: torch.optim.AdamW(p, lr=3e-3), 1.0, 4),
}
IMAGE_SIZE = 64


def _tiny_kwargs(name: str) -> dict:
    """Registered defaults made small and fast, never reading pretrained files (none exist offline)."""
    defaults = get_model_info(name).defaults
    over: dict = {}
    if "hidden_size" in defaults:  # CLIP ViT: a two-layer transformer
        over.update({k: v for k, v in TINY_TRANSFORMER.items() if k in defaults})
    elif "image_size" in defaults:
        over["image_size"] = IMAGE_SIZE
    if "pretrained" in defaults:
        over["pretrained"] = ""
    return over


def test_every_input_kind_has_a_task() -> None:
    assert {get_model_info(n).input for n in ALL_MODELS} <= set(TASKS)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_build_forward_backward_and_it_learns(name: str) -> None:
    """Every registered model, fed its kind's dummy input: the output shape, finite non-zero gradients, and a
    few steps on one batch lower the loss (hand landmarks, images) or find where in time a bump is (clips)."""
    kind = get_model_info(name).input
    task = TASKS[kind]
    torch.manual_seed(0)
    model = create_model(name, task.in_features, task.classes, **_tiny_kwargs(name))
    x, y = task.batch(0)
    model.eval()
    with torch.no_grad():
        out = model(*x)
    assert out.shape[-2:] == (len(y), task.classes) and torch.isfinite(out).all()
    assert out.dim() in (2, 3) if kind == "hand-landmarks" else out.dim() == 2  # ensembles: (members, N, C)
    if kind == "image":
        assert float((out[0] - out[1]).abs().max()) > 0, "different images, different logits"

    model.train()
    _loss(model(*x), y).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0

    opt = task.optimizer(model.parameters())
    model.eval()
    with torch.no_grad():
        before = float(_loss(model(*x), y))
    losses = []
    for _ in range(task.steps):
        model.train()
        opt.zero_grad()
        loss = _loss(model(*x), y)
        loss.backward()
        if task.clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), task.clip)
        opt.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses))
    model.eval()
    if kind == "hand-landmarks":
        with torch.no_grad():
            after = float(_loss(model(*x), y))
        assert after < before * 0.7, (before, after)
    elif kind == "image":  # train-mode losses on one batch (dropout and stochastic depth make single steps noisy)
        assert min(losses[-3:]) < 0.6 * losses[0], losses
    else:
        xt, yt = task.batch(1)
        with torch.no_grad():
            acc = (model(*xt).argmax(1) == yt).float().mean().item()
        assert acc >= 0.75, f"{name} did not learn where in time the bump is (acc {acc:.2f})"


@pytest.mark.parametrize("name", LANDMARK_MODELS)
def test_kwargs_override(name: str) -> None:
    info = get_model_info(name)
    kw = model_kwargs(name)
    assert kw == info.defaults
    if "hidden" in kw:
        small = create_model(name, feature_dim(), NUM_CLASSES, hidden=8)
        big = create_model(name, feature_dim(), NUM_CLASSES)
        n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        assert n(small) < n(big)


def _randomized(name: str, seed: int = 0) -> torch.nn.Module:
    """A model whose every parameter and normalization buffer is far from its initial value."""
    torch.manual_seed(seed)
    model = create_model(name, in_features=feature_dim(), num_classes=NUM_CLASSES)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    if hasattr(model, "set_normalization"):
        rng = np.random.default_rng(seed)
        model.set_normalization(rng.normal(0, 1, feature_dim()), rng.uniform(0.2, 3.0, feature_dim()))
    return model.eval()


@pytest.mark.parametrize("name", LANDMARK_MODELS)
def test_save_load_round_trip_and_numpy_matches_torch(name: str, tmp_path: Path) -> None:
    from safetensors import safe_open

    model = _randomized(name)
    labels = ["A", "B", "C", "Del", "hello"]
    tm = TrainedModel.from_torch(
        model, name, model_kwargs(name), labels, feature_dim(), {"input": "hand-landmarks"}, {"note": "test"}
    )
    jpath = tm.save(tmp_path / "run", "model")
    assert jpath == tmp_path / "run" / "model.json"
    spec = json.loads(jpath.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert spec["architecture"] == name and spec["labels"] == labels and spec["in_features"] == feature_dim()
    wpath = tmp_path / "run" / "model.safetensors"
    with safe_open(str(wpath), framework="numpy") as f:
        keys = set(f.keys())
    assert keys == set(model.state_dict())
    assert not wpath.read_bytes().startswith(b"\x80"), "not a pickle stream"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.json", "model.safetensors"]

    loaded = load_model(tmp_path / "run")
    assert loaded.labels == labels and loaded.meta == {"note": "test"}
    x = np.random.default_rng(1).normal(0, 2, (16, feature_dim())).astype(np.float32)
    with torch.no_grad():
        ref = _logits_to_probs(model(torch.from_numpy(x))).numpy()
    got = loaded.predict_proba(x)
    assert got.shape == (16, NUM_CLASSES)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, ref, atol=1e-4)
    assert np.abs(ref - 1 / NUM_CLASSES).max() > 0.05, "the check is meaningful: outputs are not uniform"
    # the torch path of the loaded model agrees too
    with torch.no_grad():
        again = _logits_to_probs(loaded.torch_module()(torch.from_numpy(x))).numpy()
    np.testing.assert_allclose(again, ref, atol=1e-5)
    info = get_model_info(name)
    if info.numpy_predict is not None:
        np.testing.assert_allclose(info.numpy_predict(loaded.tensors, loaded.kwargs, x), ref, atol=1e-4)


def test_landmark_prediction_does_not_import_torch(tmp_path: Path) -> None:
    """Image architectures are imported only when asked for: `aslkit predict` with a landmark model
    starts in about a second because torch is never imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from aslkit.inference.recognizer import Recognizer\n"
        "from aslkit.models import get_model_info\n"
        "Recognizer('letters', cache_dir=None)\n"
        "get_model_info('landmark-mlp')\n"
        "print('torch' in sys.modules)\n"
        "get_model_info('cnn-small')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"], out


def test_the_predict_command_with_a_landmark_model_does_not_import_torch() -> None:
    """The whole front door, not only the recognizer: argparse, predict_files and the printing."""
    import subprocess
    import sys

    from conftest import shared_dir

    photo = next(iter(sorted((shared_dir("massey-letters") / "a").iterdir())))
    code = (
        "import sys\n"
        "from aslkit.cli import main\n"
        f"assert main(['predict', {str(photo)!r}, '--no-cache']) == 0\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-1] == "False", out
