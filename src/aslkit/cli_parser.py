"""The command line's grammar: every task, its options and their help, and how argv becomes a namespace.

Declarations only: ``aslkit.cli`` runs each task (by ``args.task``) through the Python API. Besides argparse,
the command line takes Ultralytics-style ``key=value`` (``kv_to_flags``), for the tasks that allow them any
setting of defaults.toml as ``--key value`` (``live_overrides``), and a settings file, ``cfg=FILE.toml``, whose
values count as if given first, so any option on the command line wins over them (``CFG_SECTIONS``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

from aslkit.config import FALSE_WORDS, LIVE_CHOICES, TRUE_WORDS
from aslkit.errors import AslkitError

KV_OPTION = re.compile(r"^([a-z][a-z0-9_-]*)=(.*)$")
FORMATS = ("csv", "yolo", "coco", "voc")  # box annotation formats (aslkit.data.boxes), for --to and --from
SHELLS = ("bash", "zsh")  # `aslkit completion SHELL` (shtab writes the script)

# task -> the sections of defaults.toml it reads from a settings file (cfg=FILE.toml); only these tasks take one.
# Each also reads [landmarks] (which MediaPipe API runs), applied as $ASLKIT_MEDIAPIPE_API unless that is set.
CFG_SECTIONS: dict[str, tuple[str, ...]] = {
    "predict": ("predict",),
    "evaluate": (),
    "train": ("train", "augment", "image_augment"),
    "augment": ("image_augment",),
    "benchmark": ("live",),
    "live": ("live",),
    "transcribe": ("live",),
    "evaluate-spelling": ("live",),
}
MP4_NOTE = (
    ".mp4 is H.264 (plays in browsers) with PyAV installed (pip install 'aslkit[video]'), else MPEG-4 Part 2 "
    "(mp4v), which browsers do not play; .webm always plays"
)


# flags that take no value
SWITCHES = {
    "--json", "--no-cache", "--quiet", "-q", "--help", "-h", "--no-window", "--manifest", "--no-landmarks", "--resume",
    "--link", "--photos", "--finetune",
}  # fmt: skip


def kv_to_flags(argv: list[str]) -> list[str]:
    """Accept Ultralytics-style ``key=value`` as ``--key=value``, unless it names an existing file or
    is the value of the option before it (``--test massey=DIR``). One token, so that a value is never
    read as DATA when the option is not the task's own (``train epochs=2`` with DATA forgotten). A switch
    takes true or false (``json=true``); ``finetune=NAME`` is ``--finetune --model NAME``. After ``--``, nothing
    is rewritten."""
    out: list[str] = []
    for i, tok in enumerate(argv):
        if tok == "--":  # everything after it is a path as typed (json=false.jpg)
            return out + argv[i:]
        m = KV_OPTION.match(tok)
        is_value = bool(out) and out[-1].startswith("-") and "=" not in out[-1] and out[-1] not in SWITCHES
        if m and not is_value and not Path(tok).exists():
            out += _kv_tokens("--" + m.group(1).replace("_", "-"), m.group(2))
        else:
            out.append(tok)
    return out


def _kv_tokens(flag: str, value: str) -> list[str]:
    if flag not in SWITCHES:
        return [f"{flag}={value}"]
    if value.strip().lower() in TRUE_WORDS:
        return [flag]
    if value.strip().lower() in FALSE_WORDS:
        return []
    if flag == "--finetune":
        return [flag, "--model", value]
    return [f"{flag}={value}"]  # argparse says a switch takes no value


def _views(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--views",
        choices=("1", "2", "auto"),
        default=None,
        help="1: the photo as is; 2: also its mirror image, averaged (twice the MediaPipe time); "
        "auto: the mirror image only where the photo alone is uncertain; default: the model's own setting",
    )


def _backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default=None, choices=("torch", "onnx"),
                   help="run the network on torch (default) or onnxruntime (exported once, cached)")  # fmt: skip


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", default=None, help="landmark cache folder (default: ~/.cache/aslkit)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the landmark cache")
    p.add_argument(
        "--workers",
        type=_whole(0, 1024),
        default=0,
        help="MediaPipe processes (default: one per core, up to 8; never more than 4 per core or one per file)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def _live_settings(p: argparse.ArgumentParser) -> None:
    """Every key of defaults.toml [live] as an option (checked by LiveConfig): declared, so that a value is
    never taken for one of the command's paths."""
    from dataclasses import fields

    from aslkit.config import LIVE_CHOICES, LiveConfig, defaults_section

    g = p.add_argument_group("live settings", "any key of defaults.toml [live]: --word-gap-s 1.5 or word_gap_s=1.5")
    defaults = defaults_section("live")
    for f in fields(LiveConfig):
        choices = LIVE_CHOICES.get(f.name)  # named in --help and completed by the shell
        value = defaults.get(f.name, f.default)
        shown_default = str(value).lower() if isinstance(value, bool) else str(value) or "''"
        g.add_argument("--" + f.name.replace("_", "-"), dest=f"live__{f.name}", default=None, choices=choices,
                       metavar="{" + ",".join(choices) + "}" if choices else "V",
                       help=f"default {shown_default}")  # fmt: skip


