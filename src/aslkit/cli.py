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
from aslkit.kinds import InputKind, scored_clips
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
        rows = predict_ray(paths, args.model, args.views, args.top_k, args.workers or None, args.address,
                           _progress_wanted(args))  # fmt: skip
        preds += [Prediction(r["path"], r["label"], r["confidence"], [tuple(t) for t in r["top"]], r["hand"],
                             r["error"]) for r in rows]  # fmt: skip
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
    from aslkit.evaluation.evaluate import evaluate
    from aslkit.models.io import load_model

    m = evaluate(
        args.data,
        model=load_model(args.model).use_backend(args.backend),
        report_dir=args.report,
        cache_dir=_cache(args),
        workers=args.workers or None,
        progress=_progress_wanted(args),
        views=args.views,
        group_pattern=args.group_pattern,
        group_by=args.group_by,
    )
    if args.json:
        print(json.dumps(m))
        return 0
    clips = scored_clips(m)
    print(f"data: {shown(m['data'])}\nmodel: {shown(m['model'])}\n{'clips' if clips else 'images'}: {m['n']}")
    print(f"end-to-end accuracy: {100 * m['accuracy']:.2f}%")
    if clips:
        print(f"clips with a hand in some frame: {100 * m['detection_rate']:.2f}%")
    elif "crop" not in m:  # landmark models: no hand found -> Nothing
        print(f"accuracy on detected hands: {100 * m['accuracy_detected']:.2f}%")
        print(f"hand detection rate: {100 * m['detection_rate']:.2f}%")
    elif "hand_crop_rate" in m:  # image model cropping to the hand: the rest were seen whole
        print(f"hand found for the crop: {100 * m['hand_crop_rate']:.2f}%")
    print(f"weighted F1: {m['weighted_f1']:.4f}   macro F1: {m['macro_f1']:.4f}")
    if m.get("per_group"):
        _print_report_card(m)
    if m["unknown_labels"]:
        print(f"left out (classes unknown to the model): {m['unknown_labels']}")
    if m["errors"]:
        print(f"unreadable files left out: {len(m['errors'])} (first: {shown(m['errors'][0])})")
    if args.report:
        print(f"report: {Path(args.report) / 'report.md'}")
    return 0


def _print_report_card(m: dict) -> None:
    """One line per group, worst first: who the model fails, and on which letters."""
    from aslkit.report import group_word, worst_first, worst_text

    word = group_word(m)
    rows = [(shown(g), v) for g, v in worst_first(m["per_group"])]
    w = max(len(word), *(len(g) for g, _ in rows))
    print(f"report card, worst {word} first:")
    print(f"  {word:<{w}}  {'n':>5}  accuracy  detection  on detected  macro F1  worst letters: recall (read as)")
    for g, v in rows:
        print(
            f"  {g:<{w}}  {v['n']:>5}  {100 * v['accuracy']:>7.2f}%  {100 * v.get('detection_rate', 1.0):>8.2f}%  "
            f"{100 * v.get('accuracy_detected', v['accuracy']):>10.2f}%  {v.get('macro_f1', 0.0):>8.3f}  "
            f"{worst_text(v.get('worst', []))}"
        )


def cmd_train(args, extra: dict) -> int:
    from aslkit.training.trainer import train

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
        **extra,
    )
    m = res.metrics
    split = "test" if "test" in m else "valid"
    print(f"run folder: {res.run_dir}")
    r = m[split]
    hands = f"detected hands: {100 * r['accuracy_detected']:.2f}%, " if m.get("detection_rate_all") is not None else ""
    print(f"{split} end-to-end accuracy: {100 * r['accuracy']:.2f}%  ({hands}macro F1 {r['macro_f1']:.4f})")
    if m.get("left_out_files"):
        print(f"unreadable files left out: {len(m['left_out_files'])} (first: {shown(m['left_out_files'][0])})")
    if m.get("test_left_out"):
        print(f"left out of the test (classes the training side never had): {m['test_left_out']}")
    print(f"trained in {m['train_seconds']} s, best epoch {m['best_epoch']}")
    return 0


DEFAULT_BENCH_PHOTOS = Path("../shared/data/massey-letters")


