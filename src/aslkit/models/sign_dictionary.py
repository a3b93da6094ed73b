"""A sign dictionary: new signs from a few examples, with no training of the network.

Why: a user who needs a sign the shipped model does not know has a clip or two of it, not hundreds. A
sequence encoder trained across many signers (seq-tcn's stem and blocks) turns each example into a
pooled clip embedding; a word's prototype is the mean of its examples' unit embeddings, and a clip is
scored by its cosine similarity to each prototype (times ``scale``, so the softmax reads as confidence).
Adding a word adds a row, and adding an example to a word adds to its sum, so a dictionary grows
without retraining anything. ``prototypes`` holds the sums and ``counts`` the examples behind each.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from aslkit.models.registry import register_model
from aslkit.models.seq_tcn import SeqTCN, seq_tcn

ENCODER = "seq-tcn"  # the architecture whose trunk a dictionary embeds with


class SignDictionary(nn.Module):
    """(N, T, F) + mask -> scale * cosine(clip embedding, each word's prototype)."""

    def __init__(self, in_features: int, num_classes: int, dim: int, blocks: int, kernel: int, scale: float) -> None:
        super().__init__()
        self.encoder: SeqTCN = seq_tcn(in_features, 1, dim=dim, blocks=blocks, kernel=kernel, dropout=0.0)
        self.encoder.head = nn.Identity()  # the encoder's own classes are not this model's words
        self.prototypes = nn.Parameter(torch.randn(num_classes, 2 * dim))
        self.register_buffer("counts", torch.zeros(num_classes))
        self.scale = scale

    def embed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unit-length clip embeddings (N, 2 * dim)."""
        return F.normalize(self.encoder.embed(x, mask), dim=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.scale * self.embed(x, mask) @ F.normalize(self.prototypes, dim=1).T


@register_model(
    "sign-dictionary",
    input="sequence",
    description="signs by example: a seq-tcn encoder trained across signers, one prototype per word (cosine); "
    "built from a few clips per word with `train --model sign-dictionary`, grown with --add",
    limits={"blocks": (0, 64), "kernel": (1, 63)},
    dim=192,
    blocks=4,
    kernel=5,
    scale=30.0,
)
def sign_dictionary(in_features: int, num_classes: int, **kw: Any) -> SignDictionary:
    return SignDictionary(in_features, num_classes, kw["dim"], kw["blocks"], kw["kernel"], kw["scale"])