def _cfg(p: argparse.ArgumentParser, task: str) -> None:
    """``--cfg FILE.toml`` (or ``cfg=FILE.toml``) on a task that reads settings: which sections, in the help."""
    sections = ", ".join(f"[{s}]" for s in (*CFG_SECTIONS[task], "landmarks"))
    p.add_argument("--cfg", default=None, metavar="FILE.toml",
                   help=f"settings file laid out like defaults.toml; this task reads its {sections}; options given "
                        "on the command line win over the file")  # fmt: skip


def _folds(text: str) -> int:
    """audit --folds: 0 (no model) or 2 to 100; one fold has nothing to train on."""
    v = _whole(0, 100)(text)
    if v == 1:
        raise argparse.ArgumentTypeError("expected 0 (the neighbours alone) or 2 to 100, got 1 (a fold has nothing "
                                         "to train on)")  # fmt: skip
    return v


def _whole(lo: int, hi: int):
    """argparse type: a whole number from lo to hi; anything else is a one-line usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"expected {lo} to {hi}, got {v}")
        return v

    return parse


def _real(lo: float, hi: float):
    """argparse type: a finite number from lo to hi (NaN, inf and out-of-range values are usage errors)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(v) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"expected {lo:g} to {hi:g}, got {text}")
        return v

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes are one line (`aslkit: error: ...`) like every other error."""

    def error(self, message: str):  # type: ignore[override]
        print(f"aslkit: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def _add_predict(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="the letter in photos, or with a sign model (--model words) the sign in videos, .npy or .pose clips",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--model", default=None, help="shipped model name or run folder (default: letters)")
    p.add_argument("--json", action="store_true", help="one JSON object per image or clip per line")
    p.add_argument("--top-k", type=_whole(1, 1000), default=5)
    _views(p)
    _backend(p)
    p.add_argument("--engine", default="local", choices=("local", "ray"),
                   help="ray: photos spread over a Ray actor pool (pip install 'aslkit[ray]')")  # fmt: skip
    p.add_argument("--address", default=None, help="--engine ray: a cluster's address (default: a local Ray)")
    _common(p)


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="accuracy, F1 and detection rate on a labelled image set, or on clips with a sign model",
        description="Accuracy, F1 and hand detection rate on a labelled set. With groups (--group-by folder, "
        "--group-pattern; clips: their signer), a report card per group, worst first: accuracy (a photo with no "
        "hand found counts as wrong), detection rate, accuracy on detected hands, macro F1, and the 3 letters "
        "with the lowest recall, each with what it was most often read as, e.g. 'P 0.35 (Z 9, N 3)'.",
    )
    p.add_argument("data", metavar="DATA",
                   help="folder of class folders (photos; with --group-by folder, a folder of those); .npz or folder "
                        "of clips")  # fmt: skip
    p.add_argument("--model", default=None, help="shipped model name or run folder (default: letters)")
    p.add_argument("--json", action="store_true", help="print one JSON object of metrics")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="write confusion matrix PNG and report.md")
    p.add_argument("--group-pattern", default=None, metavar="REGEX",
                   help=r"a report card per group of file names, e.g. 'hand(\d+)' for Massey's signers")  # fmt: skip
    p.add_argument("--group-by", default=None, choices=("folder",),
                   help="folder: DATA holds one sub-folder per person or camera, each with class folders "
                        "(DATA/<person>/<A..Z>/*.jpg); a report card per sub-folder")  # fmt: skip
    _views(p)
    _backend(p)
    _common(p)


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on photos, boxes, landmark sets, sign clips or videos; writes a run folder",
        description="Train a registered model. Any key of defaults.toml [train], [augment] or [image_augment] "
        "is an option too: --epochs 50, --lr 1e-3, --crop hand, --rotation-deg 20 (or epochs=50 ...).",
    )
    p.add_argument("data", nargs="*", metavar="DATA_DIR")
    p.add_argument("--model", default=None, help="registered architecture (see `aslkit models`; default landmark-mlp)")
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="new run folder (default: the next free runs/train/exp, exp2, ...)")  # fmt: skip
    p.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue an interrupted run from its last epoch")
    p.add_argument("--cv", default=None, choices=("signer",),
                   help="signer: leave-signers-out cross-validation (sign models): --folds runs, each scored on "
                        "signers it never saw; --out gets a run folder per fold and cv.md")  # fmt: skip
    p.add_argument("--folds", type=_whole(2, 1000), default=5, help="--cv: how many folds of signers (default 5)")
    p.add_argument("--split", default=None, metavar="RATIOS|NAMES",
                   help="train,valid[,test] ratios (default 0.7,0.2,0.1), or split names of a YOLO DATA: train,val"
                        "[,test] makes each its side of the run; one name (valid) reads only that split")  # fmt: skip
    p.add_argument("--finetune", action="store_true",
                   help="sign and letter models: start from --model's trained weights (a shipped name such as "
                        "words or letters, or a run folder); new classes allowed")  # fmt: skip
    p.add_argument("--encoder", default=None, metavar="MODEL",
                   help="--model sign-dictionary: the seq-tcn sign model whose trunk embeds the examples (default: the "
                        "shipped sign-encoder)")  # fmt: skip
    p.add_argument("--add", default=None, metavar="DICT",
                   help="--model sign-dictionary: start from this dictionary and add the examples' words to it "
                        "(written to --out as a new dictionary; DICT is not changed)")  # fmt: skip
    _common(p)
    p.set_defaults(overrides_ok=True)

    p = sub.add_parser(
        "augment",
        help="preview image augmentation: originals beside augmented copies, as one PNG",
        description="Any key of defaults.toml [image_augment] is an option too (--rotation-deg 30, --ops flip,zoom).",
    )
    p.add_argument("data", metavar="DATA_DIR")
    p.add_argument("--preview", required=True, metavar="OUT.png", help="grid PNG to write")
    p.add_argument("--n", type=_whole(1, 1000), default=8, help="images (rows), spread over the classes")
    p.add_argument("--per-image", type=_whole(0, 32), default=4, help="augmented copies per image (columns)")
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=0)
    p.set_defaults(overrides_ok=True)


def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare", help="train several models on one set; score each in-distribution and on other sets; one table"
    )
    p.add_argument("data", metavar="TRAIN_DIR")
    p.add_argument("--test", action="append", default=[], metavar="NAME=DIR",
                   help="a set to score end to end (repeatable)")  # fmt: skip
    p.add_argument(
        "--models",
        default="landmark-mlp,cnn-small,cnn-deep,efficientnet-lite0,efficientnet-lite0:crop=hand,"
        "efficientnet-lite0:crop=hand-mask,mobilenetv2,clip-vit-b32",
        help="comma-separated model specs; options after a colon, e.g. efficientnet-lite0:crop=hand",
    )
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="new folder: run folders, compare.md, compare.json")
    p.add_argument("--resume", action="store_true", help="continue the comparison in --out (finished runs reused)")
    p.add_argument("--split", default="0.8,0.1,0.1", help="random train,valid,test split of TRAIN_DIR")
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=0)
    p.add_argument("--weights", action="append", default=[], metavar="MODEL=PATH", help="pretrained weights")
    _common(p)


def _add_live(sub) -> None:
    p = sub.add_parser(
        "benchmark", help="live pipeline ms per stage and FPS on a video; with a sign model, ms per clip"
    )
    p.add_argument("--model", default=None, help="letter model (default: letters) or a sign model, e.g. words")
    p.add_argument("--source", default=None, help="video to run live recognition on (default: build one)")
    p.add_argument("--data", default=None,
                   help="photos to build the video from (default: $ASLKIT_BENCH_PHOTOS); with a sign model, clips "
                        "to time")  # fmt: skip
    p.add_argument("--word", default=None, help="what the built video spells (default QUICKBROWNFOX)")
    p.add_argument("--max-frames", type=_whole(1, 10**9), default=None, help="stop after this many frames")
    p.add_argument("--clips", type=_whole(1, 10**6), default=None, help="sign models: how many clips (default 200)")
    p.add_argument("--frames", type=_whole(1, 4096), default=None, help="sign models: frames per random clip (30)")
    p.add_argument("--json", action="store_true", help="one JSON object (fps and stages, or per_clip_ms)")
    _backend(p)
    p.set_defaults(overrides_ok=True)

    p = sub.add_parser("live", help="webcam, video or stream -> letters and words as text, in real time")
    p.add_argument("--source", default="0", help="camera index, video file or stream URL (default: camera 0)")
    p.add_argument("--out", default=None, help="write the annotated video here (.mp4, .webm or .avi); " + MP4_NOTE)
    p.add_argument("--transcript", default=None, help="write the text here")
    p.add_argument("--no-window", action="store_true", help="no window (also automatic without a display)")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--max-frames", type=_whole(1, 10**9), default=None, help="stop after this many frames")
    p.add_argument("--json", action="store_true", help="print the text, events and per-stage timings as JSON")
    p.set_defaults(overrides_ok=True)


def _add_capture(sub) -> None:
    p = sub.add_parser("capture", help="record your own sign data: LABEL takes as OUT/LABEL/take-NNN.mp4")
    p.add_argument("--label", required=True, help="the sign (or letter) recorded: the class folder's name")
    p.add_argument("--out", required=True, help="the data set folder (new, or one to add takes to)")
    p.add_argument("--takes", type=_whole(1, 1000), default=10, help="how many takes (default: 10)")
    p.add_argument("--seconds", type=_real(0.2, 60), default=2.0, help="seconds per take (default: 2)")
    p.add_argument("--source", default="0", help="camera index or video file (default: camera 0)")
    p.add_argument("--photos", action="store_true", help="one photo per take (the middle frame), for letters")
    p.add_argument("--countdown", type=_real(0, 30), default=3.0, help="seconds before the first take (default: 3)")
    p.add_argument("--gap", type=_real(0, 60), default=1.0, help="seconds between takes (default: 1)")
    p.add_argument("--no-window", action="store_true", help="no window (also automatic without a display)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")


def _add_spelling(sub) -> None:
    p = sub.add_parser(
        "transcribe",
        help="fingerspelling videos -> text, letter by letter with times",
        usage="aslkit transcribe VIDEO... [--json] [--lexicon FILE] [--model M] [--KEY V | key=v ...]",
    )
    p.add_argument("paths", nargs="+", metavar="VIDEO", help="videos or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON row per video: path, text, letters, error")
    p.add_argument("--lexicon", default=None, metavar="FILE",
                   help="word list (one a line): unsure words snap to the nearest word in it")  # fmt: skip
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _live_settings(p)
    p.set_defaults(overrides_ok=True)

    p = sub.add_parser(
        "evaluate-spelling",
        help="exact words, Kaggle score and CER of transcribe on labelled videos",
        usage="aslkit evaluate-spelling DIR... [--json] [--report OUT] [--lexicon FILE] [--model M] [--KEY V ...]",
    )
    p.add_argument("data", nargs="+", metavar="DIR", help="videos named by their word, or a labels.csv (file,text)")
    p.add_argument("--json", action="store_true", help="print one JSON object: metrics and one row per video")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="write report.md and results.json there")
    p.add_argument("--lexicon", default=None, metavar="FILE", help="word list to snap unsure words to")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _live_settings(p)
    p.set_defaults(overrides_ok=True)


def _split(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--split", default=None, metavar="NAME",
                   help="only this split, by name (train, val or valid, test): of a YOLO set whose data.yaml names "
                        "them (Ultralytics or Roboflow layout), or of a folder of split folders; "
                        f"default: {default}")  # fmt: skip


def _add_boxes(sub) -> None:
    p = sub.add_parser("convert", help="box annotations from one format to another (csv, yolo, coco, voc)")
    p.add_argument(
        "source", metavar="SRC", help="annotations.csv, a YOLO folder or data.yaml, a COCO .json or a VOC folder"
    )
    _split(p, "every split, each image once")
    p.add_argument("--to", required=True, choices=FORMATS)
    p.add_argument("--out", required=True,
                   help="a new or empty folder outside the source set (images are copied into it)")  # fmt: skip
    p.add_argument(
        "--from", dest="source_format", default=None, choices=FORMATS, help="source format (default: detected)"
    )
    p.add_argument("--link", action="store_true",
                   help="hard-link the images instead of copying them (same file system; the output's image "
                        "files are then the source's own files: a change to one is a change to both)")  # fmt: skip

    p = sub.add_parser("evaluate-detection", help="precision, recall, mAP of the letter detector on box annotations")
    p.add_argument(
        "data", metavar="DATA", help="annotations.csv, a YOLO folder or data.yaml, a COCO .json or a VOC folder"
    )
    _split(p, "every split, each image once")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--conf", type=_real(0, 1), default=0.25, help="confidence for precision, recall and the table")
    p.add_argument("--iou", type=_real(0, 1), default=0.5, help="IoU for a detection to count as found")
    p.add_argument("--views", type=int, choices=(1, 2), default=None, help="2: also the mirror image ([detect] views)")
    p.add_argument("--classes", default=None, help="only these letters, e.g. A,B,C")
    p.add_argument("--from", dest="source_format", default=None, choices=FORMATS)
    p.add_argument("--json", action="store_true", help="one JSON object: map50, map50_95, precision, recall, ...")
    p.add_argument("--report", default=None, metavar="OUT_DIR",
                   help="also write report.md, precision-recall and F1-confidence plots and the metrics as JSON "
                        "there (a new folder)")  # fmt: skip
    _common(p)

    p = sub.add_parser("detect", help="boxes with letters on photos, folders and videos; annotated copies + summary")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, videos or folders of them")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--conf", type=_real(0, 1), default=0.5, help="keep letters at least this sure")
    p.add_argument(
        "--iou", type=_real(0, 1), default=0.5, help="boxes of one letter overlapping more than this are one"
    )
    p.add_argument("--classes", default=None, help="only these letters, e.g. A,B,C")
    p.add_argument("--out", default=None, metavar="NEW_DIR",
                   help="write annotated photos/videos, detections.jsonl and summary.json/.md here; videos are "
                        "written as .mp4: " + MP4_NOTE)  # fmt: skip
    p.add_argument("--every", type=_whole(1, 10**6), default=1, help="videos: read every N-th frame")
    p.add_argument("--views", choices=("1", "2"), default=None, help="2: also the mirror image ([detect] views)")
    p.add_argument("--json", action="store_true", help="one JSON row per photo or video frame")
    _common(p)

    p = sub.add_parser(
        "audit", help="check a labelled set: balance, duplicates and leakage, no-hand images, suspected mislabels"
    )
    p.add_argument("data", metavar="DATA",
                   help="class folders, a box set (a YOLO set: each split its data.yaml names), or a folder of "
                        "train/valid/test sets")  # fmt: skip
    _split(p, "every split, checked for copies across them")
    p.add_argument("--out", default=None, metavar="NEW_DIR", help="report folder (default: runs/audit/<name>)")
    p.add_argument("--from", dest="source_format", default=None, choices=FORMATS)
    p.add_argument("--manifest", action="store_true", help="also write manifest.csv: keep, suggested label, findings")
    p.add_argument(
        "--folds", type=_folds, default=5, help="cross-validation folds for mislabels: 0 (neighbours only) or 2-100"
    )
    p.add_argument("--no-landmarks", action="store_true", help="skip MediaPipe: no no-hand or mislabel checks")
    p.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    _common(p)


def _add_tools(sub) -> None:
    p = sub.add_parser("export", help="a trained or shipped model as ONNX, checked against torch")
    p.add_argument("model", metavar="RUN_DIR|NAME")
    p.add_argument("--format", default="onnx", choices=("onnx",))
    p.add_argument("--out", default=None, metavar="FILE.onnx", help="default: RUN_DIR/model.onnx, or NAME.onnx here")
    p.add_argument("--data", default=None, help="check against torch on this labelled set (default: random inputs)")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser(
        "extract",
        help="hand landmarks of a photo set as Parquet shards, or clips as .pose files (train reads both directly)",
    )
    p.add_argument("data", metavar="DATA",
                   help="class folders of photos; --format pose: a video, <sign>/<take> videos or landmark clips "
                        "(.npy, .pose) or a .npz of sequences")  # fmt: skip
    p.add_argument(
        "--out",
        required=True,
        metavar="NEW_DIR",
        help="folder for part-*.parquet and landmarks.json (--format pose: <sign>/<take>.pose)",
    )
    p.add_argument("--format", default="parquet", choices=("parquet", "pose"),
                   help="pose: pose-format files (MediaPipe Holistic components) for sign-language tools; "
                        "needs pip install 'aslkit[pose]'")  # fmt: skip
    p.add_argument(
        "--fps",
        type=_real(0.1, 1000),
        default=None,
        help="--format pose: frame rate written for landmark arrays (default 30; videos keep theirs)",
    )
    p.add_argument("--engine", default="local", choices=("local", "ray"), help="local processes, or Ray Data")
    p.add_argument("--workers", type=_whole(0, 1024), default=0,
                   help="MediaPipe processes or Ray actors (default: one per core)")  # fmt: skip
    p.add_argument("--address", default=None, help="ray: a cluster's address (default: a local Ray)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")

    p = sub.add_parser(
        "serve", help="the web app (photo, webcam, video, record, model) and POST /v1/predict, on localhost"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="TCP port, 1-65535 (default: 7860)")
    p.add_argument("--model", default=None, help="photo model (default: letters)")
    p.add_argument("--runs", default=None, help="folder of runs clients may pick by name (default: ./runs)")
    p.add_argument("--record-dir", default=None, metavar="DIR",
                   help="the Record tab saves the browser camera's takes here as DIR/<label>/take-NNN.mp4 (a new or "
                        "empty folder, or one of takes); default: recording off")  # fmt: skip
    p.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="close a connection that has not sent its request headers in S seconds (default: 10)",
    )
    p.add_argument("--body-timeout", type=float, default=60.0, metavar="S",
                   help="close a connection that has not sent its request body in S seconds (default: 60)")  # fmt: skip

    p = sub.add_parser("make-spelling-video", help="a video spelling WORD with letter photos, for testing live")
    p.add_argument("word", metavar="WORD")
    p.add_argument("--data", required=True, help="photos in class folders (A/, B/, ..., Space/)")
    p.add_argument("--out", required=True,
                   help="video file to write (.mp4 or .avi; mp4v, a test input that browsers do not play)")  # fmt: skip
    p.add_argument("--fps", type=_real(1, 240), default=15.0)
    p.add_argument("--hold", type=_real(0.01, 60), default=1.0, help="seconds each letter is shown")
    p.add_argument("--gap", type=_real(0, 60), default=0.4, help="seconds without a hand after each letter")
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=0, help="which photos are picked")

    p = sub.add_parser("models", help="list registered architectures and shipped models, or print one's model card")
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="a shipped model (letters, words, ...) or a run folder: print its model card")  # fmt: skip
    p.add_argument("--json", action="store_true", help="with NAME: the card's path, front matter and text as JSON")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one small function per group of commands. A command runs by its name
    (``args.task``), which aslkit.cli maps to the function that runs it."""
    ap = _Parser(prog="aslkit", description="American Sign Language recognition toolkit.")
    ap.add_argument("--version", action="version", version=f"aslkit {package_version()}")
    sub = ap.add_subparsers(dest="task", metavar="TASK", parser_class=_Parser)
    for add in (
        _add_predict,
        _add_evaluate,
        _add_train,
        _add_compare,
        _add_live,
        _add_capture,
        _add_spelling,
        _add_boxes,
        _add_tools,
    ):
        add(sub)
    for task in CFG_SECTIONS:
        _cfg(sub.choices[task], task)
        _settings_epilog(sub.choices[task], task)
    p = sub.add_parser("completion", help='print a shell completion script: eval "$(aslkit completion bash)"')
    p.add_argument("shell", choices=SHELLS, help="bash or zsh")
    return ap


