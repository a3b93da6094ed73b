"""``aslkit TASK [args] [--key value | key=value]``: a thin layer over the Python API.

Each task parses its options (declared in ``aslkit.cli_parser``), calls the API, prints what it returns
(the API's own ``to_json()`` and ``*_text()``), and maps failures to exit codes. Every failure the user can fix
(bad file, missing folder, unknown model) is one line on stderr and a non-zero exit code; set ASLKIT_DEBUG=1 to
see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aslkit.cli_parser import build_parser, kv_to_flags, parse_command_line
from aslkit.errors import AslkitError
from aslkit.names import shown
from aslkit.outputs import check_outside


def _progress_wanted(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _cache(args: argparse.Namespace) -> str | None:
    return None if getattr(args, "no_cache", False) else (args.cache_dir or "default")


def _check_cache_outside(args: argparse.Namespace) -> None:
    """The landmark cache is written to: never inside the data it reads (a later scan would find it there)."""
    if getattr(args, "cache_dir", None) and not getattr(args, "no_cache", False):
        given = [g for name in ("data", "paths") if (g := getattr(args, name, None))]
        inputs = [p for g in given for p in ([g] if isinstance(g, str) else g)]
        check_outside(args.cache_dir, inputs, flag="--cache-dir", what="the data")


def _fail(message: str) -> int:
    """A task that ran but failed as a whole: its one error line, exit 1."""
    print(f"aslkit: error: {message}", file=sys.stderr)
    return 1


def cmd_predict(args: argparse.Namespace) -> int:
    from aslkit.inference.recognizers import predict_files

    res = predict_files(args.paths, args.model, backend=args.backend, top_k=args.top_k, views=args.views,
                        cache_dir=_cache(args), workers=args.workers or None, engine=args.engine,
                        address=args.address, progress=_progress_wanted(args))  # fmt: skip
    for p in res.rows:
        print(json.dumps(p.to_json()) if args.json else p.text_line(), flush=False)
    sys.stdout.flush()
    why = res.failure()
    return 0 if why is None else _fail(why)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from aslkit.evaluation.evaluate import evaluate, evaluate_text
    from aslkit.models.io import load_model

    m = evaluate(args.data, model=load_model(args.model).use_backend(args.backend), report_dir=args.report,
                 cache_dir=_cache(args), workers=args.workers or None, progress=_progress_wanted(args),
                 views=args.views, group_pattern=args.group_pattern, group_by=args.group_by)  # fmt: skip
    print(json.dumps(m) if args.json else evaluate_text(m, args.report))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from aslkit.training.trainer import train, train_text

    if args.finetune:
        if not args.model:
            raise AslkitError("--finetune starts from --model: give the trained model, e.g. --model words")
        args.overrides["finetune"] = args.model
    if args.split:  # declared for --help; a setting like any other key of [train]
        args.overrides["split"] = args.split
    if args.cv:
        return _cross_validate(args)
    if args.add and not args.model:
        args.model = "sign-dictionary"
    for key in ("encoder", "add"):
        if getattr(args, key):
            args.overrides[key] = getattr(args, key)
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


def _cross_validate(args: argparse.Namespace) -> int:
    from aslkit.training.cv import cross_validate, cv_text

    if args.resume or args.out is None or not args.data:
        raise AslkitError("--cv signer takes DATA and a new --out folder (and no --resume)")
    workers = {"workers": args.workers} if args.workers else {}
    r = cross_validate(args.data, args.out, model=args.model, folds=args.folds, cache_dir=_cache(args),
                       progress=not args.quiet, **workers, **args.overrides)  # fmt: skip
    print(cv_text(r, args.out))
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from aslkit.evaluation.benchmark import benchmark, benchmark_text

    r = benchmark(args.model, backend=args.backend, source=args.source, data=args.data, word=args.word,
                  max_frames=args.max_frames, clips=args.clips, frames=args.frames, **args.overrides)  # fmt: skip
    print(json.dumps(r) if args.json else benchmark_text(r))
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    from aslkit.live.run import run_live

    res = run_live(args.source, out=args.out, transcript=args.transcript, window=not args.no_window,
                   model=args.model, max_frames=args.max_frames, **args.overrides)  # fmt: skip
    if args.json:
        print(json.dumps(res.to_json()))
    else:
        print(res.text)
        print(res.speed_line(), file=sys.stderr)
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    """One line per take as it is written, then a summary; exit 1 when the source ended before every take."""
    from aslkit.live.capture import capture

    def took(path: Path) -> None:
        if not args.json:
            print(f"wrote {shown(str(path))}", flush=True)

    res = capture(args.label, args.out, takes=args.takes, seconds=args.seconds, source=args.source,
                  photos=args.photos, countdown_s=args.countdown, gap_s=args.gap, window=not args.no_window,
                  progress=took)  # fmt: skip
    print(json.dumps(res.to_json()) if args.json else res.text())
    if res.ended and not res.complete:
        hint = (
            f"; a video's countdown ({args.countdown:g} s) and gaps ({args.gap:g} s) pass in its own time: "
            "--countdown 0 --gap 0 takes every frame"
            if res.from_file
            else ""
        )
        kept = f"{res.takes_written} of {res.takes_requested} takes" + (" (these are kept)" if res.paths else "")
        return _fail(f"the source ended after {kept}{hint}")
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    """One line (or JSON row) per video as it is read; exit 1 when any video could not be read."""
    from aslkit.inference.transcribe import iter_transcribe

    n = bad = 0
    for r in iter_transcribe(
        args.paths, model=args.model, lexicon=args.lexicon, progress=_progress_wanted(args), **args.overrides
    ):
        n += 1
        bad += r.error is not None
        print(json.dumps(r.to_json()) if args.json else r.text_line(), flush=True)
    return _fail(f"{bad} of {n} file(s) could not be read as a video") if bad else 0


def cmd_evaluate_spelling(args: argparse.Namespace) -> int:
    from aslkit.evaluation.spelling import evaluate_spelling, spelling_text

    m = evaluate_spelling(args.data, model=args.model, lexicon=args.lexicon, report_dir=args.report,
                          progress=_progress_wanted(args), **args.overrides)  # fmt: skip
    print(json.dumps(m) if args.json else spelling_text(m, args.report))
    return _fail(f"{m['errors']} video(s) could not be scored (each row says why)") if m["errors"] else 0


def cmd_convert(args: argparse.Namespace) -> int:
    from aslkit.data.boxes import convert_boxes, convert_text

    bs, where = convert_boxes(args.source, args.out, args.to, args.source_format, link=args.link, split=args.split)
    print(convert_text(bs, where, args.source, args.out, args.to, link=args.link))
    return 0


def cmd_evaluate_detection(args: argparse.Namespace) -> int:
    from aslkit.evaluation.detection import detection_text, evaluate_detection
    from aslkit.labels import label_list

    m = evaluate_detection(args.data, model=args.model, conf=args.conf, iou=args.iou, classes=label_list(args.classes),
                           fmt=args.source_format, cache_dir=_cache(args), workers=args.workers or None,
                           progress=_progress_wanted(args), report_dir=args.report, split=args.split,
                           views=args.views)  # fmt: skip
    print(json.dumps(m) if args.json else detection_text(m))
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from aslkit.detect import DetectRow, detect_paths, detect_summary_text
    from aslkit.inference.detector import HandLetterDetector
    from aslkit.labels import label_list

    det = HandLetterDetector(args.model, conf=args.conf, iou=args.iou, classes=label_list(args.classes),
                             views=int(args.views) if args.views else None)  # fmt: skip

    def show(row: DetectRow) -> None:
        if args.json:
            print(json.dumps(row.to_json()), flush=True)
        elif (line := row.text_line()) is not None:
            print(line)

    s = detect_paths(args.paths, det, out=args.out, every=args.every, cache_dir=_cache(args),
                     workers=args.workers or None, progress=_progress_wanted(args), on_row=show)  # fmt: skip
    if not args.json:
        print(detect_summary_text(s, args.out), file=sys.stderr)
    return _fail(f"none of the {len(s['errors'])} input(s) could be read") if s["frames"] == 0 else 0


def cmd_audit(args: argparse.Namespace) -> int:
    from aslkit.evaluation.audit import AuditSettings, audit, audit_text, default_report_folder

    out = Path(args.out) if args.out else default_report_folder(args.data)
    r = audit(args.data, fmt=args.source_format, settings=AuditSettings(folds=args.folds),
              landmarks=not args.no_landmarks, cache_dir=_cache(args), workers=args.workers or None,
              progress=_progress_wanted(args), out=out, manifest=args.manifest, split=args.split)  # fmt: skip
    print(json.dumps(r) if args.json else audit_text(r, out, args.manifest))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from aslkit.export.onnx import TOLERANCE
    from aslkit.inference.onnx_export import export_checked, export_text

    r = export_checked(args.model, args.out, args.data, cache_dir=_cache(args), progress=_progress_wanted(args))
    print(json.dumps(r) if args.json else export_text(r, args.data))
    return 0 if r["ok"] else _fail(f"the ONNX model disagrees with torch (tolerance {TOLERANCE:g})")


def cmd_extract(args: argparse.Namespace) -> int:
    from aslkit.landmarks.extract import extract, extract_text

    if args.format == "pose":
        return _extract_pose(args)
    r = extract(args.data, args.out, engine=args.engine, workers=args.workers or None, address=args.address,
                progress=_progress_wanted(args)).to_json()  # fmt: skip
    print(json.dumps(r) if args.json else extract_text(r))
    return 0


def _extract_pose(args: argparse.Namespace) -> int:
    from aslkit.landmarks.pose_export import extract_pose, pose_extract_text

    if args.engine != "local":
        raise AslkitError("--format pose runs on this machine (--engine local)")
    r = extract_pose(args.data, args.out, fps=args.fps, progress=_progress_wanted(args)).to_json()
    print(json.dumps(r) if args.json else pose_extract_text(r))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aslkit.app.server import serve

    serve(host=args.host, port=args.port, model=args.model, runs=args.runs, header_timeout=args.header_timeout,
          body_timeout=args.body_timeout, record_dir=args.record_dir)  # fmt: skip
    return 0


def cmd_make_video(args: argparse.Namespace) -> int:
    from aslkit.data.spelling_video import make_spelling_video

    v = make_spelling_video(args.word, args.data, args.out, fps=args.fps, hold_s=args.hold, gap_s=args.gap,
                            seed=args.seed)  # fmt: skip
    print(v.text_line())
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from aslkit.evaluation.compare import compare, compare_specs, compare_text, compared_any, named_paths

    rows = compare(compare_specs(args.models), args.data, named_paths(args.test, "--test"), args.out,
                   split=args.split, seed=args.seed, weights=named_paths(args.weights, "--weights"),
                   cache_dir=_cache(args), progress=not args.quiet, resume=args.resume)  # fmt: skip
    print(compare_text(args.out))
    return 0 if compared_any(rows) else 1


def cmd_augment(args: argparse.Namespace) -> int:
    from aslkit.config import ImageAugmentConfig
    from aslkit.data.image_augment import preview_dataset

    cfg = ImageAugmentConfig.from_defaults(**args.overrides)
    out = preview_dataset(args.data, args.preview, cfg, n=args.n, per_image=args.per_image, seed=args.seed)
    print(f"augmentation preview: {shown(str(out))}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from aslkit.models.card import read_model_card
    from aslkit.models.io import architecture_text, describe_architecture, describe_models, models_text

    arch = describe_architecture(args.name) if args.name else None
    if arch is not None:  # a registered architecture, not a trained model: what it is and its recipe
        print(json.dumps(arch) if args.json else architecture_text(arch))
        return 0
    if args.name:
        card = read_model_card(args.name)
        print(json.dumps(card.to_json()) if args.json else card.text.rstrip("\n"))
        return 0
    d = describe_models()
    print(json.dumps(d) if args.json else models_text(d))
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    from aslkit.cli_parser import completion_script

    print(completion_script(args.shell), end="")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "predict": cmd_predict,
    "evaluate": cmd_evaluate,
    "train": cmd_train,
    "augment": cmd_augment,
    "compare": cmd_compare,
    "benchmark": cmd_benchmark,
    "live": cmd_live,
    "capture": cmd_capture,
    "transcribe": cmd_transcribe,
    "evaluate-spelling": cmd_evaluate_spelling,
    "convert": cmd_convert,
    "evaluate-detection": cmd_evaluate_detection,
    "detect": cmd_detect,
    "audit": cmd_audit,
    "export": cmd_export,
    "extract": cmd_extract,
    "serve": cmd_serve,
    "make-spelling-video": cmd_make_video,
    "models": cmd_models,
    "completion": cmd_completion,
}
"""Each task of ``build_parser()`` -> the function that runs it."""


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 file name printed is escaped, never a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    argv = kv_to_flags(list(sys.argv[1:] if argv is None else argv))
    ap = build_parser()
    debug = bool(os.environ.get("ASLKIT_DEBUG"))
    old_term = _term_as_interrupt()
    try:
        args = parse_command_line(ap, argv)
        if args is None:
            return 2
        _check_cache_outside(args)
        return COMMANDS[args.task](args)
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
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _term_as_interrupt() -> Any:
    """SIGTERM (how Docker and systemd stop a process) unwinds like Ctrl-C: a live run keeps its transcript and a
    playable video, and staging folders are removed. Returns the handler it replaced (None off the main thread)."""
    is_main = threading.current_thread() is threading.main_thread()
    return signal.signal(signal.SIGTERM, signal.default_int_handler) if is_main else None


if __name__ == "__main__":
    sys.exit(main())
