"""A light temporal convolution network over landmark frames: the fast sequence model.

Why: the strongest isolated-sign models on landmark data (Kaggle's Google ISLR winners) are stacks of
1-D depthwise convolutions over frames, not recurrent networks; they run in parallel over time, so a
20-frame clip costs a fraction of a millisecond on a CPU. Residual blocks of depthwise (k=5) plus
pointwise convolutions, then mean and max pooling over the real frames.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from aslkit.errors import ModelError
from aslkit.models._sequence_base import masked_max, masked_mean, zero_masked
from aslkit.models.registry import register_model


class _Block(nn.Module):
    def __init__(self, dim: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim),
            nn.BatchNorm1d(dim),
            nn.Conv1d(dim, 2 * dim, 1),
            nn.SiLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv1d(2 * dim, dim, 1),
        )

    def forward(self, h: torch.Tensor, m: torch.Tensor) -> torch.Tensor:  # h (N, D, T), m (N, 1, T)
        return (h + self.body(h)) * m


class SeqTCN(nn.Module):
    """(N, T, F) + mask -> linear stem -> residual depthwise-conv blocks -> [mean, max] pool -> logits."""

    def __init__(self, in_features: int, num_classes: int, dim: int, blocks: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(in_features, dim), nn.LayerNorm(dim), nn.SiLU(inplace=True))
        self.blocks = nn.ModuleList(_Block(dim, kernel, dropout) for _ in range(blocks))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * dim, num_classes))

    def embed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, T, F) + mask -> (N, 2 * dim) pooled clip features: what the head reads, and what a sign
        dictionary compares."""
        m = mask.unsqueeze(1).to(x.dtype)
        h = zero_masked(self.stem(x), mask).transpose(1, 2)
        for block in self.blocks:
            h = block(h, m)
        h = h.transpose(1, 2)
        return torch.cat([masked_mean(h, mask), masked_max(h, mask)], dim=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x, mask))


@register_model(
    "seq-tcn",
    input="sequence",
    description="light temporal CNN: linear stem 192, 4 residual depthwise-conv blocks (k=5), mean+max pooling",
    train_defaults={
        "epochs": 80,
        "batch_size": 64,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "patience": 15,
        "grad_clip": 1.0,
    },  # fmt: skip
    limits={"blocks": (0, 64), "kernel": (1, 63)},
    dim=192,
    blocks=4,
    kernel=5,
    dropout=0.3,
)
def seq_tcn(in_features: int, num_classes: int, **kw: Any) -> SeqTCN:
    if kw["kernel"] % 2 == 0:  # "same" padding needs an odd kernel, else each block adds a frame
        raise ModelError(f"seq-tcn needs an odd kernel, not {kw['kernel']}")
    return SeqTCN(in_features, num_classes, kw["dim"], kw["blocks"], kw["kernel"], kw["dropout"])