def _undeclared_settings(p: argparse.ArgumentParser, task: str) -> dict[str, object]:
    """defaults.toml keys that ``task`` takes as ``--key value`` without declaring them (train's --epochs)."""
    from aslkit.config import load_defaults

    if not p.get_default("overrides_ok"):
        return {}
    declared = {a.dest.removeprefix("live__") for a in p._actions}
    defaults = load_defaults()
    return {k: v for sec in CFG_SECTIONS[task] for k, v in defaults[sec].items() if k not in declared}


def _settings_epilog(p: argparse.ArgumentParser, task: str) -> None:
    """List the settings --help would otherwise not show, with their defaults, so they can be found there."""
    import textwrap

    settings = _undeclared_settings(p, task)
    if not settings:
        return

    def text(v: object) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v) or "''"

    shown = ", ".join(f"{k}={text(v)}" for k, v in settings.items())
    intro = "settings of defaults.toml, as key=value or --key value (shown at their defaults):"
    p.epilog = textwrap.fill(f"{intro} {shown}", 78, break_on_hyphens=False, break_long_words=False)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    if p.description:
        p.description = textwrap.fill(p.description, 78, break_on_hyphens=False)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml's), so --version never disagrees with pip."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aslkit")
    except PackageNotFoundError:
        return "unknown (not installed; run pip install -e .)"