def cmd_benchmark(args, extra: dict) -> int:
    """Sign models: ms per clip. Letter models (default): the live pipeline on a video, per stage."""
    from aslkit.models.io import load_model

    model = load_model(args.model).use_backend(args.backend)
    if args.backend:
        extra["backend"] = args.backend
    if model.kind is InputKind.SEQUENCE:
        extra.pop("backend", None)
        if extra:
            raise AslkitError(f"live options ({', '.join(extra)}) do not apply to a sign model's benchmark")
        return _benchmark_signs(args, model)
    if model.kind is not InputKind.LANDMARKS:
        raise AslkitError("benchmark times the live pipeline (hand-landmark letter models) or sign models")
    import tempfile

    from aslkit.app.live import run_live
    from aslkit.data.spelling_video import make_spelling_video

    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            photos = Path(args.data) if args.data else DEFAULT_BENCH_PHOTOS
            if not photos.is_dir():
                raise AslkitError(f"give --source VIDEO, or --data PHOTO_DIR to build one ({photos} is absent)")
            source = str(make_spelling_video(args.word, photos, Path(tmp) / "bench.mp4", hold_s=1.0).path)
        res = run_live(source, window=False, model=args.model, max_frames=args.max_frames, **extra)
    r = {"source": str(args.source or f"spelling video of {args.word!r} from {args.data or DEFAULT_BENCH_PHOTOS}"),
         "model": model.source or model.architecture, **res.summary()}  # fmt: skip
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"source: {r['source']}\n{r['frames']} frames, {r['fps']:.1f} FPS end to end (text: {r['text']!r})")
    print(f"hand found in {r['hand_frames']} frames ({100 * r['hand_rate']:.1f}%), {r['retry_frames']} of them by the "
          f"landmark retry ({r['retry_runs']} retry runs)")  # fmt: skip
    for name, ms in r["stages"].items():
        print(f"  {name:<14} median {ms:.3f} ms, p95 {r['stages_p95'][name]:.3f} ms")
    print(f"  classifier + smoothing: median {r['classifier_and_smoothing_ms']:.3f} ms")
    return 0


def _benchmark_signs(args, model) -> int:
    from aslkit.evaluation.benchmark import benchmark_sequences

    r = benchmark_sequences(model, args.data, clips=args.clips, frames=args.frames)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"model: {r['model']} ({r['architecture']})")
    print(f"{r['clips']} clips of {r['frames_per_clip']} frames ({r['data']}), one at a time")
    print(f"per clip: median {r['per_clip_ms']['median']:.3f} ms, p95 {r['per_clip_ms']['p95']:.3f} ms")
    for name, ms in r["stages"].items():
        print(f"  {name:<10} median {ms:.3f} ms, p95 {r['stages_p95'][name]:.3f} ms")
    return 0


def cmd_live(args, extra: dict) -> int:
    from aslkit.app.live import run_live

    res = run_live(
        args.source,
        out=args.out,
        transcript=args.transcript,
        window=not args.no_window,
        model=args.model,
        **extra,
    )
    if args.json:
        print(json.dumps({"text": res.text, "events": [e.to_json() for e in res.events], **res.summary()}))
    else:
        print(res.text)
        print(f"{res.frames} frames at {res.fps:.1f} FPS", file=sys.stderr)
    return 0


