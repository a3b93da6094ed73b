"""What every sequence classifier in the registry shares (models registered with ``input="sequence"``).

Contract (checked for every such model by tests/test_sequence_models.py):

* the builder takes ``(in_features, num_classes, **kw)``; ``in_features`` is the width of a frame's
  features (``landmarks.sequence_features.feature_width``);
* ``forward(x, mask)`` takes float features (N, T, F) and a bool mask (N, T) of real frames and returns
  logits (N, C); what sits in masked frames never changes the answer;
* a clip with no real frame at all gets an answer from its (zero) frames rather than a NaN.
"""

from __future__ import annotations

import torch
from torch import nn


def safe_mask(mask: torch.Tensor) -> torch.Tensor:
    """The mask with all-empty rows opened up entirely, so pooling never divides by zero."""
    empty = ~mask.any(dim=1, keepdim=True)
    return mask | empty


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real frames of (N, T, D) -> (N, D)."""
    m = safe_mask(mask).unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1)


def masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = safe_mask(mask).unsqueeze(-1)
    return h.masked_fill(~m, torch.finfo(h.dtype).min).amax(1)


class AttentionPool(nn.Module):
    """Learned weights over real frames (a small MLP scores each frame; softmax over the valid ones):
    the frames that carry the sign count more than the idle ones around it."""

    def __init__(self, dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        s = self.score(h).squeeze(-1).masked_fill(~safe_mask(mask), float("-inf"))
        return (torch.softmax(s, dim=1).unsqueeze(-1) * h).sum(1)


def zero_masked(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Padded or empty frames as zeros, whatever the caller put there."""
    return x * mask.unsqueeze(-1).to(x.dtype)
