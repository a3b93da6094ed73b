"""Train any registered model: load, split, fit (the one ``fit_model``), evaluate, write a run folder.

What differs by input kind (landmarks, images, clips) is one row of ``TRAINERS``: how the data loads, the
plan for the shared fit, and how a split is scored.

The run folder holds everything needed to use, inspect and reproduce the model:
config.json, model.safetensors + model.json, metrics.json, curves.png, confusion_matrix.png,
report.md, the model card README.md and TensorBoard logs (tb/).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.config import TrainConfig
from aslkit.data.boxes import set_roots
from aslkit.data.dataset import ImageDataset, load_dataset
from aslkit.data.sequences import SequenceSet, at_camera_aspect, concat_sequences, is_sequence_source, relabelled
from aslkit.data.split import group_split, groups_from_pattern, stratified_split
from aslkit.data.yolo import data_yaml, distinct_splits, image_splits, read_layout
from aslkit.errors import AslkitError, DatasetError, ModelError
from aslkit.inference.recognizer import parse_views, view_probabilities
from aslkit.kinds import InputKind
from aslkit.labels import NOTHING, canonical_label, same_label_twice, sort_labels
from aslkit.landmarks.holistic import load_sequences
from aslkit.landmarks.image_set import ImageSet, check_crop_mode, concat_images, images_for
from aslkit.landmarks.landmark_npz import is_landmark_file, load_landmark_npz
from aslkit.landmarks.landmark_set import LandmarkSet, concat, landmarks_for
from aslkit.metrics import end_to_end_metrics
from aslkit.models.card import portable_meta
from aslkit.models.io import TrainedModel
from aslkit.models.registry import checked_kwargs, get_model_info, list_models
from aslkit.names import brief, shown
from aslkit.outputs import check_outside, claim_numbered_folder, remove_if_empty
from aslkit.report import plot_confusion, plot_curves, write_markdown
from aslkit.training.checkpoint import check_run_folder, clear_checkpoint, load_checkpoint
from aslkit.training.fit import PlanBuilder, fit_model
from aslkit.training.image_fit import image_plan, image_size_for
from aslkit.training.landmark_fit import landmark_plan
from aslkit.training.run_card import write_run_card
from aslkit.training.sequence_fit import sequence_plan


@dataclass
class TrainResult:
    run_dir: Path
    model: TrainedModel
    metrics: dict[str, Any]
    test_set: Any = None  # the held-out items (for per-item reports such as cross-validation), if any

    def __repr__(self) -> str:
        """One line: the run, its model and its headline score (the test set's arrays printed 100 KB)."""
        split = "test" if "test" in self.metrics else "valid"
        acc = (self.metrics.get(split) or {}).get("accuracy")
        score = f", {split} accuracy {acc:.4f}" if isinstance(acc, float) else ""
        return f"TrainResult({str(self.run_dir)!r}, {self.model!r}{score})"


def _split(
    data: LandmarkSet, cfg: TrainConfig, sources: list | tuple = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(cfg.split_names()) > 1:
        return _own_split(data, cfg, sources)
    signers = getattr(data, "signers", None)
    if cfg.holdout and not cfg.group_pattern and signers is None:  # else it would be silently ignored
        raise DatasetError(
            f"--holdout {cfg.holdout}: this data names no signers; give --group-pattern REGEX to find them in names"
        )
    if signers is not None and cfg.holdout and not cfg.group_pattern:  # sequence sets name their signers
        return signer_split(data.labels, signers, [g for g in cfg.holdout.split(",") if g], seed=cfg.seed)
    if cfg.group_pattern:
        groups = groups_from_pattern([Path(p).name for p in data.paths], cfg.group_pattern)
        hold = [g for g in cfg.holdout.split(",") if g] if cfg.holdout else None
        return group_split(groups, hold, seed=cfg.seed)
    parts = stratified_split(data.labels, cfg.split_ratios(), seed=cfg.seed)
    if len(parts) == 2:
        return parts[0], parts[1], np.array([], dtype=np.int64)
    return parts  # type: ignore[return-value]


def _own_split(data: Any, cfg: TrainConfig, sources: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``split=train,val[,test]``: each side of the run is that split of the YOLO set(s), as their authors made
    them (a Roboflow export's augmented copies stay in train)."""
    names = cfg.split_names()
    if cfg.group_pattern or cfg.holdout:
        raise AslkitError(f"--split {cfg.split} takes the set's own splits; leave out --group-pattern and --holdout")
    side: dict[str, str] = {}
    for src in sources:
        side.update(image_splits(src, names))
    parts: list[list[int]] = [[] for _ in range(3)]
    for i, p in enumerate(data.paths):
        if p not in side:
            raise DatasetError(f"{shown(p)} is in none of the splits {cfg.split}")
        parts[names.index(side[p])].append(i)
    if not parts[0] or not parts[1]:
        empty = names[0] if not parts[0] else names[1]
        raise DatasetError(f"split {empty} holds no usable box; a run needs a train and a valid side")
    return np.array(parts[0], np.int64), np.array(parts[1], np.int64), np.array(parts[2], np.int64)


def _evaluate_split(model: TrainedModel, data: LandmarkSet) -> dict:
    """End-to-end metrics on a split: no hand -> Nothing. One view (the photo as it is), whatever the
    model's ``views`` setting: `aslkit evaluate` gives the figures with the model's own views."""
    d = data.subset(np.flatnonzero(data.readable))
    probs, has = view_probabilities(model, [d])
    preds = np.where(has, np.array(model.labels, dtype=object)[probs.argmax(1)], NOTHING)
    return end_to_end_metrics(d.labels, list(preds), has, model.labels)


def _load_source(
    path: str | Path, cfg: TrainConfig, cache_dir, progress: bool
) -> tuple[LandmarkSet, ImageDataset | None]:
    """Landmarks of one training source (an image folder, a box-CSV folder or a landmark .npz), and its
    images where it has any (the photos that --video-like degrades)."""
    if is_landmark_file(path):
        return load_landmark_npz(path, stride=cfg.landmark_stride, aspect=cfg.landmark_aspect), None
    from aslkit.landmarks.extract import is_shard_folder, read_shards

    if is_shard_folder(path):  # landmarks already extracted by `aslkit extract` (Parquet shards)
        return read_shards(path), None
    ds: ImageDataset = load_dataset(path, cfg.split_names())
    return landmarks_for(ds, cache_dir=cache_dir, workers=cfg.workers or None, progress=progress), ds


def _video_like_copies(
    origin: list[tuple[ImageDataset, int] | None], cfg: TrainConfig, cache_dir, progress: bool
) -> LandmarkSet | None:
    """Landmarks of cfg.video_like degraded copies of each training-side photo (``origin``: its dataset and
    sample index, None for rows of landmark files); None when no row is a photo. Called with training-side
    rows only, so copies of a photo never reach valid/test, where the photo itself is not."""
    from aslkit.landmarks.batch import LandmarkPool

    by_set: dict[int, tuple[ImageDataset, list[int]]] = {}
    for o in origin:
        if o is not None:
            by_set.setdefault(id(o[0]), (o[0], []))[1].append(o[1])
    if not by_set:
        return None
    with LandmarkPool(cfg.workers or None) as pool:
        parts = [
            landmarks_for(
                ImageDataset(ds.root, [ds.samples[i] for i in idx]),
                cache_dir=cache_dir,
                progress=progress,
                pool=pool,
                video_like=cfg.video_like,
            )
            for ds, idx in by_set.values()
        ]
    return concat(parts)


def _load_image_source(path: str | Path, cfg: TrainConfig, size: int, cache_dir, progress: bool) -> ImageSet:
    if is_landmark_file(path):
        raise DatasetError(f"{path}: landmark files hold no pixels; image model {cfg.model!r} needs image folders")
    ds = load_dataset(path, cfg.split_names())
    return images_for(ds, size, cfg.crop, cache_dir=cache_dir, workers=cfg.workers or None, progress=progress)


def _evaluate_image_split(model: TrainedModel, data: ImageSet) -> dict:
    from aslkit.inference.image_recognizer import image_probabilities

    d = data.subset(np.flatnonzero(data.readable))
    probs = image_probabilities(model, d.images)
    preds = list(np.array(model.labels, dtype=object)[probs.argmax(1)]) if len(d) else []
    return end_to_end_metrics(d.labels, preds, np.ones(len(d), bool), model.labels)


def signer_split(
    labels: list[str], signers: list[str], holdout: list[str], valid_fraction: float = 0.15, seed: int = 0
):
    """(train, valid, test): test is every clip of the held-out signers; valid a stratified random part of
    the other signers' clips, so training keeps every remaining signer (with 3 signers, a whole-signer
    valid side would leave one to learn from)."""
    unknown = sorted(set(holdout) - set(signers))
    if unknown:
        raise DatasetError(f"holdout signer(s) {unknown} not in the data; signers: {sorted(set(signers))}")
    held = set(holdout)
    test = np.array([i for i, g in enumerate(signers) if g in held], dtype=np.int64)
    rest = np.array([i for i, g in enumerate(signers) if g not in held], dtype=np.int64)
    if len(rest) == 0:
        raise DatasetError(f"holding out {sorted(held)} leaves no signer to train on")
    tr, va = stratified_split([labels[i] for i in rest], (1 - valid_fraction, valid_fraction), seed=seed)
    return rest[tr], rest[va], test


def _known(data: SequenceSet, idx: np.ndarray, labels: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """idx without items whose label is not among ``labels``, and how many of each were left out."""
    keep = np.array([data.labels[i] in labels for i in idx], dtype=bool)
    left: dict[str, int] = {}
    for i in idx[~keep]:
        left[data.labels[i]] = left.get(data.labels[i], 0) + 1
    return idx[keep], dict(sorted(left.items()))


def _load_sequence_source(path: str | Path, cache_dir, progress: bool) -> SequenceSet:
    if Path(path).exists() and not is_sequence_source(path):
        raise DatasetError(
            f"{path}: sequence models train on landmark clips: a .npz with `sequences`, or <sign>/<take> folders "
            "of .npy frames, .pose files or videos"
        )
    return load_sequences(path, cache_dir, progress)


def _evaluate_sequence_split(model: TrainedModel, data: SequenceSet) -> dict:
    from aslkit.inference.sequence_recognizer import sequence_decisions, sequence_probabilities

    probs = sequence_probabilities(model, data) if len(data) else np.zeros((0, len(model.labels)))
    preds, _ = sequence_decisions(model, probs)
    return end_to_end_metrics(data.labels, preds, np.ones(len(data), bool), model.labels)


def chosen_classes(data: Any, classes: str) -> tuple[Any, dict[str, int], np.ndarray]:
    """The data restricted to ``classes`` (comma-separated, any spelling), label -> count of what was
    left out, and the indices kept; a class the data does not have is an error (a typo would silently
    train without it)."""
    if not classes.strip():
        return data, {}, np.arange(len(data))
    wanted = {canonical_label(c.strip()) for c in classes.split(",") if c.strip()}
    missing = sorted(wanted - set(data.labels))
    if missing:
        raise DatasetError(f"classes {missing} are not in the data; it has: {', '.join(sort_labels(set(data.labels)))}")
    keep = np.array([lab in wanted for lab in data.labels], dtype=bool)
    left = Counter(lab for lab, k in zip(data.labels, keep, strict=True) if not k)
    return data.subset(np.flatnonzero(keep)), dict(sorted(left.items())), np.flatnonzero(keep)


def _remove_unstarted_run(run_dir: Path, created: bool) -> None:
    """A run that failed before its first epoch (e.g. unreadable pretrained weights) leaves nothing behind.
    The folder was new or empty when the run began (check_run_folder), so what is in it is the run's own."""
    import shutil

    if (run_dir / "checkpoint").exists():
        return
    (run_dir / "config.json").unlink(missing_ok=True)
    shutil.rmtree(run_dir / "tb", ignore_errors=True)
    if created and not any(run_dir.iterdir()):
        run_dir.rmdir()


def _resume_settings(run_dir: Path) -> tuple[list[str], dict[str, Any], str | None]:
    """Data, options and command of an interrupted run, from its config.json."""
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        opts = dict(config["train"])
        data = config.get("data_resolved") or config["data"]
        if not isinstance(data, list) or not all(isinstance(d, str) and d.strip() for d in data):
            raise TypeError(f"data must be a list of paths, got {brief(data)}")  # a string was read as "/", "t", ...
    except FileNotFoundError:
        raise AslkitError(f"{run_dir}: not a run folder (no config.json); nothing to resume") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AslkitError(f"{run_dir}/config.json: unreadable ({exc})") from None
    nested = {**opts.pop("augment", {}), **opts.pop("image_augment", {})}
    return data, {**opts, **nested}, config.get("command")


def _load_landmarks(paths: list, cfg: TrainConfig, cache_dir, progress: bool) -> tuple[LandmarkSet, list]:
    loaded = [_load_source(p, cfg, cache_dir, progress) for p in paths]
    origin = [None if ds is None else (ds, i) for d, ds in loaded for i in range(len(d))]  # for --video-like
    return concat([d for d, _ in loaded]), origin


def _load_images(paths: list, cfg: TrainConfig, cache_dir, progress: bool) -> tuple[ImageSet, list]:
    size = image_size_for(cfg)
    return concat_images([_load_image_source(p, cfg, size, cache_dir, progress) for p in paths]), []


def _load_clips(paths: list, cfg: TrainConfig, cache_dir, progress: bool) -> tuple[SequenceSet, list]:
    data = concat_sequences([_load_sequence_source(p, cache_dir, progress) for p in paths])
    data = at_camera_aspect(data, cfg.seq_camera_aspect)  # videos as the model's camera shape shows them
    if cfg.relabel:
        data, changed = relabelled(data, cfg.relabel)
        if progress:
            print(
                f"aslkit: relabelled (in memory): {', '.join(f'{k} ({n})' for k, n in changed.items())}",
                file=sys.stderr,
            )
    return data, []


@dataclass(frozen=True)
class TrainTask:
    """Training's column of the task table (see aslkit.kinds): how a run of one input kind loads its data,
    fits, scores a split and counts hands. ``train`` reads only this row, so a new kind adds a row, not
    branches."""

    load: Callable[..., tuple[Any, list]]  # (paths, cfg, cache_dir, progress) -> (set, photo of each row)
    plan: PlanBuilder  # the network and the data as batches, for the one fit_model
    score: Callable[[TrainedModel, Any], dict]  # one split's metrics, through predict's own path
    hand_rate: Callable[[TrainConfig, Any, np.ndarray], float | None]  # (cfg, set, readable) -> rate
    threads: int | None = None  # torch threads while fitting (None: one per core)
    video_like: bool = False  # --video-like degrades photos before MediaPipe: landmark models only
    own_classes: bool = False  # classes come from the training side (a held-out signer may sign others)


def _hand_rate(cfg: TrainConfig, data: Any, readable: np.ndarray) -> float:
    return float(data.has_hand[readable].mean()) if readable.any() else 0.0


def _crop_rate(cfg: TrainConfig, data: Any, readable: np.ndarray) -> float | None:
    return float(data.has_hand[readable].mean()) if cfg.crop != "none" and readable.any() else None


TRAINERS: dict[InputKind, TrainTask] = {
    # landmark MLPs are as fast on one thread, which leaves the other core to MediaPipe
    InputKind.LANDMARKS: TrainTask(
        _load_landmarks, landmark_plan, _evaluate_split, _hand_rate, threads=1, video_like=True
    ),
    InputKind.IMAGE: TrainTask(_load_images, image_plan, _evaluate_image_split, _crop_rate),
    InputKind.SEQUENCE: TrainTask(
        _load_clips, sequence_plan, _evaluate_sequence_split, lambda *_: None, own_classes=True
    ),
}


def _finetune_settings(start: str, model: str | None) -> dict[str, Any]:
    """A fine-tuned run's architecture, sizes and clip length: those of the trained model it starts from."""
    from aslkit.models.io import load_model, shipped_models

    if start in list_models() and not Path(start).exists():  # an architecture has no weights to start from
        raise AslkitError(
            f"--finetune starts from trained weights, and {start!r} is an architecture; give a shipped model "
            f"({', '.join(shipped_models())}) or a run folder, or leave out --finetune to train {start!r} anew"
        )
    base = load_model(start)
    if base.kind not in (InputKind.SEQUENCE, InputKind.LANDMARKS):
        raise AslkitError(
            f"--finetune starts from a sign model (landmark clips) or a letter model (hand landmarks); "
            f"{start!r} reads {base.kind}"
        )
    if model and model not in (start, base.architecture):
        raise AslkitError(f"--finetune {start!r} is a {base.architecture} model; leave out --model {model!r}")
    own = {"model": base.architecture, "model_kwargs": dict(base.kwargs)}
    if base.kind is InputKind.SEQUENCE:
        own["seq_length"] = base.preprocessing["length"]
        if base.preprocessing.get("aspect"):  # its clips' camera shape, so new videos are shown as it learned
            own["seq_camera_aspect"] = float(base.preprocessing["aspect"])
    return own


TRAIN_RUNS = Path("runs", "train")  # where `train` without --out puts its run: exp, exp2, ... (Ultralytics')


def _run_settings(
    data: str | Path | list[str | Path] | None,
    out: str | Path | None,
    model: str | None,
    command: str | None,
    resume: str | Path | None,
    overrides: dict[str, Any],
) -> tuple[TrainConfig, Path, list, str | None, tuple[dict, dict] | None]:
    """The run's config, folder, data paths, command and checkpoint: a resumed run's own, else the arguments'.
    Without ``out`` the folder is the next free runs/train/exp, exp2, ... (created here, after every check)."""
    if resume is not None:
        if data or overrides or model:
            raise AslkitError("--resume continues a run with its own data and options; give nothing else")
        run_dir = Path(resume)
        if (run_dir / "model.json").exists():
            raise AslkitError(f"{run_dir} already finished (it holds model.json); nothing to resume")
        paths, saved, command = _resume_settings(run_dir)
        ckpt = load_checkpoint(run_dir)
        return TrainConfig.from_defaults(**saved), run_dir, paths, command, ckpt
    if overrides.get("finetune"):
        overrides = {**_finetune_settings(str(overrides["finetune"]), model), **overrides}
        model = overrides.pop("model")
    name = model or TrainConfig.from_defaults().model
    try:
        info = get_model_info(name)
    except ModelError:
        from aslkit.models.io import shipped_models

        if name in shipped_models():  # `--model words` meant as the model to start from
            raise ModelError(f"{name!r} is a trained model, not an architecture: add --finetune to start from it, "
                             f"or give an architecture ({', '.join(list_models())})") from None  # fmt: skip
        raise
    cfg = TrainConfig.from_defaults(info.train_defaults, model=name, **overrides)
    try:  # as a model file's own options are: typed and bounded, before any folder
        checked_kwargs(name, cfg.model_kwargs)
    except ModelError as exc:
        raise AslkitError(f"--model-kwargs: {str(exc).removeprefix('kwargs ')}") from None
    paths = [] if data is None else [data] if isinstance(data, (str, Path)) else list(data)
    _check_distinct(paths)
    if out is not None:  # a YOLO set's data.yaml may place it elsewhere (`path: ../set`): outside that too
        check_run_folder(out, [*paths, *(r for p in paths if data_yaml(p) is not None for r in set_roots(p))])
        return cfg, Path(out), paths, command, None
    _task_for(cfg, paths)  # a run that cannot start claims no folder
    # checked before mkdir: inside the data, or in a read-only current folder, no folder is made at all
    check_outside(Path(TRAIN_RUNS) / "exp", paths, flag="the default run folder", what="the training data")
    run_dir = claim_numbered_folder(TRAIN_RUNS)
    try:
        check_run_folder(run_dir, paths)
    except AslkitError:
        remove_if_empty(run_dir)
        raise
    return cfg, run_dir, paths, command, None


def _check_distinct(paths: list) -> None:
    """Each source once: a folder given twice, or one inside another, would count its files twice and put a
    test photo's identical twin on the training side."""
    seen: list[tuple[Path, Any]] = []
    for p in paths:
        here = Path(p).resolve()
        for there, q in seen:
            if here == there or here.is_relative_to(there) or there.is_relative_to(here):
                same = "given twice" if here == there else "one is inside the other"
                raise DatasetError(
                    f"{shown(q)} and {shown(p)}: {same}, so its files would be read twice; give each once"
                )
        seen.append((here, p))


def _task_for(cfg: TrainConfig, paths: list) -> TrainTask:
    """The task-table row for the model's input kind, once the options it cannot use are ruled out."""
    info = get_model_info(cfg.model)
    task = TRAINERS.get(info.input)
    if task is None:
        raise AslkitError(f"model {cfg.model!r} reads {info.input}, which `train` cannot feed yet")
    parse_views(cfg.views)
    check_crop_mode(cfg.crop)
    if cfg.video_like and not task.video_like:
        raise AslkitError(f"--video-like is for landmark models (photos through MediaPipe), not {cfg.model!r}")
    if cfg.relabel and info.input is not InputKind.SEQUENCE:
        raise AslkitError(f"--relabel corrects signers' labels of sign clips; {cfg.model!r} does not read clips")
    if not paths:
        raise DatasetError("no training data given")
    _check_own_splits(cfg, paths)
    return task


def _check_own_splits(cfg: TrainConfig, paths: list) -> None:
    """Split names need YOLO sets to name splits in; a YOLO set with splits of its own, divided by ratios
    instead, gets a note (its train side may hold augmented copies of photos that would land in valid)."""
    names = cfg.split_names()
    for p in paths:
        yolo = data_yaml(p) is not None and not (Path(p) / "annotations.csv").exists()
        if names and data_yaml(p) is None:
            raise DatasetError(f"--split {cfg.split}: {shown(p)} is not a YOLO set (no data.yaml) to take splits from")
        if names or not yolo:
            continue
        try:
            lay = read_layout(p)
            keys = distinct_splits(lay) if lay.splits else []
        except DatasetError:
            continue  # said when the set is read
        if len(keys) > 1:
            print(f"aslkit: note: {shown(p)} has its own splits ({', '.join(keys)}); they are pooled and divided "
                  f"{cfg.split}; --split {','.join(keys)} keeps them", file=sys.stderr)  # fmt: skip


@dataclass
class _RunData:
    """Everything ``train`` loaded and split: the whole set, the index of each split and the sets to fit on."""

    all_data: Any
    readable: np.ndarray  # rows that could be read (before any fitting)
    not_chosen: dict[str, int]
    labels: list[str]
    tr_idx: np.ndarray
    va_idx: np.ndarray
    te_idx: np.ndarray
    unseen: dict[str, int]
    train_set: Any
    valid_set: Any
    fit_set: Any
    copies: Any
    roots: list[Path] = field(default_factory=list)  # the photo sets' own folders (a data.yaml `path:` elsewhere)


def _note_single_examples(labels: list[str]) -> None:
    """One line on stderr naming the classes with a single example: they are trained on, but nothing of
    theirs is left to validate or test with, and one take rarely stands for a sign (or a letter)."""
    counts = Counter(labels)
    single = sort_labels(lab for lab, n in counts.items() if n == 1)
    if single:
        print(f"aslkit: note: {len(single)} class(es) have a single example, trained on but never validated "
              f"or tested: {', '.join(single[:10])}{' ...' if len(single) > 10 else ''}", file=sys.stderr)  # fmt: skip


def _load_and_split(task: TrainTask, paths: list, cfg: TrainConfig, cache_dir, progress: bool) -> _RunData:
    """Load the data, keep the chosen classes, split it and add --video-like copies to the training side."""
    origin: list[tuple[ImageDataset, int] | None]  # landmark rows: their photo, for --video-like
    all_data, origin = task.load(paths, cfg, cache_dir, progress)
    all_data, not_chosen, chosen = chosen_classes(all_data, cfg.classes)
    labels = sort_labels(set(all_data.labels))
    if len(labels) < 2:
        raise DatasetError(f"need at least 2 classes to train, found {labels}")
    twice = same_label_twice(labels)
    if twice is not None:
        raise DatasetError(f"the labels {twice[0]!r} and {twice[1]!r} name one sign (they differ only in case or "
                           "spelling): rename one folder, or --relabel")  # fmt: skip
    readable = all_data.readable
    if len(readable) and not readable.any():  # not "no hand found": nothing could be read at all
        first = next((e for e in all_data.errors if isinstance(e, str)), "")
        raise DatasetError(
            f"none of the {len(readable)} training files could be read" + (f" (first: {first})" * bool(first))
        )
    _note_single_examples(all_data.labels)
    tr_idx, va_idx, te_idx = _split(all_data, cfg, paths)
    tr_idx, va_idx = tr_idx[readable[tr_idx]], va_idx[readable[va_idx]]
    unseen: dict[str, int] = {}
    if task.own_classes:  # a held-out signer may have signed classes nobody else did
        labels = sort_labels({all_data.labels[i] for i in tr_idx})
        va_idx, _ = _known(all_data, va_idx, labels)
        te_idx, unseen = _known(all_data, te_idx, labels)
        if len(labels) < 2:
            raise DatasetError(f"need at least 2 classes on the training side, found {labels}")
    train_set, valid_set = all_data.subset(tr_idx), all_data.subset(va_idx)
    fit_set, copies = train_set, None
    if cfg.video_like:  # degraded copies of the training side's photos only
        copies = _video_like_copies([origin[chosen[i]] for i in tr_idx], cfg, cache_dir, progress)
        if copies is None:
            raise DatasetError("--video-like degrades photos, and the training data holds landmark files only")
        fit_set = concat([train_set, copies])
    roots = sorted({o[0].root for o in origin or [] if o is not None})
    return _RunData(
        all_data, readable, not_chosen, labels, tr_idx, va_idx, te_idx, unseen, train_set, valid_set, fit_set, copies,
        roots,
    )  # fmt: skip


def _readable_counts(d: _RunData) -> dict[str, int]:
    counts = Counter(lab for lab, ok in zip(d.all_data.labels, d.readable, strict=True) if ok)
    return {lab: counts[lab] for lab in d.labels}


def _run_config(d: _RunData, cfg: TrainConfig, paths: list, command: str | None) -> dict[str, Any]:
    """config.json: the command, data and options of the run, its classes and split sizes."""
    config = {
        "command": command,
        "data": [str(p) for p in paths],
        "data_resolved": [str(Path(p).resolve()) for p in paths],  # --resume works from any folder
        "train": cfg.to_dict(),
        "labels": d.labels,
        # readable examples only: an unreadable file is not trained or scored on (metrics.json counts those)
        "counts": _readable_counts(d),
        "split_sizes": {"train": len(d.tr_idx), "valid": len(d.va_idx), "test": len(d.te_idx)},
    }
    if d.copies is not None:
        config["video_like_copies"] = {"count": len(d.copies), "with_hand": int(d.copies.has_hand.sum())}
    if d.not_chosen:
        config["left_out_classes"] = d.not_chosen
    return config


def _check_same_data(run_dir: Path, config: dict[str, Any]) -> None:
    """A resumed run must go on with the data it began with: its checkpoint's classes, and its split, are those
    of the first start. A file added or deleted since then would change the split (or the classes) without a
    word, so the classes, the count of each and the split's sizes must be as config.json recorded them."""
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    for key, what in (("labels", "classes"), ("counts", "examples per class"), ("split_sizes", "split sizes")):
        if key in saved and saved[key] != config[key]:
            raise DatasetError(
                f"the data changed since {shown(run_dir)} began: its {what} were {brief(saved[key], 120)}, now "
                f"{brief(config[key], 120)}; start a new run (a new --out)"
            )


def _run_metrics(
    d: _RunData,
    trained: TrainedModel,
    evaluate_split: Callable[[TrainedModel, Any], dict],
    hand_rate: float | None,
    t0: float,
    ckpt: tuple[dict, dict] | None,
) -> dict[str, Any]:
    """metrics.json: each split's scores, what was unreadable or left out, time taken and the best epoch."""
    # clips and videos that could not be read at all are not in the set: (file, why) in its errors
    left_out = [why for _, why in d.all_data.errors] if isinstance(d.all_data, SequenceSet) else []
    metrics: dict[str, Any] = {
        "detection_rate_all": hand_rate,
        "unreadable": int((~d.readable).sum()) + len(left_out),
        "train": evaluate_split(trained, d.train_set),
        "valid": evaluate_split(trained, d.valid_set),
    }
    if left_out:
        metrics["left_out_files"] = left_out
    if len(d.te_idx):
        metrics["test"] = evaluate_split(trained, d.all_data.subset(d.te_idx))
    if d.unseen:
        metrics["test_left_out"] = d.unseen  # label -> clips of classes the training side never had
    metrics["train_seconds"] = round(time.time() - t0, 1)
    if ckpt is not None:
        metrics["resumed_after_epoch"] = int(ckpt[0]["epoch"])
    metrics["best_epoch"] = trained.meta["best_epoch"]
    return metrics


def _write_run(
    run_dir: Path, trained: TrainedModel, history: list[dict], metrics: dict[str, Any], config: dict[str, Any]
) -> None:
    """The finished run folder: model, history, metrics, curves, confusion matrix, report and model card
    (README.md); no checkpoint. model.json names the data and command without the machine's folders (config.json
    keeps the paths, for --resume), so the model can be shared."""
    shown_split = metrics.get("test", metrics["valid"])
    trained.meta.update({**portable_meta(config["command"], config["data"]), "test_accuracy": shown_split["accuracy"]})
    trained.save(run_dir, "model")
    (run_dir / "history.json").write_text(json.dumps(history), encoding="utf-8")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    plot_curves(history, run_dir / "curves.png")
    shown = metrics.get("test", metrics["valid"])
    split_name = "test" if "test" in metrics else "valid"
    cm = shown["confusion_matrix"]
    plot_confusion(cm["matrix"], cm["labels"], run_dir / "confusion_matrix.png", f"{split_name} split")
    write_markdown(
        shown,
        run_dir / "report.md",
        f"Training run: {split_name} split",
        {"curves": "curves.png", "confusion matrix": "confusion_matrix.png"},
    )
    write_run_card(run_dir, trained, config, metrics)
    clear_checkpoint(run_dir)


def train(
    data: str | Path | list[str | Path] | None,
    out: str | Path | None = None,
    model: str | None = None,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
    command: str | None = None,
    resume: str | Path | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train a model on one or more labelled sets and write a run folder.

    Args:
        data: folder(s) of class sub-folders, folders holding a box annotations.csv, or landmark .npz
            files (landmark models only); for sequence models, .npz files of landmark clips or
            <sign>/<take> folders of .npy frames (``holdout=SIGNER`` tests on held-out signers).
        out: run folder to create: new or empty, outside the data (an unfinished run is continued
            with ``resume``, never restarted over); None: the next free runs/train/exp, exp2, ... (cwd).
        model: registered architecture name (default: defaults.toml's, ``landmark-mlp``); its own
            recipe (``aslkit models``) applies unless overridden.
        resume: an interrupted run folder: continue from its last complete epoch, with the data and
            options it was started with (``data``/``out``/``overrides`` must then be left out).
        overrides: any key of defaults.toml [train], [augment] or [image_augment] (lr=1e-3, epochs=50, ...).
    """
    if "cv" in overrides or "folds" in overrides:  # the CLI's --cv signer is its own function here
        raise AslkitError("cross-validation is aslkit.cross_validate(data, out, model=..., folds=5), not train(cv=...)")
    if model == "sign-dictionary" and resume is None:  # built from examples: nothing to fit
        return _dictionary(data, out, cache_dir, progress, command, overrides)
    t0 = time.time()
    cfg, run_dir, paths, command, ckpt = _run_settings(data, out, model, command, resume, overrides)
    claimed = out is None and resume is None  # runs/train/expN, made by _run_settings: removed if nothing starts
    try:
        task = _task_for(cfg, paths)
        d = _load_and_split(task, paths, cfg, cache_dir, progress)
    except BaseException:
        if claimed:
            remove_if_empty(run_dir)
        raise

    if d.roots:  # the folders the photos were found in, not only the paths given (a data.yaml's `path: ../set`)
        try:
            check_outside(run_dir, d.roots, flag="--out", what="the training data")
        except AslkitError:
            if claimed:
                remove_if_empty(run_dir)
            raise
    created = claimed or not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    config = _run_config(d, cfg, paths, command)
    if ckpt is None:
        (run_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    else:
        _check_same_data(run_dir, config)

    try:
        trained, history = fit_model(
            task.plan, d.fit_set, d.valid_set, d.labels, cfg, run_dir, progress, ckpt, threads=task.threads
        )
        evaluate_split = task.score
        hand_rate = task.hand_rate(cfg, d.all_data, d.readable)
    except BaseException:  # any failure (or Ctrl-C) before the first checkpoint leaves no folder to block a rerun
        if ckpt is None:
            _remove_unstarted_run(run_dir, created)
        raise
    metrics = _run_metrics(d, trained, evaluate_split, hand_rate, t0, ckpt)
    _write_run(run_dir, trained, history, metrics, config)
    return TrainResult(run_dir, trained, metrics, d.all_data.subset(d.te_idx))


def _dictionary(data, out, cache_dir, progress: bool, command: str | None, overrides: dict[str, Any]) -> Any:
    """``train(model="sign-dictionary")``: embed the examples into a dictionary (training/dictionary.py)."""
    from aslkit.training.dictionary import build_dictionary

    extra = sorted(set(overrides) - {"encoder", "add", "workers"})
    if extra:
        raise AslkitError(f"a sign dictionary trains nothing, so it takes no training options (got {', '.join(extra)})")
    if out is None:
        raise AslkitError("give --out DICT_DIR (a new folder for the dictionary)")
    enc, add = overrides.get("encoder"), overrides.get("add")
    return build_dictionary(data or [], out, enc, add, cache_dir, progress, command)


def train_text(res: Any) -> str:
    """What `aslkit train` prints about a finished run: its folder, test (else valid) scores, what was left out."""
    m = res.metrics
    if m.get("dictionary"):
        from aslkit.training.dictionary import dictionary_text

        return dictionary_text(res)
    split = "test" if "test" in m else "valid"
    r = m[split]
    hands = f"detected hands: {100 * r['accuracy_detected']:.2f}%, " if m.get("detection_rate_all") is not None else ""
    out = [f"run folder: {shown(res.run_dir)}"]
    if r.get("n", 1) == 0:  # e.g. one photo per class: every one is trained on, none is left to score
        out.append(f"{split} end-to-end accuracy: none measured (the {split} side holds no examples)")
    else:
        out.append(f"{split} end-to-end accuracy: {100 * r['accuracy']:.2f}%  ({hands}macro F1 {r['macro_f1']:.4f})")
    if m.get("left_out_files"):
        out.append(f"unreadable files left out: {len(m['left_out_files'])} (first: {shown(m['left_out_files'][0])})")
    elif m.get("unreadable"):
        out.append(f"unreadable files left out: {m['unreadable']}")
    if m.get("test_left_out"):
        out.append(f"left out of the test (classes the training side never had): {m['test_left_out']}")
    out.append(f"trained in {m['train_seconds']} s, best epoch {m['best_epoch']}")
    return "\n".join(out)
