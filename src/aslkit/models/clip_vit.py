"""CLIP ViT image classifier: the vision tower of CLIP (transformers' ``CLIPVisionModel``) + a new linear head.

Why CLIP: its vision encoder was trained on 400M image-text pairs, so a hand in an unusual setting (lighting,
background, skin tone) still maps to a useful embedding, and a linear head over the pooled CLS token
fine-tunes to letters with a small learning rate (the seed model card's recipe: Adam lr 1e-5, batch 32,
10 epochs, StepLR x0.1 every 5 epochs).

Weights are never downloaded. ``pretrained=DIR`` names a local Hugging Face folder (``config.json`` +
``model.safetensors``, or ``pytorch_model.bin`` read with transformers' weights-only loader; sharded
checkpoints with an ``*.index.json`` too) holding a ``CLIPVisionModel`` or a whole ``CLIPModel`` (e.g.
``openai/clip-vit-base-patch32`` fetched by the user elsewhere): the vision tower's weights are taken, the
text tower is ignored. The folder's config wins over the architecture keyword arguments (patch and hidden
size, layers, heads, MLP size, activation; a warning says which differed). ``image_size`` stays the caller's,
since a trainer prepares its images at that side before the model exists: when it differs from the folder's,
the position embeddings are resampled (bicubic) to the new patch grid, with a warning. Without ``pretrained``
the encoder is randomly initialised at the size the keyword arguments give.

Saving a trained model: the module built here carries ``config_kwargs``, the builder keyword arguments that
rebuild the same encoder with ``pretrained=""`` (the folder's sizes when one was read). ``resolved_kwargs(module)``
returns a copy; a trainer saves that as the model's kwargs, so a model fine-tuned from a ViT-B/16 folder
rebuilds as ViT-B/16 and then gets its own weights.

transformers is imported only inside the builder: importing aslkit (and ``aslkit.models``) stays light.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from aslkit.errors import ModelError
from aslkit.models.registry import register_model

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# Encoder settings that are builder keyword arguments (and so are saved with a trained model)
_CONFIG_KEYS = (
    "image_size",
    "patch_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "layer_norm_eps",
)
_CLIP_TYPES = ("clip", "clip_vision_model")
_VISION_PREFIX = "vision_model."


def resolved_kwargs(module: Any) -> dict[str, Any]:
    """Builder keyword arguments that rebuild ``module``'s architecture with ``pretrained=""`` (a copy of
    ``module.config_kwargs``): what a trainer saves with the model's weights."""
    kw = getattr(module, "config_kwargs", None)
    if not isinstance(kw, dict):
        raise ModelError("not a clip-vit model built by aslkit (no config_kwargs)")
    return dict(kw)


# ---- reading a local Hugging Face folder ----------------------------------------------------------------------
def _read_folder_config(folder: Path) -> dict[str, Any]:
    """config.json of a CLIP folder, checked (ModelError with one line otherwise)."""
    if not folder.exists():
        raise ModelError(f"CLIP weights folder {folder} not found (a local folder is needed; nothing is downloaded)")
    if not folder.is_dir():
        raise ModelError(f"CLIP weights {folder}: not a folder (give the Hugging Face folder holding config.json)")
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise ModelError(f"{folder}: no config.json (expected a Hugging Face CLIP folder: config.json + weights)")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{cfg_path}: cannot read ({exc})") from None
    if not isinstance(cfg, dict):
        raise ModelError(f"{cfg_path}: not a model configuration")
    kind = cfg.get("model_type")
    if kind not in _CLIP_TYPES:
        raise ModelError(f"{folder}: config.json describes a {kind!r} model, not CLIP ('clip' or 'clip_vision_model')")
    return cfg


def _weight_files(folder: Path) -> list[Path]:
    """The checkpoint file(s) of a folder, safetensors preferred; ModelError when there are none."""
    for single, index in (
        ("model.safetensors", "model.safetensors.index.json"),
        ("pytorch_model.bin", "pytorch_model.bin.index.json"),
    ):
        if (folder / single).is_file():
            return [folder / single]
        if (folder / index).is_file():
            try:
                shards = sorted(set(json.loads((folder / index).read_text(encoding="utf-8"))["weight_map"].values()))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ModelError(f"{folder / index}: cannot read the shard index ({exc})") from None
            missing = [s for s in shards if not (folder / s).is_file()]
            if missing:
                raise ModelError(f"{folder}: shard {missing[0]} named in {index} is missing")
            return [folder / s for s in shards]
    raise ModelError(f"{folder}: no model.safetensors or pytorch_model.bin beside config.json")