# options whose value is a file or folder (a model too: a shipped name or a run folder), completed as paths
_PATH_OPTIONS = {
    "out", "cfg", "report", "cache_dir", "data", "source", "lexicon", "transcript", "preview", "runs", "record_dir",
    "resume", "add",
}  # fmt: skip


# options (and `models NAME`) whose value is a model: a shipped name, a registered architecture or a run folder
_MODEL_OPTIONS = {"model", "encoder", "motion_model", "word_model", "name"}


def _model_completion() -> tuple[dict[str, str], dict[str, str]]:
    """shtab's ``complete`` for a model option, and the shell functions behind it: the shipped models' and the
    registered architectures' names, then file names (a run folder)."""
    from aslkit.models import list_models
    from aslkit.models.io import shipped_models

    names = " ".join(sorted({*shipped_models(), *list_models()}))
    preamble = {
        "bash": f'_aslkit_models() {{\n  compgen -W "{names}" -- "$1"\n  compgen -f -- "$1"\n}}\n',
        "zsh": f"_aslkit_models() {{\n  _alternative 'models:model:({names})' 'files:run folder:_files'\n}}\n",
    }
    return {"bash": "_aslkit_models", "zsh": "_aslkit_models"}, preamble


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, generated from this very parser by shtab (so it never drifts):
    paths (positionals other than WORD, and the options above) complete as file names, model options as the
    shipped and registered names or a folder, and a task's defaults.toml settings as its options."""
    import shtab

    ap = build_parser()
    models, preamble = _model_completion()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    for task, p in sub.choices.items():
        for key, value in (_undeclared_settings(p, task) if task in CFG_SECTIONS else {}).items():
            p.add_argument(f"--{key.replace('_', '-')}", dest=f"setting__{key}", help=f"defaults.toml: {value}",
                           choices=LIVE_CHOICES.get(key))  # fmt: skip
        for a in p._actions:
            key = a.dest.removeprefix("live__").removeprefix("setting__")
            positional_path = not a.option_strings and a.choices is None and a.dest != "word"
            if key in _MODEL_OPTIONS and a.nargs != 0:
                a.complete = models  # type: ignore[attr-defined]
            elif positional_path or (a.option_strings and a.dest in _PATH_OPTIONS and a.nargs != 0):
                a.complete = shtab.FILE  # type: ignore[attr-defined]
    return shtab.complete(ap, shell=shell, preamble=preamble)