def cmd_transcribe(args, extra: dict) -> int:
    """One line (or JSON row) per video as it is read; exit 1 when any video could not be read."""
    from aslkit.inference.transcribe import iter_transcribe

    n = bad = 0
    for r in iter_transcribe(
        args.paths, model=args.model, lexicon=args.lexicon, progress=_progress_wanted(args), **extra
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


def cmd_evaluate_spelling(args, extra: dict) -> int:
    from aslkit.evaluation.spelling import evaluate_spelling

    m = evaluate_spelling(args.data, model=args.model, lexicon=args.lexicon, report_dir=args.report,
                          progress=_progress_wanted(args), **extra)  # fmt: skip
    if args.json:
        print(json.dumps(m))
    else:
        data = m["data"] if isinstance(m["data"], str) else ", ".join(m["data"])
        print(f"data: {shown(data)}\nmodel: {shown(m['model'])}\nvideos: {m['n']}")
        for r in m["rows"]:
            if r["error"] is None:
                print(f"  {shown(Path(r['path']).name)}: {r['truth']} -> {r['text'] or '(nothing read)'} "
                      f"({r['distance']} edits)")  # fmt: skip
        if m["n"]:
            pct = "-" if m["exact_share"] is None else f"{100 * m['exact_share']:.1f}%"
            print(f"exact: {m['exact']} of {m['n']} ({pct})")
        if m["score"] is not None:
            print(f"score (Kaggle, (N - D) / N): {m['score']:.4f}   character error rate: {100 * m['cer']:.2f}%")
        if m["letters_per_second"] is not None:
            print(f"signing speed: {m['letters_per_second']:.2f} letters per second")
        for r in m["rows"]:
            if r["error"] is not None:
                print(f"  could not be read: {shown(r['error'])}")
        if args.report:
            print(f"report: {Path(args.report) / 'report.md'}")
    if m["errors"]:
        print(f"aslkit: error: {m['errors']} file(s) could not be read as a video", file=sys.stderr)
        return 1
    return 0


def cmd_convert(args) -> int:
    from aslkit.data.boxes import convert_boxes
    from aslkit.names import shown

    bs, where = convert_boxes(args.source, args.out, args.to, args.source_format, link=args.link)
    print(
        f"{shown(args.source)} ({bs.source_format}): {len(bs.images)} images, {bs.n_boxes} boxes, "
        f"{len(bs.classes)} classes"
    )
    print(f"wrote {args.to}: {shown(where)} (images {'hard-linked' if args.link else 'copied'})")
    if bs.problems:
        listed = shown(Path(args.out) / "problems.json")
        print(f"{len(bs.problems)} problem(s) left out or fixed, listed in {listed}; first:")
        for w, why in bs.problems[:5]:
            print(f"  {shown(w)}: {shown(why)}")
    return 0


def _class_list(text: str | None) -> list[str] | None:
    from aslkit.labels import canonical_label

    return [canonical_label(c) for c in text.split(",") if c.strip()] if text else None


def cmd_evaluate_detection(args) -> int:
    from aslkit.data.boxes import set_root
    from aslkit.evaluation.detection import evaluate_detection
    from aslkit.outputs import check_new_folder, new_folder

    root = [set_root(args.data)]  # a box file's folder is the set: the report goes outside it
    if args.report:  # before the work: a wrong --report costs nothing
        check_new_folder(args.report, root, flag="--report", what="the annotated set")
    m = evaluate_detection(
        args.data,
        model=args.model,
        conf=args.conf,
        iou=args.iou,
        classes=_class_list(args.classes),
        fmt=args.source_format,
        cache_dir=_cache(args),
        workers=args.workers or None,
        progress=_progress_wanted(args),
    )
    if args.report:
        with new_folder(args.report, root, flag="--report", what="the annotated set") as out:
            (out / "detection_metrics.json").write_text(json.dumps(m, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(m))
        return 0
    print(f"data: {m['data']} ({m['format']}), {m['images']} images, {m['ground_truth_boxes']} boxes")
    print(f"mAP@0.5 {m['map50']:.4f}   mAP@0.5:0.95 {m['map50_95']:.4f}")
    print(f"at conf {m['conf']} and IoU {m['iou']}: precision {m['precision']:.4f}, recall {m['recall']:.4f}")
    if m.get("unreadable"):
        first = m["unreadable"][0]
        print(f"unreadable images left out: {len(m['unreadable'])} (first: {shown(first['error'])})")
    print("class  AP@0.5  ground truth  detected  missed  false positives")
    for c, row in m["per_class_table"].items():
        ap, gt, hit = m["per_class_ap"][c], row["ground_truth"], row["detected"]
        print(f"{c:<6} {ap:.3f}   {gt:>12}  {hit:>8}  {row['missed']:>6}  {row['false_positives']:>15}")
    return 0


def cmd_detect(args) -> int:
    from aslkit.app.detect import detect_paths
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


def _new_run_folder(base: Path) -> Path:
    """base, or base-2, base-3, ...: the first that does not exist yet (a default never overwrites)."""
    k, out = 1, base
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def cmd_audit(args) -> int:
    from aslkit.evaluation.audit import AuditSettings, audit

    out = Path(args.out) if args.out else _new_run_folder(Path("runs") / "audit" / Path(args.data).resolve().name)
    st = AuditSettings(folds=args.folds)
    r = audit(
        args.data, fmt=args.source_format, settings=st, landmarks=not args.no_landmarks, cache_dir=_cache(args),
        workers=args.workers or None, progress=_progress_wanted(args), out=out, manifest=args.manifest,
    )  # fmt: skip
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"{r['data']}: {r['images']} images, {r['kind']}")
    for k, v in r["summary"].items():
        if k != "images":
            print(f"  {k.replace('_', ' '):<32} {v}")
    print(f"  class balance: largest / smallest {r['balance']['max_min_ratio']}")
    print(f"report: {out / 'report.html'} (and report.md, audit.json{', manifest.csv' if args.manifest else ''})")
    return 0


def cmd_export(args) -> int:
    from aslkit.export.onnx import check_parity, export_onnx
    from aslkit.inference.inputs import real_inputs
    from aslkit.models.io import load_model, shipped_models
    from aslkit.outputs import check_new_file

    model = load_model(args.model)
    if args.out:
        out = Path(args.out)
    elif args.model in shipped_models() or not model.source:
        out = Path(f"{args.model}.onnx")
    else:
        out = Path(model.source).with_suffix(".onnx")
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
        print(f"aslkit: error: the ONNX model disagrees with torch (tolerance {1e-4:g})", file=sys.stderr)
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

    v = make_spelling_video(
        args.word, args.data, args.out, fps=args.fps, hold_s=args.hold, gap_s=args.gap, seed=args.seed
    )
    print(f"{v.path}: {v.text!r}, {v.frames} frames at {v.fps:g} FPS (photos listed in {v.path.name}.json)")
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


def _live_overrides(args, extra: list[str]) -> dict[str, str]:
    """The live settings given on the command line (declared ones, then any other --key value)."""
    given = {k[len("live__") :]: v for k, v in vars(args).items() if k.startswith("live__") and v is not None}
    return {**given, **_extras(extra)}


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


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="aslkit", description="American Sign Language recognition toolkit.")
    sub = ap.add_subparsers(dest="task", metavar="TASK", parser_class=_Parser)

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

    p = sub.add_parser(
        "evaluate",
        help="accuracy, F1 and detection rate on a labelled image set, or on clips with a sign model",
        description="Accuracy, F1 and hand detection rate on a labelled set. With groups (--group-by folder, "
        "--group-pattern; clips: their signer), a report card per group, worst first: accuracy (a photo with no "
        "hand found counts as wrong), detection rate, accuracy on detected hands, macro F1, and the 3 letters "
        "with the lowest recall, each with what it was most often read as, e.g. 'P 0.35 (Z 9, N 3)'.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        help="folder of class folders (photos; with --group-by folder, a folder of those); .npz or folder of clips",
    )
    p.add_argument("--model", default=None, help="shipped model name or run folder (default: letters)")
    p.add_argument("--json", action="store_true", help="print one JSON object of metrics")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="write confusion matrix PNG and report.md")
    p.add_argument(
        "--group-pattern",
        default=None,
        metavar="REGEX",
        help=r"a report card per group of file names, e.g. 'hand(\d+)' for Massey's signers",
    )
    p.add_argument(
        "--group-by",
        default=None,
        choices=("folder",),
        help="folder: DATA holds one sub-folder per person or camera, each with class folders "
        "(DATA/<person>/<A..Z>/*.jpg); a report card per sub-folder",
    )
    _views(p)
    _backend(p)
    _common(p)

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

    p = sub.add_parser(
        "compare",
        help="train several models on one set; score each in-distribution and on other sets; one table",
    )
    p.add_argument("data", metavar="TRAIN_DIR")
    p.add_argument(
        "--test", action="append", default=[], metavar="NAME=DIR", help="a set to score end to end (repeatable)"
    )
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

    p = sub.add_parser(
        "benchmark", help="live pipeline ms per stage and FPS on a video; with a sign model, ms per clip"
    )
    p.add_argument("--model", default=None, help="letter model (default: letters) or a sign model, e.g. words")
    p.add_argument("--source", default=None, help="video to run live recognition on (default: build one)")
    p.add_argument("--data", default=None, help="photos to build the video from; with a sign model, clips to time")
    p.add_argument("--word", default="QUICKBROWNFOX", help="what the built video spells")
    p.add_argument("--max-frames", type=_whole(1, 10**9), default=None, help="stop after this many frames")
    p.add_argument("--clips", type=_whole(1, 10**6), default=200, help="sign models: how many clips to time")
    p.add_argument("--frames", type=_whole(1, 4096), default=30, help="sign models: frames per random clip")
    p.add_argument("--json", action="store_true", help="one JSON object (fps and stages, or per_clip_ms)")
    _backend(p)

    p = sub.add_parser("live", help="webcam, video or stream -> letters and words as text, in real time")
    p.add_argument("--source", default="0", help="camera index, video file or stream URL (default: camera 0)")
    p.add_argument("--out", default=None, help="write the annotated video here (.mp4 or .avi)")
    p.add_argument("--transcript", default=None, help="write the text here")
    p.add_argument("--no-window", action="store_true", help="no window (also automatic without a display)")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--json", action="store_true", help="print the text, events and per-stage timings as JSON")

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

    p = sub.add_parser("convert", help="box annotations from one format to another (csv, yolo, coco, voc)")
    p.add_argument(
        "source", metavar="SRC", help="annotations.csv, a YOLO folder (data.yaml), a COCO .json or a VOC folder"
    )
    p.add_argument("--to", required=True, choices=("csv", "yolo", "coco", "voc"))
    p.add_argument("--out", required=True,
                   help="a new or empty folder outside the source set (images are copied into it)")  # fmt: skip
    p.add_argument("--from", dest="source_format", default=None, choices=("csv", "yolo", "coco", "voc"),
                   help="source format (default: detected)")  # fmt: skip
    p.add_argument("--link", action="store_true",
                   help="hard-link the images instead of copying them (same file system; the output's image "
                        "files are then the source's own files: a change to one is a change to both)")  # fmt: skip

    p = sub.add_parser("evaluate-detection", help="precision, recall, mAP of the letter detector on box annotations")
    p.add_argument("data", metavar="DATA", help="annotations.csv, a YOLO folder, a COCO .json or a VOC folder")
    p.add_argument("--model", default=None, help="letter model (default: letters)")
    p.add_argument("--conf", type=_real(0, 1), default=0.25, help="confidence for precision, recall and the table")
    p.add_argument("--iou", type=_real(0, 1), default=0.5, help="IoU for a detection to count as found")
    p.add_argument("--classes", default=None, help="only these letters, e.g. A,B,C")
    p.add_argument("--from", dest="source_format", default=None, choices=("csv", "yolo", "coco", "voc"))
    p.add_argument("--json", action="store_true", help="one JSON object: map50, map50_95, precision, recall, ...")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="also write detection_metrics.json there")
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
                   help="write annotated photos/videos, detections.jsonl and summary.json/.md here")  # fmt: skip
    p.add_argument("--every", type=_whole(1, 10**6), default=1, help="videos: read every N-th frame")
    p.add_argument("--views", choices=("1", "2"), default=None, help="2: also the mirror image ([detect] views)")
    p.add_argument("--json", action="store_true", help="one JSON row per photo or video frame")
    _common(p)

    p = sub.add_parser(
        "audit", help="check a labelled set: balance, duplicates and leakage, no-hand images, suspected mislabels"
    )
    p.add_argument("data", metavar="DATA", help="class folders, a box set, or a folder of train/valid/test sets")
    p.add_argument("--out", default=None, metavar="NEW_DIR", help="report folder (default: runs/audit/<name>)")
    p.add_argument("--from", dest="source_format", default=None, choices=("csv", "yolo", "coco", "voc"))
    p.add_argument("--manifest", action="store_true", help="also write manifest.csv: keep, suggested label, findings")
    p.add_argument(
        "--folds", type=_whole(0, 100), default=5, help="cross-validation folds for mislabels (0: neighbours only)"
    )
    p.add_argument("--no-landmarks", action="store_true", help="skip MediaPipe: no no-hand or mislabel checks")
    p.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    _common(p)

    p = sub.add_parser("export", help="a trained or shipped model as ONNX, checked against torch")
    p.add_argument("model", metavar="RUN_DIR|NAME")
    p.add_argument("--format", default="onnx", choices=("onnx",))
    p.add_argument("--out", default=None, metavar="FILE.onnx", help="default: RUN_DIR/model.onnx, or NAME.onnx here")
    p.add_argument("--data", default=None, help="check against torch on this labelled set (default: random inputs)")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("extract", help="hand landmarks of a photo set as Parquet shards (train reads them directly)")
    p.add_argument("data", metavar="DATA", help="class folders of photos")
    p.add_argument("--out", required=True, metavar="NEW_DIR", help="folder for part-*.parquet and landmarks.json")
    p.add_argument("--engine", default="local", choices=("local", "ray"), help="local processes, or Ray Data")
    p.add_argument(
        "--workers", type=_whole(0, 1024), default=0, help="MediaPipe processes or Ray actors (default: one per core)"
    )
    p.add_argument("--address", default=None, help="ray: a cluster's address (default: a local Ray)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")

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
    p.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="close a connection that has not sent its request body in S seconds (default: 60)",
    )

    p = sub.add_parser("make-spelling-video", help="a video spelling WORD with letter photos, for testing live")
    p.add_argument("word", metavar="WORD")
    p.add_argument("--data", required=True, help="photos in class folders (A/, B/, ..., Space/)")
    p.add_argument("--out", required=True, help="video file to write (.mp4 or .avi)")
    p.add_argument("--fps", type=_real(1, 240), default=15.0)
    p.add_argument("--hold", type=_real(0.01, 60), default=1.0, help="seconds each letter is shown")
    p.add_argument("--gap", type=_real(0, 60), default=0.4, help="seconds without a hand after each letter")
    p.add_argument("--seed", type=int, default=0, help="which photos are picked")

    p = sub.add_parser("models", help="list registered architectures and shipped trained models")
    p.add_argument("--json", action="store_true")
    return ap