def _vision_state_dict(files: list[Path]) -> dict[str, Any]:
    """The vision tower's tensors (keys without the ``vision_model.`` prefix) from checkpoint file(s)."""
    out: dict[str, Any] = {}
    for f in files:
        try:
            if f.suffix == ".safetensors":
                from safetensors import safe_open

                with safe_open(str(f), framework="pt") as sf:  # read only the vision keys, not the text tower
                    for k in list(sf.keys()):
                        if k.startswith(_VISION_PREFIX):
                            out[k[len(_VISION_PREFIX) :]] = sf.get_tensor(k)
            else:
                from transformers.modeling_utils import load_state_dict

                sd = load_state_dict(str(f), map_location="cpu", weights_only=True)  # no code runs from the file
                out.update({k[len(_VISION_PREFIX) :]: v for k, v in sd.items() if k.startswith(_VISION_PREFIX)})
        except ModelError:
            raise
        except Exception as exc:  # corrupt or unsafe file: one line, whatever the reader raised
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{f}: cannot read weights ({msg})") from None
    return out


def _vision_config_from_folder(cfg: dict[str, Any]):
    from transformers import CLIPConfig, CLIPVisionConfig

    if cfg.get("model_type") == "clip":
        return CLIPConfig.from_dict(cfg).vision_config
    return CLIPVisionConfig.from_dict(cfg)