def live_overrides(args: argparse.Namespace, extra: list[str]) -> dict[str, str]:
    """The live settings given on the command line (declared ones, then any other --key value)."""
    from aslkit.config import parse_overrides

    given = {k[len("live__") :]: v for k, v in vars(args).items() if k.startswith("live__") and v is not None}

    return {**given, **parse_overrides(extra)}


def _check_file_value(action: argparse.Action, text: str, where: str) -> None:
    """A settings file's value for a declared option, checked as argparse would, but naming the file."""
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
        raise AslkitError(f"{where} = {text!r}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        raise AslkitError(f"{where} = {text!r}: use one of {', '.join(map(str, action.choices))}")


def _file_settings(
    ap: argparse.ArgumentParser, argv: list[str], args: argparse.Namespace
) -> tuple[argparse.Namespace, list[str], dict[str, object]]:
    """Parse again with ``--cfg``'s settings under the command line's: a setting that is a declared option of
    the task (``--model``, ``--top-k``, ``--workers``, a transcribe ``--word-gap-s``) goes in as that option,
    just after the task's name, so argparse types it and a later one on the command line replaces it; the others
    are returned as overrides for the task's settings object, which the command line's own then replace."""
    from aslkit.config import load_settings_file

    settings = load_settings_file(args.cfg, CFG_SECTIONS[args.task])
    api = load_settings_file(args.cfg, ("landmarks",)).get("mediapipe_api")
    if api and not os.environ.get("ASLKIT_MEDIAPIPE_API"):  # an environment variable, so workers follow it too
        from aslkit.landmarks.extractor import mediapipe_api

        os.environ["ASLKIT_MEDIAPIPE_API"] = mediapipe_api(str(api))  # checked: "legacy" or "tasks"
    known = vars(args)
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction)).choices[args.task]
    tokens, rest = [], {}
    for key, value in settings.items():
        dest = key if key in known else f"live__{key}" if f"live__{key}" in known else None
        if dest is None or isinstance(known[dest], bool):  # not declared, or a switch (train's --finetune)
            rest[key] = value
            continue
        flag, text = f"--{key.replace('_', '-')}", str(value).lower() if isinstance(value, bool) else str(value)
        if any(a == flag or a.startswith(flag + "=") for a in argv):
            continue  # the command line gives it: the file's value is never used, so never refused
        _check_file_value(next(a for a in sub._actions if a.dest == dest), text, f"--cfg {args.cfg}: {key}")
        tokens.append(f"{flag}={text}")
    if rest and not getattr(args, "overrides_ok", False):
        raise AslkitError(f"--cfg {args.cfg}: {args.task} takes no setting {', '.join(sorted(rest))}")
    at = argv.index(args.task) + 1
    args, extra = ap.parse_known_args([*argv[:at], *tokens, *argv[at:]])
    return args, extra, rest