def _extras(extra: list[str]) -> dict[str, str]:
    """Leftover ``--key value`` pairs as option overrides; their names and types are checked by
    the settings objects of defaults.toml (TrainConfig.from_defaults), in one place."""
    out: dict[str, str] = {}
    i = 0
    while i < len(extra):
        tok = extra[i]
        if not tok.startswith("--") or i + 1 >= len(extra):
            raise AslkitError(f"unexpected argument {tok!r}; options look like --epochs 50 or epochs=50")
        out[tok[2:].replace("-", "_")] = extra[i + 1]
        i += 2
    return out


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if not eq or not k or not v:
            raise AslkitError(f"{what} must look like NAME=PATH, got {item!r}")
        out[k] = v
    return out


def _split_specs(text: str) -> list[str]:
    """Split "a,b:crop=hand,lr=1e-3,c" into specs: a comma starts a new spec unless it continues key=value options."""
    specs: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if specs and ":" in specs[-1] and "=" in part and ":" not in part:
            specs[-1] += "," + part
        else:
            specs.append(part)
    return specs


def cmd_compare(args) -> int:
    from aslkit.evaluation.compare import compare

    rows = compare(
        _split_specs(args.models),
        args.data,
        _pairs(args.test, "--test"),
        args.out,
        split=args.split,
        seed=args.seed,
        weights=_pairs(args.weights, "--weights"),
        cache_dir=_cache(args),
        progress=not args.quiet,
        resume=args.resume,
    )
    print((Path(args.out) / "compare.md").read_text(encoding="utf-8"))
    return 0 if any("skipped" not in r for r in rows) else 1


