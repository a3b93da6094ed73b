"""``aslkit TASK [args] [--key value | key=value]``: a thin layer over the Python API.

Every failure the user can fix (bad file, missing folder, unknown model) is one line on stderr
and a non-zero exit code; set ASLKIT_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shlex
import sys
from pathlib import Path

from aslkit.errors import AslkitError
from aslkit.kinds import InputKind
from aslkit.names import shown

_KV = re.compile(r"^([a-z][a-z0-9_-]*)=(.*)$")


# flags that take no value
_SWITCHES = {
    "--json", "--no-cache", "--quiet", "-q", "--help", "-h", "--no-window", "--manifest", "--no-landmarks", "--resume",
    "--link",
}  # fmt: skip


def _kv_to_flags(argv: list[str]) -> list[str]:
    """Accept Ultralytics-style ``key=value`` as ``--key value``, unless it names an existing file or
    is the value of the option before it (``--test massey=DIR``)."""
    out: list[str] = []
    for tok in argv:
        m = _KV.match(tok)
        is_value = bool(out) and out[-1].startswith("-") and out[-1] not in _SWITCHES
        if m and not is_value and not Path(tok).exists():
            out += ["--" + m.group(1).replace("_", "-"), m.group(2)]
        else:
            out.append(tok)
    return out


def _progress_wanted(args) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _cache(args):
    return None if getattr(args, "no_cache", False) else (args.cache_dir or "default")


def _predict_clips(args, model) -> int:
    """Sign models: one answer per video or .npy clip."""
    from aslkit.inference.recognizers import recognizer
    from aslkit.inference.sequence_recognizer import ClipPrediction, collect_clip_paths

    if args.views is not None:
        raise AslkitError("--views applies to photos; a sign model reads each clip once")
    paths, problems = collect_clip_paths(args.paths)
    rec = recognizer(model, top_k=args.top_k, cache_dir=_cache(args))
    preds = [ClipPrediction(p, None, 0.0, [], False, why) for p, why in problems]
    preds += rec.predict_paths(paths, progress=_progress_wanted(args))
    for p in preds:
        if args.json:
            print(json.dumps(p.to_json()))
        elif p.error:
            print(f"{shown(p.path)}\terror: {shown(p.error)}")
        else:
            extra = "\t(no hand in any frame)" if not p.hand else ""
            print(f"{shown(p.path)}\t{p.label}\t{p.confidence:.3f}\t{p.frames} frames{extra}")
    if not any(p.error is None for p in preds):
        print(f"aslkit: error: none of the {len(preds)} file(s) could be read as a clip", file=sys.stderr)
        return 1
    return 0


def cmd_predict(args) -> int:
    from aslkit.inference.recognizer import Prediction, collect_image_paths
    from aslkit.inference.recognizers import photo_recognizer
    from aslkit.models.io import load_model

    model = load_model(args.model).use_backend(args.backend)
    if model.kind is InputKind.SEQUENCE:
        return _predict_clips(args, model)
    paths, problems = collect_image_paths(args.paths)
    preds = [Prediction(p, None, 0.0, [], False, why) for p, why in problems]
    if args.engine == "ray":
        from aslkit.inference.distributed import predict_ray

        if args.backend == "onnx" or model.kind is not InputKind.LANDMARKS:
            raise AslkitError("--engine ray runs the landmark letter models on torch")
        preds += predict_ray(paths, args.model, args.views, args.top_k, args.workers or None, args.address,
                             _progress_wanted(args))  # fmt: skip
    else:
        rec = photo_recognizer(model, top_k=args.top_k, cache_dir=_cache(args), views=args.views)
        preds += rec.predict_paths(paths, workers=args.workers or None, progress=_progress_wanted(args))
    n_ok = 0
    for p in preds:
        n_ok += p.error is None
        if args.json:
            print(json.dumps(p.to_json()), flush=False)
        elif p.error:
            print(f"{shown(p.path)}\terror: {shown(p.error)}")
        else:
            extra = "\t(no hand found)" if p.hand is False else ""
            print(f"{shown(p.path)}\t{p.label}\t{p.confidence:.3f}{extra}")
    sys.stdout.flush()
    if n_ok == 0:
        print(f"aslkit: error: none of the {len(preds)} file(s) could be read as an image", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate(args) -> int:
    from aslkit.evaluation.evaluate import evaluate, evaluate_text
    from aslkit.models.io import load_model

    m = evaluate(args.data, model=load_model(args.model).use_backend(args.backend), report_dir=args.report,
                 cache_dir=_cache(args), workers=args.workers or None, progress=_progress_wanted(args),
                 views=args.views, group_pattern=args.group_pattern, group_by=args.group_by)  # fmt: skip
    print(json.dumps(m) if args.json else evaluate_text(m, args.report))
    return 0


def cmd_train(args) -> int:
    from aslkit.training.trainer import train, train_text

    command = "aslkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    res = train(
        args.data or None,
        args.out,
        model=args.model,
        cache_dir=_cache(args),
        progress=not args.quiet,
        command=None if args.resume else command,
        resume=args.resume,
        **({"workers": args.workers} if args.workers and not args.resume else {}),  # --workers is a common flag
        **args.overrides,
    )
    print(train_text(res))
    return 0


def cmd_benchmark(args) -> int:
    """Sign models: ms per clip. Letter models (default): the live pipeline on a video, per stage."""
    from aslkit.models.io import load_model

    model = load_model(args.model).use_backend(args.backend)
    if args.backend:
        args.overrides["backend"] = args.backend
    if model.kind is InputKind.SEQUENCE:
        args.overrides.pop("backend", None)
        if args.overrides:
            raise AslkitError(f"live options ({', '.join(args.overrides)}) do not apply to a sign model's benchmark")
        from aslkit.evaluation.benchmark import benchmark_sequences, sequence_benchmark_text

        r = benchmark_sequences(model, args.data, clips=args.clips, frames=args.frames)
        print(json.dumps(r) if args.json else sequence_benchmark_text(r))
        return 0
    if model.kind is not InputKind.LANDMARKS:
        raise AslkitError("benchmark times the live pipeline (hand-landmark letter models) or sign models")
    from aslkit.live.benchmark import benchmark_live, live_benchmark_text

    photos = args.data or os.environ.get("ASLKIT_BENCH_PHOTOS") or None
    b = benchmark_live(args.source, photos, args.word, args.model, args.max_frames, **args.overrides)
    r = {"source": b["source"], "model": model.source or model.architecture, **b}
    print(json.dumps(r) if args.json else live_benchmark_text(r))
    return 0


def cmd_live(args) -> int:
    from aslkit.live.run import run_live

    res = run_live(args.source, out=args.out, transcript=args.transcript, window=not args.no_window,
                   model=args.model, **args.overrides)  # fmt: skip
    if args.json:
        print(json.dumps({"text": res.text, "events": [e.to_json() for e in res.events], **res.summary()}))
    else:
        print(res.text)
        print(f"{res.frames} frames at {res.fps:.1f} FPS", file=sys.stderr)
    return 0


def cmd_transcribe(args) -> int:
    """One line (or JSON row) per video as it is read; exit 1 when any video could not be read."""
    from aslkit.inference.transcribe import iter_transcribe

    n = bad = 0
    for r in iter_transcribe(
        args.paths, model=args.model, lexicon=args.lexicon, progress=_progress_wanted(args), **args.overrides
    ):
        n += 1
        bad += r.error is not None
        if args.json:
            print(json.dumps(r.to_json()), flush=True)
        elif r.error:
            print(f"{shown(r.path)}\terror: {shown(r.error)}", flush=True)
        else:
            note = f"\t(word list; read {r.raw_text})" if r.raw_text is not None else ""
            print(f"{shown(r.path)}\t{r.text or '(nothing read)'}{note}", flush=True)
    if bad:
        print(f"aslkit: error: {bad} of {n} file(s) could not be read as a video", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate_spelling(args) -> int:
    from aslkit.evaluation.spelling import evaluate_spelling, spelling_text

    m = evaluate_spelling(args.data, model=args.model, lexicon=args.lexicon, report_dir=args.report,
                          progress=_progress_wanted(args), **args.overrides)  # fmt: skip
    print(json.dumps(m) if args.json else spelling_text(m, args.report))
    if m["errors"]:
        print(f"aslkit: error: {m['errors']} file(s) could not be read as a video", file=sys.stderr)
        return 1
    return 0


def cmd_convert(args) -> int:
    from aslkit.data.boxes import convert_boxes

    bs, where = convert_boxes(args.source, args.out, args.to, args.source_format, link=args.link)
    print(f"{shown(args.source)} ({bs.source_format}): {len(bs.images)} images, {bs.n_boxes} boxes, "
          f"{len(bs.classes)} classes")  # fmt: skip
    print(f"wrote {args.to}: {shown(where)} (images {'hard-linked' if args.link else 'copied'})")
    if bs.problems:
        print(f"{len(bs.problems)} problem(s) left out or fixed, listed in {shown(Path(args.out) / 'problems.json')}; "
              "first:")  # fmt: skip
        for w, why in bs.problems[:5]:
            print(f"  {shown(w)}: {shown(why)}")
    return 0


def _class_list(text: str | None) -> list[str] | None:
    from aslkit.labels import canonical_label

    return [canonical_label(c) for c in text.split(",") if c.strip()] if text else None


def cmd_evaluate_detection(args) -> int:
    from aslkit.evaluation.detection import detection_text, evaluate_detection

    m = evaluate_detection(args.data, model=args.model, conf=args.conf, iou=args.iou, classes=_class_list(args.classes),
                           fmt=args.source_format, cache_dir=_cache(args), workers=args.workers or None,
                           progress=_progress_wanted(args), report_dir=args.report)  # fmt: skip
    print(json.dumps(m) if args.json else detection_text(m))
    return 0


def cmd_detect(args) -> int:
    from aslkit.detect import detect_paths
    from aslkit.inference.detector import HandLetterDetector

    det = HandLetterDetector(
        args.model, conf=args.conf, iou=args.iou, classes=_class_list(args.classes),
        views=int(args.views) if args.views else None,
    )  # fmt: skip

    def show(row) -> None:
        if args.json:
            print(json.dumps(row.to_json()), flush=True)
        elif row.error is not None:
            print(f"{shown(row.path)}\terror: {shown(row.error)}")
        elif row.frame is None:
            found = "; ".join(f"{b.label} {b.confidence:.2f} {[round(v) for v in b.xyxy]}" for b in row.boxes)
            print(f"{shown(row.path)}\t{found or ('no hand' if not row.hands else 'no letter at this confidence')}")

    s = detect_paths(args.paths, det, out=args.out, every=args.every, cache_dir=_cache(args),
                     workers=args.workers or None, progress=_progress_wanted(args), on_row=show)  # fmt: skip
    if not args.json:
        counts = ", ".join(f"{c} {r['boxes']}" for c, r in s["per_class"].items()) or "none"
        print(f"{s['photos']} photos, {s['videos']} videos, {s['frames']} frames: {s['boxes']} boxes ({counts}); "
              f"no hand in {s['no_hand']['frames']}, unsure in {s['low_confidence']['frames']}, "
              f"{len(s['errors'])} unreadable", file=sys.stderr)  # fmt: skip
        if args.out:
            print(f"annotated files, detections.jsonl and summary.md in {args.out}", file=sys.stderr)
    if s["frames"] == 0:
        print(f"aslkit: error: none of the {len(s['errors'])} input(s) could be read", file=sys.stderr)
        return 1
    return 0


def cmd_audit(args) -> int:
    from aslkit.evaluation.audit import AuditSettings, audit, audit_text, default_report_folder

    out = Path(args.out) if args.out else default_report_folder(args.data)
    r = audit(args.data, fmt=args.source_format, settings=AuditSettings(folds=args.folds),
              landmarks=not args.no_landmarks, cache_dir=_cache(args), workers=args.workers or None,
              progress=_progress_wanted(args), out=out, manifest=args.manifest)  # fmt: skip
    print(json.dumps(r) if args.json else audit_text(r, out, args.manifest))
    return 0


def cmd_export(args) -> int:
    from aslkit.export.onnx import TOLERANCE, check_parity, default_onnx_path, export_onnx
    from aslkit.inference.inputs import real_inputs
    from aslkit.models.io import load_model, shipped_models
    from aslkit.outputs import check_new_file

    model = load_model(args.model)
    out = Path(args.out) if args.out else default_onnx_path(model, args.model, args.model in shipped_models())
    check_new_file(out, [args.data] if args.data else [], what="the check data")  # never over an existing file
    path = export_onnx(model, out)
    inputs = (
        real_inputs(model, args.data, cache_dir=_cache(args), progress=_progress_wanted(args)) if args.data else None
    )
    parity = check_parity(model, path, inputs)
    r = {"onnx": str(path), "model": model.source or args.model, "bytes": path.stat().st_size, **parity.to_json()}
    if args.json:
        print(json.dumps(r))
    else:
        what = f"{parity.inputs} real inputs from {args.data}" if args.data else f"{parity.inputs} random inputs"
        print(f"wrote {path} ({r['bytes'] / 1e6:.2f} MB); against torch on {what}: largest logit difference "
              f"{parity.max_abs_logit_diff:.2e}, top-1 agreement {100 * parity.top1_agreement:.2f}%")  # fmt: skip
    if not parity.ok:
        print(f"aslkit: error: the ONNX model disagrees with torch (tolerance {TOLERANCE:g})", file=sys.stderr)
        return 1
    return 0


def cmd_extract(args) -> int:
    from aslkit.landmarks.extract import extract

    r = extract(args.data, args.out, engine=args.engine, workers=args.workers or None, address=args.address,
                progress=_progress_wanted(args)).to_json()  # fmt: skip
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['rows']} photos ({r['with_hand']} with a hand, {r['errors']} unreadable) in {r['seconds']} s: "
              f"{r['images_per_s']} images/s, {r['workers']} {r['engine']} workers; shards in {r['out']}")  # fmt: skip
    return 0


def cmd_serve(args) -> int:
    from aslkit.app.server import serve

    serve(host=args.host, port=args.port, model=args.model, runs=args.runs, header_timeout=args.header_timeout,
          body_timeout=args.body_timeout)  # fmt: skip
    return 0


def cmd_make_video(args) -> int:
    from aslkit.data.spelling_video import make_spelling_video

    v = make_spelling_video(args.word, args.data, args.out, fps=args.fps, hold_s=args.hold, gap_s=args.gap,
                            seed=args.seed)  # fmt: skip
    print(f"{v.path}: {v.text!r}, {v.frames} frames at {v.fps:g} FPS (photos listed in {v.path.name}.json)")
    return 0


def cmd_compare(args) -> int:
    from aslkit.evaluation.compare import compare, compare_specs, named_paths

    rows = compare(compare_specs(args.models), args.data, named_paths(args.test, "--test"), args.out,
                   split=args.split, seed=args.seed, weights=named_paths(args.weights, "--weights"),
                   cache_dir=_cache(args), progress=not args.quiet, resume=args.resume)  # fmt: skip
    print((Path(args.out) / "compare.md").read_text(encoding="utf-8"))
    return 0 if any("skipped" not in r for r in rows) else 1


def cmd_augment(args) -> int:
    from aslkit.config import ImageAugmentConfig
    from aslkit.data.image_augment import preview_dataset

    cfg = ImageAugmentConfig.from_defaults(**args.overrides)
    out = preview_dataset(args.data, args.preview, cfg, n=args.n, per_image=args.per_image, seed=args.seed)
    print(f"augmentation preview: {out}")
    return 0


def cmd_models(args) -> int:
    from aslkit.models import get_model_info, list_models
    from aslkit.models.io import DEFAULT_MODEL, load_model, shipped_models

    arch = [
        {
            "name": n,
            "input": get_model_info(n).input,
            "description": get_model_info(n).description,
            "recipe": get_model_info(n).train_defaults,
        }
        for n in list_models()
    ]
    trained = []
    for name in shipped_models():
        m = load_model(name)
        trained.append(
            {
                "name": name,
                "architecture": m.architecture,
                "classes": len(m.labels),
                "default": name == DEFAULT_MODEL,
                "labels": m.labels,
            }
        )
    if args.json:
        print(json.dumps({"architectures": arch, "trained": trained}))
        return 0
    print("registered architectures:")
    for a in arch:
        print(f"  {a['name']:<22} [{a['input']}] {a['description']}")
        if a["recipe"]:
            print(f"  {'':<22} recipe: {', '.join(f'{k}={v}' for k, v in a['recipe'].items())}")
    print("shipped trained models:")
    for t in trained:
        flag = " (default)" if t["default"] else ""
        print(f"  {t['name']:<22} {t['architecture']}, {t['classes']} classes{flag}")
    return 0


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
    p.add_argument("--workers", type=_whole(0, 1024), default=0, help="MediaPipe processes (default: one per core)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def _live_settings(p: argparse.ArgumentParser) -> None:
    """Every key of defaults.toml [live] as an option (checked by LiveConfig): declared, so that a value is
    never taken for one of the command's paths."""
    from dataclasses import fields

    from aslkit.config import LiveConfig

    g = p.add_argument_group("live settings", "any key of defaults.toml [live]: --word-gap-s 1.5 or word_gap_s=1.5")
    for f in fields(LiveConfig):
        g.add_argument("--" + f.name.replace("_", "-"), dest=f"live__{f.name}", default=None, metavar="V")


