"""Small convolutional networks trained from scratch on the user's images, no pretrained weights.

Why: they are the baselines that most ASL-alphabet tutorials report (a Keras ``Sequential`` of two
conv/pool blocks and a dense layer), they train in minutes on a CPU at 64 px, and they show how far a
model gets without ImageNet features, which matters when photos come from other people and rooms.
"""

from __future__ import annotations

import torch
from torch import nn

from aslkit.errors import ModelError
from aslkit.models._image_base import ImageClassifier
from aslkit.models.registry import register_model

_HALF = (0.5, 0.5, 0.5)  # scale [0, 1] to [-1, 1]; no pretrained statistics to match


def _check_rgb(name: str, in_channels: int) -> None:
    if in_channels != 3:
        raise ModelError(f"{name} reads RGB images (3 channels), not {in_channels}")


class SmallCNN(ImageClassifier):
    """The classic tutorial shape: 2 x (conv 3x3 + ReLU + max-pool 2), flatten, dense + ReLU + dropout,
    logits. The dense layer sees the whole feature map, so the network is tied to ``image_size``."""

    def __init__(self, num_classes: int, image_size: int, filters: int, dense: int, dropout: float) -> None:
        super().__init__(_HALF, _HALF)
        c1, c2 = filters, 2 * filters
        self.conv1 = nn.Sequential(nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        side = image_size // 4
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, dense),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(dense, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv2(self.conv1(self.normalize(x))))

    def blocks(self) -> list[nn.Module]:
        return [self.conv1, self.conv2]


def _conv_bn_relu(inp: int, out: int) -> list[nn.Module]:
    return [nn.Conv2d(inp, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]


class DeepCNN(ImageClassifier):
    """4 blocks of (conv 3x3 + BatchNorm + ReLU) + max-pool, channels doubling from ``width``; blocks 2-4
    have a second conv. Global average pooling and dropout before the logits. BatchNorm lets it train at a
    high learning rate, global pooling keeps the head small (and the network usable at any input size).
    One conv at full resolution, not two, halves the training time (10 vs 15 ms per 64 px image on 2 cores)."""

    def __init__(self, num_classes: int, width: int, dropout: float) -> None:
        super().__init__(_HALF, _HALF)
        chans = [3] + [width * 2**i for i in range(4)]
        self.stages = nn.ModuleList(
            nn.Sequential(*_conv_bn_relu(a, b), *(_conv_bn_relu(b, b) if i else []), nn.MaxPool2d(2))
            for i, (a, b) in enumerate(zip(chans[:-1], chans[1:], strict=True))
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(chans[-1], num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalize(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)

    def blocks(self) -> list[nn.Module]:
        return list(self.stages)


@register_model(
    "cnn-small",
    input="image",
    description="tutorial-style CNN from scratch: 2 conv/pool blocks (32, 64) + dense 128, 64 px; a baseline",
    # small batches, many epochs: on a few thousand photos it needs many steps (8 epochs at 64: 30%)
    train_defaults={"epochs": 40, "batch_size": 32, "lr": 1e-3, "scheduler": "onecycle"},
    image_size=64,
    filters=32,
    dense=128,
    dropout=0.5,
)
def cnn_small(
    in_channels: int, num_classes: int, image_size: int, filters: int, dense: int, dropout: float
) -> SmallCNN:
    """``filters`` in the first conv, twice that in the second; ``image_size`` fixes the dense layer's input."""
    _check_rgb("cnn-small", in_channels)
    if image_size < 4 or image_size % 4:
        raise ModelError(f"cnn-small needs an image_size that is a multiple of 4, not {image_size}")
    return SmallCNN(num_classes, image_size, filters, dense, dropout)


@register_model(
    "cnn-deep",
    input="image",
    description="CNN from scratch: 4 conv+BatchNorm blocks (7 convs, 32..256), global pooling, dropout; 64 px",
    train_defaults={"epochs": 30, "batch_size": 32, "lr": 2e-3, "scheduler": "onecycle"},
    image_size=64,
    width=32,
    dropout=0.3,
)
def cnn_deep(in_channels: int, num_classes: int, image_size: int, width: int, dropout: float) -> DeepCNN:
    """``image_size`` is the side the data is resized to; the network itself takes any size >= 16."""
    _check_rgb("cnn-deep", in_channels)
    return DeepCNN(num_classes, width, dropout)
