"""The documented defaults (defaults.toml) as typed settings objects."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from typing import Any

import tomllib

from aslkit.errors import AslkitError


def load_defaults() -> dict[str, dict[str, Any]]:
    """The parsed defaults.toml shipped inside the package."""
    return tomllib.loads(resources.files("aslkit").joinpath("defaults.toml").read_text(encoding="utf-8"))


def _section(name: str) -> dict[str, Any]:
    return dict(load_defaults().get(name, {}))


def coerce(key: str, ref: Any, value: Any) -> Any:
    """``value`` as the type of the default ``ref`` (command-line strings included): "false" -> False,
    "50" -> 50, '{"members": 8}' -> dict. Values already of that type pass through."""
    if isinstance(ref, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or isinstance(ref, str):
        return value
    try:
        if isinstance(ref, bool):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(ref, int):
            return int(value)
        if isinstance(ref, float):
            return float(value)
        if isinstance(ref, dict):
            return json.loads(value)
    except ValueError:
        raise AslkitError(f"--{key.replace('_', '-')}: cannot use {value!r} as {type(ref).__name__}") from None
    return value


@dataclass
class AugmentConfig:
    """Landmark augmentation ranges (see defaults.toml [augment])."""

    rotate_deg: float = 15.0
    motion_rotate_deg: float = 40.0
    motion_labels: str = "J,Z"
    tilt_deg: float = 12.0
    scale_xy: float = 0.08
    jitter: float = 0.012
    mirror_p: float = 0.1
    bone_scale: float = 0.0

    @classmethod
    def defaults(cls) -> AugmentConfig:
        return cls(**_section("augment"))


@dataclass
class ImageAugmentConfig:
    """Image augmentation for image models (see defaults.toml [image_augment]): each op in ``ops``
    is applied with its own probability and range."""

    ops: str = "rotation,shift,shear,zoom,flip,motion_blur,brightness,contrast,grayscale"
    rotation_deg: float = 15.0
    rotation_p: float = 0.5
    shift: float = 0.1
    shift_p: float = 0.5
    shear_deg: float = 10.0
    shear_p: float = 0.3
    zoom: float = 0.15
    zoom_p: float = 0.5
    flip_p: float = 0.5
    motion_blur_px: int = 9
    motion_blur_p: float = 0.2
    brightness: float = 0.25
    brightness_p: float = 0.5
    contrast: float = 0.25
    contrast_p: float = 0.5
    grayscale_p: float = 0.2

    @classmethod
    def defaults(cls) -> ImageAugmentConfig:
        return cls(**_section("image_augment"))

    def op_names(self) -> list[str]:
        return [o.strip() for o in self.ops.split(",") if o.strip()]


@dataclass
class TrainConfig:
    """Training hyperparameters (see defaults.toml [train])."""

    model: str = "landmark-mlp"
    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.003
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    grad_clip: float = 1.0
    patience: int = 20
    class_weights: bool = True
    split: str = "0.7,0.2,0.1"
    group_pattern: str = ""
    holdout: str = ""
    classes: str = ""
    seed: int = 0
    views: str = "1"
    workers: int = 0
    landmark_stride: int = 1
    landmark_aspect: float = 0.0
    crop: str = "none"
    image_size: int = 0
    weights: str = ""
    scheduler: str = "onecycle"
    step_size: int = 5
    gamma: float = 0.1
    freeze_epochs: int = 0
    unfreeze_blocks: int = -1
    finetune_lr_scale: float = 0.1
    seq_length: int = 20
    seq_noise: float = 0.02
    seq_time_warp: float = 0.25
    seq_min_confidence: float = 0.5
    seq_pose_dropout: float = 0.2
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    image_augment: ImageAugmentConfig = field(default_factory=ImageAugmentConfig)

    @classmethod
    def from_defaults(cls, model_defaults: dict[str, Any] | None = None, **overrides: Any) -> TrainConfig:
        """defaults.toml, then the architecture's own recipe (``model_defaults``, e.g. CLIP's lr 1e-5),
        then the user's overrides; unknown keys raise a clear error."""
        base = _section("train")
        aug = AugmentConfig.defaults()
        img = ImageAugmentConfig.defaults()
        ref = cls()
        names = {f.name for f in fields(cls)} - {"augment", "image_augment"}
        aug_names = {f.name for f in fields(AugmentConfig)}
        img_names = {f.name for f in fields(ImageAugmentConfig)}
        for k, v in [*(model_defaults or {}).items(), *overrides.items()]:
            if v is None:
                continue
            if k in names:
                base[k] = coerce(k, getattr(ref, k), v)
            elif k in aug_names:
                setattr(aug, k, coerce(k, getattr(aug, k), v))
            elif k in img_names:
                setattr(img, k, coerce(k, getattr(img, k), v))
            else:
                opts = ", ".join(sorted(names | aug_names | img_names))
                raise AslkitError(f"unknown training option --{k.replace('_', '-')} ({k}=...); options: {opts}")
        cfg = cls(**{k: v for k, v in base.items() if k in names})
        cfg.augment = aug
        cfg.image_augment = img
        return cfg

    def split_ratios(self) -> tuple[float, ...]:
        try:
            r = tuple(float(x) for x in str(self.split).split(","))
        except ValueError:
            raise AslkitError(f"split must look like 0.7,0.2,0.1, got {self.split!r}") from None
        return r

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LiveConfig:
    """Live recognition: from a stream of per-frame letters to text (see defaults.toml [live])."""

    landmark_complexity: int = 1
    landmark_max_side: int = 640
    smoothing_s: float = 0.15
    hold_s: float = 0.45
    min_confidence: float = 0.55
    release_s: float = 0.2
    release_motion: float = 1.0
    motion_model: str = "letters-motion"
    motion_every: int = 5
    motion_window_s: float = 1.0
    motion_min_confidence: float = 0.8
    word_model: str = ""
    word_every: int = 5
    word_window_s: float = 1.5
    word_min_confidence: float = 0.8
    backend: str = "torch"

    @classmethod
    def from_defaults(cls, **overrides: Any) -> LiveConfig:
        """defaults.toml [live], then the overrides; unknown keys raise a clear error."""
        base = _section("live")
        ref = cls()
        names = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if v is None:
                continue
            if k not in names:
                opts = ", ".join(sorted(names))
                raise AslkitError(f"unknown live option --{k.replace('_', '-')} ({k}=...); options: {opts}")
            base[k] = coerce(k, getattr(ref, k), v)
        return cls(**{k: v for k, v in base.items() if k in names})
