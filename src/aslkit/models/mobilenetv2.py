"""MobileNetV2 (width 1.0), written with torch alone, for transfer learning from ImageNet.

Why this one: 2.2M backbone parameters and ~300M multiply-adds at 224 px make it fast enough to fine-tune and to run
on a CPU, and its ImageNet features transfer well to hand shapes. The module and parameter names are those of
torchvision's ``mobilenet_v2`` (``features.0.0.weight`` ... ``features.18.1.running_var``), so a torchvision
ImageNet state dict the user already has loads as is (``pretrained=PATH``), without torchvision installed.
Weights are never downloaded, and a ``.pth`` is read with ``torch.load(weights_only=True)`` only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aslkit.errors import ModelError
from aslkit.models._image_base import IMAGENET_MEAN, IMAGENET_STD, ImageClassifier, load_backbone, read_state_dict
from aslkit.models.registry import register_model

# (expansion t, output channels c, repeats n, first stride s), as in the paper and torchvision
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
_STEM, _LAST = 32, 1280


# ---- architecture ----------------------------------------------------------------------------------------
def _conv_bn_relu6(inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, ReLU6 at keys ``0``, ``1``."""
    conv = nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class _InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, linear projection (1x1); residual when the shape is kept."""

    def __init__(self, inp: int, out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = inp * expand
        self.use_res = stride == 1 and inp == out
        layers: list[nn.Module] = [_conv_bn_relu6(inp, hidden, 1)] if expand != 1 else []
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out, 1, bias=False),
            nn.BatchNorm2d(out),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(ImageClassifier):
    """``features`` (19 stages, torchvision names) -> global average pool -> ``head`` (dropout + linear)."""

    def __init__(self, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__(IMAGENET_MEAN, IMAGENET_STD)
        layers: list[nn.Module] = [_conv_bn_relu6(3, _STEM, 3, 2)]
        inp = _STEM
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                layers.append(_InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        layers.append(_conv_bn_relu6(inp, _LAST, 1))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(_LAST, num_classes))
        for m in self.modules():  # torchvision's initialisation, so random-init training behaves the same
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features (N, 1280) of RGB in [0, 1]."""
        return F.adaptive_avg_pool2d(self.features(self.normalize(x)), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))

    def blocks(self) -> list[nn.Module]:
        return list(self.features)


@register_model(
    "mobilenetv2",
    input="image",
    description="MobileNetV2 1.0 at 224 px (2.2M backbone params); fine-tunes ImageNet weights from a local "
    "torchvision state dict (--weights FILE), else trains from random init",
    train_defaults={
        "epochs": 12,
        "batch_size": 32,
        "lr": 1e-3,
        "freeze_epochs": 4,
        "unfreeze_blocks": 4,
        "finetune_lr_scale": 0.1,
    },
    image_size=224,
    dropout=0.2,
    pretrained="",
)
def mobilenetv2(in_channels: int, num_classes: int, image_size: int, dropout: float, pretrained: str) -> MobileNetV2:
    """``pretrained``: path of a torchvision ``mobilenet_v2`` state dict (.safetensors/.pth/.pt); its
    ``classifier.*`` (ImageNet head) is dropped. ``image_size`` is the input side the data is resized to;
    the network itself takes any size."""
    if in_channels != 3:
        raise ModelError(f"mobilenetv2 reads RGB images (3 channels), not {in_channels}")
    model = MobileNetV2(num_classes, dropout)
    if pretrained:
        load_backbone(model, read_state_dict(pretrained), pretrained, "torchvision MobileNetV2", ("classifier.",))
    return model