def _join_setting_values(ap: argparse.ArgumentParser, argv: list[str], task: str) -> list[str]:
    """``--epochs 1`` -> ``--epochs=1`` for the settings a task takes undeclared, so that argparse never reads
    the value as DATA (``train --epochs 1 data/`` had taken 1 for a data folder)."""
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction)).choices[task]
    settings = {f"--{k.replace('_', '-')}" for k in _undeclared_settings(sub, task)}
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--":
            return out + argv[i:]
        if argv[i] in settings and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def parse_command_line(ap: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | None:
    """``argv`` (after ``kv_to_flags``) -> the namespace of its task, with ``overrides`` (the settings given
    beyond the declared options, for tasks that take them: a settings file's, then the command line's); None,
    with the help printed, when no task is named. A usage mistake is one line on stderr and SystemExit(2); a bad
    setting or settings file is an AslkitError."""
    args, extra = ap.parse_known_args(argv)
    if args.task is None:
        ap.print_help()
        return None
    if extra and getattr(args, "overrides_ok", False):
        joined = _join_setting_values(ap, argv, args.task)
        if joined != argv:
            argv = joined
            args, extra = ap.parse_known_args(argv)
    from_file: dict[str, object] = {}
    if getattr(args, "cfg", None):
        args, extra, from_file = _file_settings(ap, argv, args)
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction)).choices[args.task]
    if extra and not getattr(args, "overrides_ok", False):  # the task's own --help is the one to read
        sub.error(f"unrecognized arguments: {' '.join(extra)}")
    for a in sub._actions:  # "" is no path: export --out "" wrote NAME.onnx, cache_dir= read the default cache
        value = getattr(args, a.dest, None)
        named = a.option_strings and a.dest in (*_PATH_OPTIONS, "model", "encoder")
        if named and isinstance(value, str) and not value.strip():
            raise AslkitError(f"{a.option_strings[0]}: empty; give a name, or leave {a.option_strings[0]} out")
    args.overrides = {**from_file, **live_overrides(args, extra)}
    return args
