"""Conv1d + bidirectional LSTM + attention over landmark frames: the seeds' word-sign model.

Why this shape: the 1-D convolutions see a few neighbouring frames (a local motion: a flick, a tap),
the BiLSTM carries order over the whole clip (hello starts at the forehead and moves out), and
attention pooling lets the frames that carry the sign outweigh the idle ones before and after it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from aslkit.models._sequence_base import AttentionPool, zero_masked
from aslkit.models.registry import register_model


class SeqLSTMAttention(nn.Module):
    """(N, T, F) + mask (N, T) -> conv 128 -> conv 256 -> 2-layer BiLSTM -> attention pool -> MLP -> logits."""

    def __init__(self, in_features: int, num_classes: int, conv: tuple[int, int], hidden: int, layers: int,
                 head: int, dropout: float) -> None:  # fmt: skip
        super().__init__()
        c1, c2 = conv
        self.conv = nn.Sequential(
            nn.Conv1d(in_features, c1, 3, padding=1),
            nn.BatchNorm1d(c1),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv1d(c1, c2, 3, padding=1),
            nn.BatchNorm1d(c2),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.lstm = nn.LSTM(c2, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)  # fmt: skip
        self.pool = AttentionPool(2 * hidden)
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, head), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(head, num_classes)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.conv(zero_masked(x, mask).transpose(1, 2)).transpose(1, 2)
        h, _ = self.lstm(zero_masked(h, mask))
        return self.head(self.pool(h, mask))


_RECIPE = {"epochs": 60, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-4, "patience": 12, "grad_clip": 1.0}


@register_model(
    "seq-lstm-attn",
    input="sequence",
    description="Conv1d 128 -> 256 + 2-layer BiLSTM (hidden 256) + attention pooling over valid frames, "
    "MLP 512 -> 256 -> classes",
    train_defaults=_RECIPE,
    limits={"layers": (1, 16)},
    conv=(128, 256),
    hidden=256,
    layers=2,
    head=256,
    dropout=0.3,
)
def seq_lstm_attn(in_features: int, num_classes: int, **kw: Any) -> SeqLSTMAttention:
    return SeqLSTMAttention(in_features, num_classes, tuple(kw["conv"]), kw["hidden"], kw["layers"], kw["head"],
                            kw["dropout"])  # fmt: skip