def _overrides(args, extra: list[str]) -> dict[str, str]:
    """The live settings given on the command line (declared ones, then any other --key value)."""
    from aslkit.config import parse_overrides

    given = {k[len("live__") :]: v for k, v in vars(args).items() if k.startswith("live__") and v is not None}

    return {**given, **parse_overrides(extra)}


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
        "predict", help="the letter in photos, or with a sign model (--model words) the sign in videos or .npy clips"
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
    p.set_defaults(func=cmd_predict)


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
    p.set_defaults(func=cmd_evaluate)


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on labelled image folders; writes a run folder",
        description="Train a registered model. Any key of defaults.toml [train], [augment] or [image_augment] "
        "is an option too: --epochs 50, --lr 1e-3, --crop hand, --rotation-deg 20 (or epochs=50 ...).",
    )
    p.add_argument("data", nargs="*", metavar="DATA_DIR")
    p.add_argument("--model", default=None, help="registered architecture (see `aslkit models`; default landmark-mlp)")
    p.add_argument("--out", default=None, metavar="RUN_DIR", help="new run folder")
    p.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue an interrupted run from its last epoch")
    _common(p)
    p.set_defaults(func=cmd_train, overrides_ok=True)

    p = sub.add_parser(
        "augment",
        help="preview image augmentation: originals beside augmented copies, as one PNG",
        description="Any key of defaults.toml [image_augment] is an option too (--rotation-deg 30, --ops flip,zoom).",
    )
    p.add_argument("data", metavar="DATA_DIR")
    p.add_argument("--preview", required=True, metavar="OUT.png", help="grid PNG to write")
    p.add_argument("--n", type=_whole(1, 1000), default=8, help="images (rows), spread over the classes")
    p.add_argument("--per-image", type=_whole(0, 32), default=4, help="augmented copies per image (columns)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_augment, overrides_ok=True)


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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", action="append", default=[], metavar="MODEL=PATH", help="pretrained weights")
    _common(p)
    p.set_defaults(func=cmd_compare)


def _add_live(sub) -> None:
    p = sub.add_parser(
        "benchmark", help="live pipeline ms per stage and FPS on a video; with a sign model, ms per clip"
    )
    p.add_argument("--model", default=None, help="letter model (default: letters) or a sign model, e.g. words")
    p.add_argument("--source", default=None, help="video to run live recognition on (default: build one)")
    p.add_argument("--data", default=None,
                   help="photos to build the video from (default: $ASLKIT_BENCH_PHOTOS); with a sign model, clips "
                        "to time")  # fmt: skip
    p.add_argument("--word", default="QUICKBROWNFOX", help="what the built video spells")
    p.add_argument("--max-frames", type=_whole(1, 10**9), default=None, help="stop after this many frames")
    p.add_argument("--clips", type=_whole(1, 10**6), default=200, help="sign models: how many clips to time")
    p.add_argument("--frames", type=_whole(1, 4096), default=30, help="sign models: frames per random clip")
    p.add_argument("--json", action="store_true", help="one JSON object (fps and stages, or per_clip_ms)")
    _backend(p)
    p.set_defaults(func=cmd_benchmark, overrides_ok=True)

    p = sub.add_parser("live", help="webcam, video or stream -> letters and words as text, in real time")
    p.add_argument("--source", default="0", help="camera index, video file or stream URL (default: camera 0)")
    p.add_argument("--out", default=None, help="write the annotated video here (.mp4 or .avi)")
    p.add_argument("--transcript", default=None, help="write the text here")
    p.add_argument("--no-window", action="store_true", help="no window (also automatic without a display)")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--json", action="store_true", help="print the text, events and per-stage timings as JSON")
    p.set_defaults(func=cmd_live, overrides_ok=True)


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
    p.set_defaults(func=cmd_transcribe, overrides_ok=True)

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
    p.set_defaults(func=cmd_evaluate_spelling, overrides_ok=True)


def _add_boxes(sub) -> None:
    p = sub.add_parser("convert", help="box annotations from one format to another (csv, yolo, coco, voc)")
    p.add_argument(
        "source", metavar="SRC", help="annotations.csv, a YOLO folder (data.yaml), a COCO .json or a VOC folder"
    )
    p.add_argument("--to", required=True, choices=FORMATS)
    p.add_argument("--out", required=True,
                   help="a new or empty folder outside the source set (images are copied into it)")  # fmt: skip
    p.add_argument(
        "--from", dest="source_format", default=None, choices=FORMATS, help="source format (default: detected)"
    )
    p.add_argument("--link", action="store_true",
                   help="hard-link the images instead of copying them (same file system; the output's image "
                        "files are then the source's own files: a change to one is a change to both)")  # fmt: skip
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("evaluate-detection", help="precision, recall, mAP of the letter detector on box annotations")
    p.add_argument("data", metavar="DATA", help="annotations.csv, a YOLO folder, a COCO .json or a VOC folder")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--conf", type=_real(0, 1), default=0.25, help="confidence for precision, recall and the table")
    p.add_argument("--iou", type=_real(0, 1), default=0.5, help="IoU for a detection to count as found")
    p.add_argument("--classes", default=None, help="only these letters, e.g. A,B,C")
    p.add_argument("--from", dest="source_format", default=None, choices=FORMATS)
    p.add_argument("--json", action="store_true", help="one JSON object: map50, map50_95, precision, recall, ...")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="also write detection_metrics.json there")
    _common(p)
    p.set_defaults(func=cmd_evaluate_detection)

    p = sub.add_parser("detect", help="boxes with letters on photos, folders and videos; annotated copies + summary")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos, videos or folders of them")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--conf", type=_real(0, 1), default=0.5, help="keep letters at least this sure")
    p.add_argument(
        "--iou", type=_real(0, 1), default=0.5, help="boxes of one letter overlapping more than this are one"
    )
    p.add_argument("--classes", default=None, help="only these letters, e.g. A,B,C")
    p.add_argument("--out", default=None, metavar="NEW_DIR",
                   help="write annotated photos/videos, detections.jsonl and summary.json/.md here")  # fmt: skip
    p.add_argument("--every", type=_whole(1, 10**6), default=1, help="videos: read every N-th frame")
    p.add_argument("--views", choices=("1", "2"), default=None, help="2: also the mirror image ([detect] views)")
    p.add_argument("--json", action="store_true", help="one JSON row per photo or video frame")
    _common(p)
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser(
        "audit", help="check a labelled set: balance, duplicates and leakage, no-hand images, suspected mislabels"
    )
    p.add_argument("data", metavar="DATA", help="class folders, a box set, or a folder of train/valid/test sets")
    p.add_argument("--out", default=None, metavar="NEW_DIR", help="report folder (default: runs/audit/<name>)")
    p.add_argument("--from", dest="source_format", default=None, choices=FORMATS)
    p.add_argument("--manifest", action="store_true", help="also write manifest.csv: keep, suggested label, findings")
    p.add_argument(
        "--folds", type=_whole(0, 100), default=5, help="cross-validation folds for mislabels (0: neighbours only)"
    )
    p.add_argument("--no-landmarks", action="store_true", help="skip MediaPipe: no no-hand or mislabel checks")
    p.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    _common(p)
    p.set_defaults(func=cmd_audit)