def _resample_positions(pos, grid: int, folder: Path):
    """Position embeddings (1 + g*g, D) -> (1 + grid*grid, D): the CLS row kept, the patch grid resized
    bicubically (the usual way to fine-tune a ViT at another resolution)."""
    import math

    import torch

    n = pos.shape[0] - 1
    g = math.isqrt(n)
    if g * g != n:
        raise ModelError(f"{folder}: position embeddings of {n} patches do not form a square grid")
    patches = pos[1:].float().reshape(1, g, g, -1).permute(0, 3, 1, 2)
    patches = torch.nn.functional.interpolate(patches, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([pos[:1].float(), patches.permute(0, 2, 3, 1).reshape(grid * grid, -1)]).to(pos.dtype)


# ---- the module -----------------------------------------------------------------------------------------------
def _pretrained_config(pretrained: str, size: dict[str, Any]) -> tuple[Any, Any, dict[str, tuple[Any, Any]], int, str]:
    """The vision config and weights to build with: (config, tower state or None, {key: (given, used)} where a
    folder's config overrode the arguments, the folder's own image side or 0, the folder read or "").
    A folder's config wins over the size arguments (warned), except the image side, which resamples positions."""
    from transformers import CLIPVisionConfig

    overrides: dict[str, tuple[Any, Any]] = {}
    if not pretrained:
        if size["hidden_size"] % size["num_attention_heads"]:
            raise ModelError("clip-vit: hidden_size must be a multiple of num_attention_heads")
        if size["image_size"] % size["patch_size"]:
            raise ModelError("clip-vit: image_size must be a multiple of patch_size")
        return CLIPVisionConfig(**size), None, overrides, 0, ""
    folder = Path(pretrained).expanduser()
    vcfg = _vision_config_from_folder(_read_folder_config(folder))
    files = _weight_files(folder)
    state = _vision_state_dict(files)
    if not state:
        raise ModelError(f"{files[0]}: holds no CLIP vision-tower weights (no '{_VISION_PREFIX}*' tensors)")
    for k in _CONFIG_KEYS:
        if k != "image_size" and getattr(vcfg, k) != size[k]:
            overrides[k] = (size[k], getattr(vcfg, k))
    if overrides:  # stacklevel: _build's caller's caller, as when this was inline in _build
        diff = ", ".join(f"{k}={used} (not {given})" for k, (given, used) in overrides.items())
        warnings.warn(f"clip-vit: {folder} sets {diff}; the folder's config is used", stacklevel=4)
    native_size = int(vcfg.image_size)
    want = int(size["image_size"])
    if want != native_size:  # the input side is the caller's (images are prepared at it): resample positions
        if want % vcfg.patch_size:
            raise ModelError(f"clip-vit: image_size {want} is not a multiple of the patch size {vcfg.patch_size}")
        key = "embeddings.position_embedding.weight"
        if key in state:
            state[key] = _resample_positions(state[key], want // vcfg.patch_size, folder)
        warnings.warn(
            f"clip-vit: {folder} was trained at {native_size} px; position embeddings resampled to {want} px",
            stacklevel=4,
        )
        vcfg.image_size = want
    return vcfg, state, overrides, native_size, str(folder)


def _load_tower(model: Any, state: dict[str, Any], source: str) -> None:
    """Load a folder's vision-tower weights into the model; shapes that disagree or missing tensors are errors."""
    try:
        missing, _unexpected = model.encoder.vision_model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that disagree with the folder's own config
        why = str(exc).strip().splitlines()[-1].strip()
        raise ModelError(f"{source}: weights do not fit its config.json ({why})") from None
    if missing:
        raise ModelError(f"{source}: weights lack {len(missing)} vision-tower tensor(s), e.g. {missing[0]!r}")


def _build(num_classes: int, *, dropout: float, pretrained: str, **size: Any):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: nothing here asks the hub, nothing may
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from torch import nn
    from transformers import CLIPVisionModel

    from aslkit.models._image_base import ImageClassifier

    vcfg, state, overrides, native_size, source = _pretrained_config(pretrained, size)
    if vcfg.num_channels != 3:
        raise ModelError(f"clip-vit: the vision tower reads {vcfg.num_channels} channels, not RGB")
    vcfg.attention_dropout = 0.0

    class ClipViTClassifier(ImageClassifier):
        """CLIP-normalized RGB in [0, 1] -> CLIP vision tower -> pooled CLS (post-layernorm) -> dropout -> linear."""

        def __init__(self) -> None:
            super().__init__(CLIP_MEAN, CLIP_STD)
            self.encoder = CLIPVisionModel(vcfg)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(vcfg.hidden_size, num_classes)

        def blocks(self) -> list[nn.Module]:
            """[embeddings + pre-layernorm, layer 0, ..., layer L-1 + post-layernorm]: ``set_trainable(k)``
            unfreezes the last k transformer layers (the final one with the layernorm that feeds the head)."""
            vm = self.encoder.vision_model
            layers = list(vm.encoder.layers)
            stem = nn.ModuleList([vm.embeddings, vm.pre_layrnorm])
            return [stem, *layers[:-1], nn.ModuleList([layers[-1], vm.post_layernorm])]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = self.encoder(pixel_values=self.normalize(x)).pooler_output
            return self.head(self.dropout(pooled))

    model = ClipViTClassifier()
    if state is not None:
        _load_tower(model, state, source)
    model.config_kwargs = {
        **{k: getattr(vcfg, k) for k in _CONFIG_KEYS},
        "dropout": dropout,
        "pretrained": "",
    }
    model.pretrained_source = source  # the folder read, "" when none (for a run's metadata)
    model.pretrained_overrides = overrides  # {key: (given, used)} where the folder's config won
    model.pretrained_image_size = native_size  # the folder's own input side (0 when none was read)
    return model


@register_model(
    "clip-vit-b32",
    input="image",
    description="CLIP ViT-B/32 vision tower + linear head (224 px); weights from a local Hugging Face folder",
    train_defaults={"lr": 1e-5, "batch_size": 32, "epochs": 10, "scheduler": "step", "step_size": 5, "gamma": 0.1},
    limits={"num_hidden_layers": (1, 64), "num_attention_heads": (1, 1024)},
    image_size=224,
    patch_size=32,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
    dropout=0.1,
    pretrained="",
)
def clip_vit_b32(in_channels: int, num_classes: int, **kw: Any):
    if in_channels != 3:
        raise ModelError(f"clip-vit-b32 reads RGB images (3 channels), not {in_channels}")
    return _build(num_classes, **kw)
