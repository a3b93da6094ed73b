"""Every registered sequence model: masks and safetensors round trip (build, forward, backward and learning:
test_registry.py, for every registered model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import bump_clips

from aslkit.models import create_model, get_model_info, list_models

SEQUENCE_MODELS = [n for n in list_models() if get_model_info(n).input == "sequence"]
F, T, C = 16, 20, 4


def _batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return bump_clips(n, seed, T, F, C)


def test_both_documented_sequence_models_are_registered() -> None:
    assert {"seq-lstm-attn", "seq-tcn"} <= set(SEQUENCE_MODELS)
    assert get_model_info("seq-lstm-attn").train_defaults["grad_clip"] == 1.0


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_masked_frames_never_change_the_answer(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, F, C).eval()
    x, mask, _ = _batch()
    noisy = x.clone()
    noisy[~mask] = torch.randn(int((~mask).sum()), F) * 50
    with torch.no_grad():
        a, b = model(x, mask), model(noisy, mask)
        empty = model(torch.zeros(2, T, F), torch.zeros(2, T, dtype=torch.bool))
    assert a.shape == (16, C) and torch.allclose(a, b, atol=1e-5)
    assert torch.isfinite(empty).all(), "a clip with no hand seen still gets finite logits"


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_safetensors_round_trip(name: str, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    model = create_model(name, F, C).eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / "m.safetensors")
    other = create_model(name, F, C).eval()
    other.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x, mask, _ = _batch()
    with torch.no_grad():
        assert torch.equal(model(x, mask), other(x, mask))
