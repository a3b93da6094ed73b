"""Every registered sequence model: shapes, masks, gradients, learning, safetensors round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aslkit.models import create_model, get_model_info, list_models

SEQUENCE_MODELS = [n for n in list_models() if get_model_info(n).input == "sequence"]
F, T, C = 16, 20, 4


def _batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A toy task a sequence model must look over time for: the class is where (which quarter of the
    clip) a bump appears in feature 0; clips have different lengths (padded at the end)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, T, F, generator=g) * 0.1
    y = torch.arange(n) % C
    lengths = torch.randint(12, T + 1, (n,), generator=g)
    mask = torch.arange(T)[None] < lengths[:, None]
    for i in range(n):
        q = int(lengths[i]) // C
        x[i, y[i] * q : (y[i] + 1) * q, 0] += 2.0
    return x, mask, y


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
def test_forward_backward_and_learning(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, F, C)
    x, mask, y = _batch(32)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    loss = torch.nn.functional.cross_entropy(model(x, mask), y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x, mask), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    xt, mt, yt = _batch(32, seed=1)
    with torch.no_grad():
        acc = (model(xt, mt).argmax(1) == yt).float().mean().item()
    assert acc >= 0.75, f"{name} did not learn where in time the bump is (acc {acc:.2f})"


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
