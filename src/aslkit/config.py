"""The documented defaults (defaults.toml) as typed settings objects."""

from __future__ import annotations

import difflib
import json
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib

from aslkit.errors import AslkitError
from aslkit.names import regular_file_problem, shown


def load_defaults() -> dict[str, dict[str, Any]]:
    """The parsed defaults.toml shipped inside the package."""
    return tomllib.loads(resources.files("aslkit").joinpath("defaults.toml").read_text(encoding="utf-8"))


def defaults_section(name: str) -> dict[str, Any]:
    """One [section] of defaults.toml as a dict, for settings without a typed class here ([detect])."""
    return dict(load_defaults().get(name, {}))


def _same_kind(ref: Any, value: Any) -> bool:
    """Whether ``value`` (given from Python) may stand for the default ``ref``: a whole number for an int (not
    True), any real number for a float, a bool for a bool, text for text; other defaults (dicts) as they are."""
    if isinstance(ref, bool):
        return isinstance(value, bool)
    if isinstance(ref, int):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(ref, float):
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(ref, str):
        return isinstance(value, str)
    return True


TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def coerce(key: str, ref: Any, value: Any) -> Any:
    """``value`` as the type of the default ``ref`` (command-line strings included): "false" -> False,
    "50" -> 50, '{"members": 8}' -> dict. Values already of that type pass through."""
    if isinstance(ref, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(ref, str) and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ",".join(value)  # a list from Python where the command line gives "a,b" (classes)
    if not isinstance(value, str) or isinstance(ref, str):
        if value is not None and not _same_kind(ref, value):  # from Python: 2.5 epochs, 3 for a name
            raise AslkitError(f"--{key.replace('_', '-')}: cannot use {value!r} as {type(ref).__name__}")
        return value
    try:
        if isinstance(ref, bool):  # anything else is a typo, not false (class_weights=maybe)
            word = value.strip().lower()
            if word not in (*TRUE_WORDS, *FALSE_WORDS):
                raise ValueError(word)
            return word in TRUE_WORDS
        if isinstance(ref, int):
            return int(value)
        if isinstance(ref, float):
            return float(value)
        if isinstance(ref, dict):
            return json.loads(value)
    except ValueError:
        kind = "true or false" if isinstance(ref, bool) else type(ref).__name__
        raise AslkitError(f"--{key.replace('_', '-')}: cannot use {value!r} as {kind}") from None
    return value


SETTINGS_FILE_MAX_BYTES = 1 << 20  # a settings file is a few lines; anything this big is the wrong file


def _toml_type(value: Any) -> str:
    """The name a user knows for a TOML value's type (int accepted where the default is a float)."""
    if isinstance(value, bool):
        return "true/false"
    return {int: "a whole number", float: "a number", str: "a quoted string"}.get(type(value), type(value).__name__)


def _checked_section(where: str, name: str, given: Any, ref: dict[str, Any]) -> dict[str, Any]:
    """One [section] of a settings file, each key a key of defaults.toml's section with a value of its type."""
    if not isinstance(given, dict):
        raise AslkitError(f"{where}: {name} is outside any [section]; put it under one of [{'], ['.join(sorted(ref))}]")
    out = {}
    for key, value in given.items():
        if key not in ref[name]:
            close = difflib.get_close_matches(key, list(ref[name]), n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; keys: {', '.join(sorted(ref[name]))}"
            raise AslkitError(f"{where}: [{name}] {key} is not a setting{hint}")
        want = ref[name][key]
        same = type(value) is type(want) or (isinstance(want, float) and type(value) is int)
        if not same:
            raise AslkitError(f"{where}: [{name}] {key} = {value!r}: expected {_toml_type(want)}, like {want!r}")
        out[key] = value
    return out


def load_settings_file(path: str | Path, sections: Iterable[str] | None = None) -> dict[str, Any]:
    """A settings file (``cfg=FILE.toml``): sections and keys of defaults.toml, checked whole (a typo anywhere
    is one error line, not silently ignored), then the keys of ``sections`` (all by default) as one flat dict.
    One file may hold the settings of several tasks, like defaults.toml itself; each task reads its sections."""
    where = f"--cfg {shown(path)}"
    why = regular_file_problem(path)  # a FIFO would block, /dev/zero would fill the memory
    if why is not None:
        raise AslkitError(f"{where}: {why}")
    try:
        with open(path, "rb") as f:
            raw = f.read(SETTINGS_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise AslkitError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > SETTINGS_FILE_MAX_BYTES:
        raise AslkitError(f"{where}: larger than {SETTINGS_FILE_MAX_BYTES >> 20} MB; a settings file is a few lines")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AslkitError(f"{where}: not UTF-8 text; a settings file is TOML like defaults.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise AslkitError(f"{where}: not valid TOML ({exc})") from None
    ref = load_defaults()
    checked: dict[str, dict[str, Any]] = {}
    for name, given in data.items():
        if name not in ref and isinstance(given, dict):
            raise AslkitError(f"{where}: unknown section [{name}]; sections: [{'], ['.join(sorted(ref))}]")
        checked[name] = _checked_section(where, name, given, ref)
    flat: dict[str, Any] = {}
    for name in ref if sections is None else sections:
        flat.update(checked.get(name, {}))
    return flat


_OVERRIDE = re.compile(r"^([a-z][a-z0-9_-]*)=(.*)$")


def parse_overrides(tokens: Sequence[str]) -> dict[str, str]:
    """Settings given as ``--key value`` or ``key=value`` tokens (the command line's leftovers) as
    {key: value}, dashes in keys read as underscores. Values stay strings: the settings object they go to
    (TrainConfig, LiveConfig, ImageAugmentConfig.from_defaults) checks names and coerces types, in one place."""
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        m = _OVERRIDE.match(tok)
        if m:
            out[m.group(1).replace("-", "_")] = m.group(2)
            i += 1
            continue
        key, eq, value = tok.partition("=")
        if tok.startswith("--") and eq:  # --key=value, as key=value reaches here
            out[key[2:].replace("-", "_")] = value
            i += 1
            continue
        if tok.startswith("--") and (i + 1 >= len(tokens) or tokens[i + 1].startswith("--")):
            raise AslkitError(f"option {tok} has no value; give one as {tok} VALUE or {tok[2:]}=VALUE")
        if not tok.startswith("--"):
            raise AslkitError(f"unexpected argument {tok!r}; options look like --epochs 50 or epochs=50")
        out[tok[2:].replace("-", "_")] = tokens[i + 1]
        i += 2
    return out


# Bounds of numeric settings (inclusive): a value outside them is a typo or a hostile file, and is refused with
# one line before any work, rather than training zero epochs, dividing by a zero batch or allocating without end.
_P = (0.0, 1.0)
LIMITS: dict[str, tuple[float, float]] = {
    # [train]
    "epochs": (1, 100_000), "batch_size": (1, 1_000_000), "lr": (1e-12, 10.0), "weight_decay": (0.0, 10.0),
    "label_smoothing": (0.0, 0.99), "grad_clip": (0.0, 1e9), "patience": (0, 1_000_000), "workers": (0, 1024),
    "landmark_stride": (1, 1_000_000), "landmark_aspect": (0.0, 100.0), "video_like": (0, 16), "image_size": (0, 4096),
    "step_size": (1, 1_000_000), "gamma": (1e-9, 1e3), "freeze_epochs": (0, 100_000), "unfreeze_blocks": (-1, 10_000),
    "finetune_lr_scale": (0.0, 1e3), "seq_length": (2, 1024), "seq_noise": (0.0, 10.0), "seq_time_warp": (0.0, 0.95),
    "seq_min_confidence": _P, "seq_pose_dropout": _P, "seq_hand_dropout": _P, "seq_aspect": (0.0, 1.0),
    "seq_rotate_deg": (0.0, 90.0), "seq_camera_aspect": (0.0, 10.0), "seed": (0, 2**32 - 1),
    # [augment]
    "rotate_deg": (0.0, 180.0), "motion_rotate_deg": (0.0, 180.0), "tilt_deg": (0.0, 90.0), "scale_xy": (0.0, 0.9),
    "jitter": (0.0, 1.0), "mirror_p": _P, "bone_scale": (0.0, 0.9),
    # [image_augment]
    "rotation_deg": (0.0, 180.0), "shift": (0.0, 1.0), "shear_deg": (0.0, 80.0), "zoom": (0.0, 0.9),
    "motion_blur_px": (0, 255), "brightness": (0.0, 1.0), "contrast": (0.0, 1.0),
    # [live]
    "landmark_complexity": (0, 1), "landmark_max_side": (32, 16_384), "landmark_zoom": (0.0, 20.0),
    "smoothing_s": (0.0, 60.0),
    "hold_s": (0.0, 60.0), "min_confidence": _P, "release_s": (0.0, 60.0), "release_motion": (0.0, 1e6),
    "motion_every": (1, 10_000), "motion_window_s": (0.01, 600.0), "motion_min_confidence": _P,
    "word_every": (1, 10_000), "word_window_s": (0.01, 600.0), "word_min_confidence": _P,
    "letter_min_s": (0.0, 10.0), "gesture_min_s": (0.0, 10.0), "lag_s": (0.0, 60.0), "enter_penalty": (0.0, 1e3),
    "switch_penalty": (0.0, 1e3), "moving_free": _P, "moving_still": _P, "relative_min": (0.0, 10.0),
    "move_speed": (0.0, 1e3), "move_width": (1e-3, 1e3), "word_gap_s": (0.0, 600.0), "lm_weight": (0.0, 100.0),
}  # fmt: skip


def _bound(x: float) -> str:
    """A range's end as a person writes it: 4294967295, not 4.29497e+09; 0.001 and inf as they are."""
    return str(int(x)) if math.isfinite(x) and float(x).is_integer() else f"{x:g}"


def check_ranges(settings: Any) -> Any:
    """AslkitError (one line) for a numeric setting that is not finite or lies outside LIMITS; every
    ``*_p`` is a probability. Returns ``settings``."""
    for f in fields(settings):
        v = getattr(settings, f.name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        flag = f"--{f.name.replace('_', '-')}"
        if not math.isfinite(v):
            raise AslkitError(f"{flag} {v}: not a finite number")
        lo, hi = LIMITS.get(f.name, _P if f.name.endswith("_p") else (-math.inf, math.inf))
        if not lo <= v <= hi:
            raise AslkitError(f"{flag} {v}: must be between {_bound(lo)} and {_bound(hi)}")
    return settings


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
        return cls(**defaults_section("augment"))


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
        return cls(**defaults_section("image_augment"))

    @classmethod
    def from_defaults(cls, **overrides: Any) -> ImageAugmentConfig:
        """defaults.toml [image_augment], then the overrides (strings coerced, ranges checked); an unknown
        key is refused with the list of options."""
        cfg = cls.defaults()
        names = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if k not in names:
                raise AslkitError(f"unknown augmentation option --{k.replace('_', '-')}; options: {sorted(names)}")
            setattr(cfg, k, coerce(k, getattr(cfg, k), v))
        return check_ranges(cfg)

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
    relabel: str = ""
    seed: int = 0
    views: str = "1"
    workers: int = 0
    landmark_stride: int = 1
    landmark_aspect: float = 0.0
    video_like: int = 0
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
    seq_hand_dropout: float = 0.0
    seq_aspect: float = 0.0
    seq_rotate_deg: float = 0.0
    seq_camera_aspect: float = 0.0
    finetune: str = ""
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    image_augment: ImageAugmentConfig = field(default_factory=ImageAugmentConfig)

    @classmethod
    def from_defaults(cls, model_defaults: dict[str, Any] | None = None, **overrides: Any) -> TrainConfig:
        """defaults.toml, then the architecture's own recipe (``model_defaults``, e.g. CLIP's lr 1e-5),
        then the user's overrides; unknown keys raise a clear error."""
        base = defaults_section("train")
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
        cfg.augment = check_ranges(aug)
        cfg.image_augment = check_ranges(img)
        check_ranges(cfg)
        cfg.split_names()
        cfg.split_ratios()
        return cfg

    def split_names(self) -> tuple[str, ...]:
        """The split given by name instead of ratios: splits of a YOLO set, in the order train, valid[, test]
        (``train,val,test``: each side of the run is that split of the set; one name: only that split is read,
        and divided by the default ratios); () when the split is ratios."""
        parts = [p.strip() for p in str(self.split).split(",")]
        named = [_is_split_name(p) for p in parts]
        if not any(named):
            return ()
        if not all(named) or len(parts) > 3 or len(set(parts)) != len(parts):
            raise AslkitError(
                f"split must be 2 or 3 fractions (like 0.7,0.2,0.1) or 1 to 3 different split names of a YOLO set "
                f"(like train,val,test), got {self.split!r}"
            )
        return tuple(parts)

    def split_ratios(self) -> tuple[float, ...]:
        """The split as fractions: 2 or 3 of them, each above 0 and below 1, adding up to 1 (the default ones
        when the split is given by name)."""
        if self.split_names():
            return DEFAULT_SPLIT_RATIOS
        try:
            r = tuple(float(x) for x in str(self.split).split(","))
        except ValueError:
            raise AslkitError(f"split must look like 0.7,0.2,0.1, got {self.split!r}") from None
        if len(r) not in (2, 3) or not all(0 < x < 1 for x in r) or abs(sum(r) - 1) > 1e-6:
            raise AslkitError(f"split must be 2 or 3 fractions adding up to 1 (like 0.7,0.2,0.1), got {self.split!r}")
        return r

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SPLIT_RATIOS = (0.7, 0.2, 0.1)  # what one split given by name is divided by (defaults.toml's split)


def _is_split_name(text: str) -> bool:
    """A split's name (``train``, ``valid``): a word, not a number (``nan`` and ``inf`` are numbers)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", text):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


LIVE_CHOICES = {"decoder": ("spelling", "hold"), "backend": ("torch", "onnx")}


@dataclass
class LiveConfig:
    """Live recognition: from a stream of per-frame letters to text (see defaults.toml [live])."""

    landmark_complexity: int = 1
    landmark_max_side: int = 1280
    landmark_retry: bool = True
    landmark_zoom: float = 3.0
    landmark_tiles: bool = True
    decoder: str = "spelling"
    letter_min_s: float = 0.07
    gesture_min_s: float = 0.35
    lag_s: float = 0.25
    enter_penalty: float = 2.0
    switch_penalty: float = 5.0
    moving_free: float = 1.0
    moving_still: float = 0.25
    relative_min: float = 0.3
    move_speed: float = 2.0
    move_width: float = 0.3
    lm_weight: float = 1.0
    word_gap_s: float = 1.0
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
    word_min_confidence: float = 0.6
    backend: str = "torch"

    @classmethod
    def from_defaults(cls, **overrides: Any) -> LiveConfig:
        """defaults.toml [live], then the overrides; unknown keys raise a clear error."""
        base = defaults_section("live")
        ref = cls()
        names = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if v is None:
                continue
            if k not in names:
                opts = ", ".join(sorted(names))
                raise AslkitError(f"unknown live option --{k.replace('_', '-')} ({k}=...); options: {opts}")
            base[k] = coerce(k, getattr(ref, k), v)
        cfg = check_ranges(cls(**{k: v for k, v in base.items() if k in names}))
        for key, allowed in LIVE_CHOICES.items():  # checked here, once, not per video deep inside a batch
            if getattr(cfg, key) not in allowed:
                raise AslkitError(f"--{key} {getattr(cfg, key)!r}: use one of {', '.join(allowed)}")
        return cfg
