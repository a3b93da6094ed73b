"""What every image classifier in the registry shares, so one trainer and one predictor serve them all.

Contract (checked by tests/test_registry.py for every model registered with ``input="image"``):

* registered with ``image_size`` among its defaults; the builder takes ``(in_channels, num_classes, **kw)``;
* ``forward`` takes float RGB in [0, 1], shape (N, 3, image_size, image_size), and returns logits (N, C):
  the ImageNet/CLIP normalization lives inside the module (``mean``/``std`` buffers), so a saved model
  needs nothing but its size to be fed;
* ``head`` is the classifier layer(s), new and trained from scratch;
* ``blocks()`` lists the backbone's stages from input to output, so fine-tuning can unfreeze the last
  few (``set_trainable(k)``: head only when k == 0, the whole network when k < 0);
* pretrained weights are read only when the builder's ``pretrained`` argument says where from, never
  downloaded; a trained model is rebuilt with ``pretrained=""`` and then gets its own weights.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from aslkit.errors import ModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassifier(nn.Module):
    """Base: input normalization, a backbone made of ordered blocks, a head."""

    head: nn.Module

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def blocks(self) -> list[nn.Module]:
        """Backbone stages in input-to-output order (subclasses override)."""
        raise NotImplementedError

    def set_trainable(self, last_blocks: int) -> None:
        """Freeze the backbone except its last ``last_blocks`` blocks; the head always trains.
        Negative: train everything. Frozen blocks also keep their BatchNorm statistics (eval mode
        is applied by ``train()`` below), as in the usual two-phase transfer recipe."""
        blocks = self.blocks()
        for p in self.parameters():
            p.requires_grad = last_blocks < 0
        if last_blocks >= 0:
            for b in blocks[len(blocks) - last_blocks :] if last_blocks else []:
                for p in b.parameters():
                    p.requires_grad = True
            for p in self.head.parameters():
                p.requires_grad = True
        self.train(self.training)

    def train(self, mode: bool = True) -> ImageClassifier:
        super().train(mode)
        if mode:  # frozen parts stay in eval mode: their BatchNorm statistics are ImageNet's
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in m.parameters()):
                    m.eval()
        return self


# ---- pretrained weights from a local file (every ImageNet backbone) ---------------------------------------
def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.pth``/``.pt`` file; ModelError (one line) if it cannot be read."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModelError(f"pretrained weights {p}: no such file")
    suffix = p.suffix.lower()
    if suffix not in (".safetensors", ".pth", ".pt"):
        raise ModelError(f"pretrained weights {p}: expected a .safetensors, .pth or .pt file")
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            sd: Any = load_file(str(p), device="cpu")
        else:  # weights_only: a pickle may hold tensors and plain containers, never code
            sd = torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's own message suggests weights_only=False: not for files from strangers
        reason = "not a plain tensor state dict; a .pth is read weights-only: save model.state_dict(), or .safetensors"
        raise ModelError(f"pretrained weights {p}: cannot read ({reason})") from None
    except Exception as exc:  # every other reader failure (truncated zip, bad header, ...) is one user error
        reason = (str(exc).strip().splitlines() or [""])[0][:160] or type(exc).__name__
        reason = "empty or truncated file" if isinstance(exc, EOFError) else reason
        raise ModelError(f"pretrained weights {p}: cannot read ({reason})") from None
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):  # a training checkpoint around it
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ModelError(f"pretrained weights {p}: not a state dict of tensors")
    return sd


def load_backbone(
    model: nn.Module, state: dict[str, torch.Tensor], source: str | Path, what: str, drop: tuple[str, ...]
) -> None:
    """Copy ``state`` into every backbone tensor of ``model`` (all but ``head.*`` and the normalization
    buffers); keys starting with ``drop`` (the ImageNet classifier) are ignored. Missing, unexpected or
    wrongly shaped keys raise ModelError naming the first few."""
    state = {k: v for k, v in state.items() if not k.startswith(drop)}
    own = {k: v for k, v in model.state_dict().items() if not k.startswith("head.") and k not in ("mean", "std")}
    # old checkpoints lack BatchNorm's num_batches_tracked: it only counts steps, the fresh 0 is fine
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    shape = [
        f"{k} {tuple(state[k].shape)}!={tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]

    def some(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")

    problems = [f"{len(missing)} keys missing ({some(missing)})"] if missing else []
    problems += [f"{len(unexpected)} unexpected ({some(unexpected)})"] if unexpected else []
    problems += [f"{len(shape)} of another shape ({some(shape)})"] if shape else []
    if problems:
        raise ModelError(f"pretrained weights {source}: not {what} weights: {'; '.join(problems)}")
    with torch.no_grad():
        for k, v in state.items():
            own[k].copy_(v)
