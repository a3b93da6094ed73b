"""clip-vit-b32 at a tiny random size: trains, reads local Hugging Face folders (never the hub), freezes, saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in these tests may reach the network

from aslkit.errors import ModelError  # noqa: E402
from aslkit.models import create_model, get_model_info  # noqa: E402
from aslkit.models.clip_vit import CLIP_MEAN, CLIP_STD, resolved_kwargs  # noqa: E402
from aslkit.models.io import TrainedModel, load_model  # noqa: E402
from aslkit.models.registry import model_kwargs  # noqa: E402

NAME = "clip-vit-b32"
TINY = dict(
    image_size=64, patch_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
)
C = 4


def _tiny_vision_config():
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(**TINY)


def _batch(n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 64, 64, generator=g), torch.arange(n) % C


def _eval_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(x), y))


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def vision_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A tiny random CLIPVisionModel saved with save_pretrained (config.json + model.safetensors)."""
    from transformers import CLIPVisionModel

    torch.manual_seed(123)
    hf = CLIPVisionModel(_tiny_vision_config())
    d = tmp_path_factory.mktemp("clip-vision")
    hf.save_pretrained(d)
    assert (d / "model.safetensors").is_file()
    return d, _state(hf.vision_model)


# ---- registry entry -----------------------------------------------------------------------------------------
def test_registered_with_vit_b32_defaults_and_the_model_card_recipe() -> None:
    info = get_model_info(NAME)
    assert info.input == "image"
    d = info.defaults
    assert (d["image_size"], d["patch_size"], d["hidden_size"], d["num_hidden_layers"]) == (224, 32, 768, 12)
    assert (d["num_attention_heads"], d["intermediate_size"], d["dropout"], d["pretrained"]) == (12, 3072, 0.1, "")
    assert info.train_defaults == {
        "lr": 1e-5,
        "batch_size": 32,
        "epochs": 10,
        "scheduler": "step",
        "step_size": 5,
        "gamma": 0.1,
    }


