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

from collections.abc import Sequence

import torch
from torch import nn

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