def _add_tools(sub) -> None:
    p = sub.add_parser("export", help="a trained or shipped model as ONNX, checked against torch")
    p.add_argument("model", metavar="RUN_DIR|NAME")
    p.add_argument("--format", default="onnx", choices=("onnx",))
    p.add_argument("--out", default=None, metavar="FILE.onnx", help="default: RUN_DIR/model.onnx, or NAME.onnx here")
    p.add_argument("--data", default=None, help="check against torch on this labelled set (default: random inputs)")
    p.add_argument("--json", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("extract", help="hand landmarks of a photo set as Parquet shards (train reads them directly)")
    p.add_argument("data", metavar="DATA", help="class folders of photos")
    p.add_argument("--out", required=True, metavar="NEW_DIR", help="folder for part-*.parquet and landmarks.json")
    p.add_argument("--engine", default="local", choices=("local", "ray"), help="local processes, or Ray Data")
    p.add_argument("--workers", type=_whole(0, 1024), default=0,
                   help="MediaPipe processes or Ray actors (default: one per core)")  # fmt: skip
    p.add_argument("--address", default=None, help="ray: a cluster's address (default: a local Ray)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("serve", help="the web app (photo, webcam, video, model) and POST /v1/predict, on localhost")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="TCP port, 1-65535 (default: 7860)")
    p.add_argument("--model", default=None, help="photo model (default: letters)")
    p.add_argument("--runs", default=None, help="folder of runs clients may pick by name (default: ./runs)")
    p.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="close a connection that has not sent its request headers in S seconds (default: 10)",
    )
    p.add_argument("--body-timeout", type=float, default=60.0, metavar="S",
                   help="close a connection that has not sent its request body in S seconds (default: 60)")  # fmt: skip
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("make-spelling-video", help="a video spelling WORD with letter photos, for testing live")
    p.add_argument("word", metavar="WORD")
    p.add_argument("--data", required=True, help="photos in class folders (A/, B/, ..., Space/)")
    p.add_argument("--out", required=True, help="video file to write (.mp4 or .avi)")
    p.add_argument("--fps", type=_real(1, 240), default=15.0)
    p.add_argument("--hold", type=_real(0.01, 60), default=1.0, help="seconds each letter is shown")
    p.add_argument("--gap", type=_real(0, 60), default=0.4, help="seconds without a hand after each letter")
    p.add_argument("--seed", type=int, default=0, help="which photos are picked")
    p.set_defaults(func=cmd_make_video)

    p = sub.add_parser("models", help="list registered architectures and shipped trained models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)


FORMATS = ("csv", "yolo", "coco", "voc")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one small function per group of commands, each naming its cmd_ function."""
    ap = _Parser(prog="aslkit", description="American Sign Language recognition toolkit.")
    sub = ap.add_subparsers(dest="task", metavar="TASK", parser_class=_Parser)
    for add in (
        _add_predict,
        _add_evaluate,
        _add_train,
        _add_compare,
        _add_live,
        _add_spelling,
        _add_boxes,
        _add_tools,
    ):
        add(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 file name printed is escaped, never a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    argv = _kv_to_flags(list(sys.argv[1:] if argv is None else argv))
    ap = build_parser()
    debug = bool(os.environ.get("ASLKIT_DEBUG"))
    try:
        args, extra = ap.parse_known_args(argv)
        if args.task is None:
            ap.print_help()
            return 2
        if extra and not getattr(args, "overrides_ok", False):
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = _overrides(args, extra)
        return args.func(args)
    except AslkitError as exc:
        print(f"aslkit: error: {shown(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("aslkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, not a traceback
        if debug:
            raise
        print(
            f"aslkit: unexpected error: {type(exc).__name__}: {shown(str(exc))} (set ASLKIT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