def test_importing_aslkit_does_not_import_transformers() -> None:
    code = (
        "import sys, aslkit, aslkit.models\n"
        "assert 'clip-vit-b32' in aslkit.models.list_models()\n"
        "bad = sorted(m for m in sys.modules if m == 'transformers' or m.startswith('transformers.'))\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout, out.stdout


# ---- training -------------------------------------------------------------------------------------------------
def test_forward_backward_and_a_few_steps_reduce_the_loss() -> None:
    torch.manual_seed(0)
    model = create_model(NAME, 3, C, **TINY)
    x, y = _batch()
    assert torch.allclose(model.mean.flatten(), torch.tensor(CLIP_MEAN))
    assert torch.allclose(model.std.flatten(), torch.tensor(CLIP_STD))
    model.eval()
    with torch.no_grad():  # the module normalizes [0, 1] RGB with CLIP's statistics itself
        z = (x - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
        torch.testing.assert_close(model(x), model.head(model.encoder(pixel_values=z).pooler_output))
    model.train()
    out = model(x)
    assert out.shape == (8, C) and torch.isfinite(out).all()
    torch.nn.functional.cross_entropy(out, y).backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert float(grads["head.weight"].abs().sum()) > 0
    assert float(grads["encoder.vision_model.embeddings.patch_embedding.weight"].abs().sum()) > 0

    before = _eval_loss(model, x, y)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(15):
        model.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    after = _eval_loss(model, x, y)
    assert after < before * 0.7, (before, after)


def test_blocks_and_set_trainable() -> None:
    torch.manual_seed(0)
    model = create_model(NAME, 3, C, **TINY)
    vm = model.encoder.vision_model
    blocks = model.blocks()
    assert len(blocks) == TINY["num_hidden_layers"] + 1
    first = {id(p) for p in blocks[0].parameters()}
    last = {id(p) for p in blocks[-1].parameters()}
    assert {id(p) for p in vm.embeddings.parameters()} <= first
    assert {id(p) for p in vm.encoder.layers[-1].parameters()} | {id(p) for p in vm.post_layernorm.parameters()} == last
    n_backbone = sum(p.numel() for b in blocks for p in b.parameters())
    assert n_backbone == sum(p.numel() for p in model.encoder.parameters()), "blocks cover the whole encoder"

    x, y = _batch()

    def step() -> dict[str, torch.Tensor]:
        before = _state(model)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        model.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        after = model.state_dict()
        return {k for k in before if not torch.equal(before[k], after[k])}

    model.set_trainable(0)
    changed = step()
    assert changed == {"head.weight", "head.bias"}

    model.set_trainable(1)
    changed = step()
    assert {"head.weight", "encoder.vision_model.post_layernorm.weight"} <= changed
    assert "encoder.vision_model.encoder.layers.1.mlp.fc1.weight" in changed
    assert not any(k.startswith("encoder.vision_model.encoder.layers.0.") for k in changed)
    assert not any("embeddings" in k for k in changed)

    model.set_trainable(-1)
    changed = step()
    assert "encoder.vision_model.embeddings.patch_embedding.weight" in changed
    assert "encoder.vision_model.encoder.layers.0.self_attn.q_proj.weight" in changed


# ---- pretrained folders -----------------------------------------------------------------------------------------
def test_pretrained_clip_vision_folder(vision_folder) -> None:
    folder, saved = vision_folder
    heads = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        model = create_model(NAME, 3, C, **TINY, pretrained=str(folder))
        got = model.encoder.vision_model.state_dict()
        assert set(got) == set(saved)
        for k, v in saved.items():
            assert torch.equal(got[k], v), k
        assert model.head.weight.shape == (C, TINY["hidden_size"])
        heads.append(model.head.weight.detach().clone())
        assert model.pretrained_source == str(folder) and model.pretrained_overrides == {}
    assert not torch.equal(heads[0], heads[1]), "the head is new, not read from the folder"


def test_folder_config_wins_over_the_size_kwargs_and_is_what_gets_saved(vision_folder) -> None:
    folder, saved = vision_folder
    with pytest.warns(UserWarning, match="folder's config is used"):
        model = create_model(NAME, 3, C, image_size=64, pretrained=str(folder))  # other sizes: ViT-B/32's
    kw = resolved_kwargs(model)
    assert kw == {**model_kwargs(NAME), **TINY, "pretrained": ""}
    assert model.pretrained_overrides["hidden_size"] == (768, 32)
    assert model.pretrained_overrides["patch_size"] == (32, 16)
    for k, v in saved.items():
        assert torch.equal(model.encoder.vision_model.state_dict()[k], v), k
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rebuilt = create_model(NAME, 3, C, **kw)
    rebuilt.load_state_dict(model.state_dict())  # strict: same architecture


@pytest.mark.parametrize("side", [32, 128])
def test_another_image_size_resamples_the_position_embeddings(vision_folder, side: int) -> None:
    folder, saved = vision_folder
    with pytest.warns(UserWarning, match=f"trained at 64 px; position embeddings resampled to {side} px"):
        model = create_model(NAME, 3, C, **{**TINY, "image_size": side}, pretrained=str(folder))
    grid = side // TINY["patch_size"]
    got = model.encoder.vision_model.state_dict()
    pos = got["embeddings.position_embedding.weight"]
    assert pos.shape == (1 + grid * grid, TINY["hidden_size"])
    assert torch.equal(pos[0], saved["embeddings.position_embedding.weight"][0]), "the CLS position is kept"
    assert all(torch.equal(got[k], v) for k, v in saved.items() if "position" not in k)
    kw = resolved_kwargs(model)
    assert kw["image_size"] == side and model.pretrained_image_size == 64
    out = model.eval()(torch.rand(2, 3, side, side))
    assert out.shape == (2, C) and torch.isfinite(out).all()
    create_model(NAME, 3, C, **kw).load_state_dict(model.state_dict())
    with pytest.raises(ModelError, match="not a multiple of the patch size 16"):
        create_model(NAME, 3, C, **{**TINY, "image_size": 40}, pretrained=str(folder))


@pytest.mark.parametrize("safetensors", [True, False], ids=["safetensors", "pytorch_model.bin"])
def test_pretrained_full_clip_model_folder_gives_its_vision_tower(tmp_path: Path, safetensors: bool) -> None:
    from transformers import CLIPConfig, CLIPModel, CLIPTextConfig

    text = CLIPTextConfig(
        vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2
    )
    text.max_position_embeddings = 16
    torch.manual_seed(7)
    hf = CLIPModel(
        CLIPConfig(text_config=text.to_dict(), vision_config=_tiny_vision_config().to_dict(), projection_dim=16)
    )
    hf.save_pretrained(tmp_path, safe_serialization=safetensors)
    assert (tmp_path / ("model.safetensors" if safetensors else "pytorch_model.bin")).is_file()
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "clip"

    model = create_model(NAME, 3, C, **TINY, pretrained=str(tmp_path))
    got = model.encoder.vision_model.state_dict()
    for k, v in hf.vision_model.state_dict().items():
        assert torch.equal(got[k], v), k
    assert not any("text" in k or "projection" in k for k in model.state_dict())


def _missing(d: Path) -> Path:
    return d / "absent"


def _empty(d: Path) -> Path:
    return d


def _bert(d: Path) -> Path:
    (d / "config.json").write_text(
        json.dumps({"model_type": "bert", "hidden_size": 32, "architectures": ["BertModel"]})
    )
    (d / "model.safetensors").write_bytes(b"")
    return d


def _config_only(d: Path) -> Path:
    (d / "config.json").write_text(json.dumps({"model_type": "clip_vision_model", **TINY}))
    return d


def _bad_json(d: Path) -> Path:
    (d / "config.json").write_text("{not json")
    return d


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing, "not found"),
        (_empty, "no config.json"),
        (_bert, "'bert' model, not CLIP"),
        (_config_only, "no model.safetensors or pytorch_model.bin"),
        (_bad_json, "cannot read"),
    ],
    ids=["missing", "empty", "bert", "no-weights", "bad-json"],
)
def test_unusable_pretrained_folders_raise_model_error(tmp_path: Path, make, message: str) -> None:
    folder = make(tmp_path)
    with pytest.raises(ModelError, match=message) as err:
        create_model(NAME, 3, C, **TINY, pretrained=str(folder))
    assert "\n" not in str(err.value)