def cmd_augment(args, extra: dict[str, str]) -> int:
    from dataclasses import fields

    from aslkit.config import ImageAugmentConfig, check_ranges, coerce
    from aslkit.data.image_augment import preview_dataset

    cfg = ImageAugmentConfig.defaults()
    names = {f.name for f in fields(cfg)}
    for k, v in extra.items():
        if k not in names:
            raise AslkitError(f"unknown augmentation option --{k.replace('_', '-')}; options: {sorted(names)}")
        setattr(cfg, k, coerce(k, getattr(cfg, k), v))
    check_ranges(cfg)
    out = preview_dataset(args.data, args.preview, cfg, n=args.n, per_image=args.per_image, seed=args.seed)
    print(f"augmentation preview: {out}")
    return 0


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
        if extra and args.task not in ("train", "augment", "live", "benchmark", "transcribe", "evaluate-spelling"):
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.task == "predict":
            return cmd_predict(args)
        if args.task == "evaluate":
            return cmd_evaluate(args)
        if args.task == "train":
            return cmd_train(args, _extras(extra))
        if args.task == "augment":
            return cmd_augment(args, _extras(extra))
        if args.task == "benchmark":
            return cmd_benchmark(args, _extras(extra))
        if args.task == "live":
            return cmd_live(args, _extras(extra))
        if args.task == "transcribe":
            return cmd_transcribe(args, _live_overrides(args, extra))
        if args.task == "evaluate-spelling":
            return cmd_evaluate_spelling(args, _live_overrides(args, extra))
        if args.task == "evaluate-detection":
            return cmd_evaluate_detection(args)
        if args.task == "detect":
            return cmd_detect(args)
        if args.task == "extract":
            return cmd_extract(args)
        if args.task == "export":
            return cmd_export(args)
        if args.task == "serve":
            return cmd_serve(args)
        if args.task == "audit":
            return cmd_audit(args)
        if args.task == "convert":
            return cmd_convert(args)
        if args.task == "make-spelling-video":
            return cmd_make_video(args)
        if args.task == "models":
            return cmd_models(args)
        if args.task == "compare":
            return cmd_compare(args)
        ap.error(f"unknown task {args.task}")
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