def test_weights_without_a_vision_tower_raise_model_error(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "clip_vision_model", **TINY}))
    save_file({"text_model.embeddings.weight": torch.zeros(2, 2)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ModelError, match="no CLIP vision-tower weights"):
        create_model(NAME, 3, C, **TINY, pretrained=str(tmp_path))


# ---- saving -------------------------------------------------------------------------------------------------------
def test_save_load_round_trip(vision_folder, tmp_path: Path) -> None:
    folder, _ = vision_folder
    torch.manual_seed(3)
    model = create_model(NAME, 3, C, **TINY, pretrained=str(folder))
    with torch.no_grad():
        model.head.weight.mul_(30.0)  # outputs far from uniform, so agreement means something
    model.eval()
    kwargs = resolved_kwargs(model)
    assert kwargs == {**model_kwargs(NAME), **TINY, "pretrained": ""}
    labels = ["A", "B", "C", "D"]
    tm = TrainedModel.from_torch(model, NAME, kwargs, labels, 3, {"input": "image", "size": 64}, {})
    tm.save(tmp_path / "run")

    x, _ = _batch(6, seed=5)
    with torch.no_grad():
        ref = model(x).softmax(-1).numpy()
    loaded = load_model(tmp_path / "run")
    got = loaded.predict_proba(x.numpy())
    assert got.shape == (6, C)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert np.abs(ref - 1 / C).max() > 0.05
