"""``aslkit TASK [args] [--key value | key=value]``: a thin layer over the Python API.

Every failure the user can fix (bad file, missing folder, unknown model) is one line on stderr
and a non-zero exit code; set ASLKIT_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path

from aslkit.errors import AslkitError

_KV = re.compile(r"^([a-z][a-z0-9_-]*)=(.*)$")


def _kv_to_flags(argv: list[str]) -> list[str]:
    """Accept Ultralytics-style ``key=value`` as ``--key value`` (unless it names an existing file)."""
    out = []
    for tok in argv:
        m = _KV.match(tok)
        if m and not Path(tok).exists():
            out += ["--" + m.group(1).replace("_", "-"), m.group(2)]
        else:
            out.append(tok)
    return out


def _progress_wanted(args) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _cache(args):
    return None if getattr(args, "no_cache", False) else (args.cache_dir or "default")


def cmd_predict(args) -> int:
    from aslkit.inference.recognizer import Prediction, Recognizer, collect_image_paths

    paths, problems = collect_image_paths(args.paths)
    rec = Recognizer(args.model, top_k=args.top_k, cache_dir=_cache(args), views=args.views)
    preds = [Prediction(p, None, 0.0, [], False, why) for p, why in problems]
    preds += rec.predict_paths(paths, workers=args.workers or None, progress=_progress_wanted(args))
    n_ok = 0
    for p in preds:
        n_ok += p.error is None
        if args.json:
            print(json.dumps(p.to_json()), flush=False)
        elif p.error:
            print(f"{p.path}\terror: {p.error}")
        else:
            extra = "" if p.hand else "\t(no hand found)"
            print(f"{p.path}\t{p.label}\t{p.confidence:.3f}{extra}")
    sys.stdout.flush()
    if n_ok == 0:
        print(f"aslkit: error: none of the {len(preds)} file(s) could be read as an image", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate(args) -> int:
    from aslkit.evaluation.evaluate import evaluate

    m = evaluate(
        args.data,
        model=args.model,
        report_dir=args.report,
        cache_dir=_cache(args),
        workers=args.workers or None,
        progress=_progress_wanted(args),
        views=args.views,
        group_pattern=args.group_pattern,
    )
    if args.json:
        print(json.dumps(m))
        return 0
    print(f"data: {m['data']}\nmodel: {m['model']}\nimages: {m['n']}")
    print(f"end-to-end accuracy: {100 * m['accuracy']:.2f}%")
    print(f"accuracy on detected hands: {100 * m['accuracy_detected']:.2f}%")
    print(f"hand detection rate: {100 * m['detection_rate']:.2f}%")
    print(f"weighted F1: {m['weighted_f1']:.4f}   macro F1: {m['macro_f1']:.4f}")
    for g, v in m.get("per_group", {}).items():
        print(f"  group {g}: {100 * v['accuracy']:.2f}% of {v['n']}")
    if m["unknown_labels"]:
        print(f"left out (classes unknown to the model): {m['unknown_labels']}")
    if m["errors"]:
        print(f"unreadable files left out: {len(m['errors'])}")
    if args.report:
        print(f"report: {Path(args.report) / 'report.md'}")
    return 0


def cmd_train(args, extra: dict) -> int:
    from aslkit.training.trainer import train

    command = "aslkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    res = train(
        args.data, args.out, model=args.model, cache_dir=_cache(args), progress=not args.quiet, command=command, **extra
    )
    m = res.metrics
    split = "test" if "test" in m else "valid"
    print(f"run folder: {res.run_dir}")
    print(
        f"{split} end-to-end accuracy: {100 * m[split]['accuracy']:.2f}%  "
        f"(detected hands: {100 * m[split]['accuracy_detected']:.2f}%, macro F1 {m[split]['macro_f1']:.4f})"
    )
    print(f"trained in {m['train_seconds']} s, best epoch {m['best_epoch']}")
    return 0


def cmd_models(args) -> int:
    from aslkit.models import get_model_info, list_models
    from aslkit.models.io import DEFAULT_MODEL, load_model, shipped_models

    arch = [
        {"name": n, "input": get_model_info(n).input, "description": get_model_info(n).description}
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


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", default=None, help="landmark cache folder (default: ~/.cache/aslkit)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the landmark cache")
    p.add_argument("--workers", type=int, default=0, help="MediaPipe processes (default: one per core)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes are one line (`aslkit: error: ...`) like every other error."""

    def error(self, message: str):  # type: ignore[override]
        print(f"aslkit: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="aslkit", description="American Sign Language recognition toolkit.")
    sub = ap.add_subparsers(dest="task", metavar="TASK", parser_class=_Parser)

    p = sub.add_parser("predict", help="recognize the letter in photos (files or folders)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--model", default=None, help="shipped model name or run folder (default: letters)")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")
    p.add_argument("--top-k", type=int, default=5)
    _views(p)
    _common(p)

    p = sub.add_parser("evaluate", help="accuracy, F1 and detection rate on a labelled image set")
    p.add_argument("data", metavar="DATA_DIR")
    p.add_argument("--model", default=None, help="shipped model name or run folder (default: letters)")
    p.add_argument("--json", action="store_true", help="print one JSON object of metrics")
    p.add_argument("--report", default=None, metavar="OUT_DIR", help="write confusion matrix PNG and report.md")
    p.add_argument(
        "--group-pattern", default=None, metavar="REGEX", help=r"per-group figures, e.g. 'hand(\d+)' for signers"
    )
    _views(p)
    _common(p)

    p = sub.add_parser("train", help="train a model on labelled image folders; writes a run folder")
    p.add_argument("data", nargs="+", metavar="DATA_DIR")
    p.add_argument("--model", default="landmark-mlp", help="registered architecture (see `aslkit models`)")
    p.add_argument("--out", required=True, metavar="RUN_DIR")
    _common(p)

    p = sub.add_parser("models", help="list registered architectures and shipped trained models")
    p.add_argument("--json", action="store_true")
    return ap


def _train_extras(extra: list[str]) -> dict:
    """Turn leftover ``--key value`` pairs into training overrides (checked against defaults.toml)."""
    from aslkit.config import AugmentConfig, TrainConfig, coerce

    out: dict = {}
    i = 0
    while i < len(extra):
        tok = extra[i]
        if not tok.startswith("--") or i + 1 >= len(extra):
            raise AslkitError(f"unexpected argument {tok!r}; training options look like --epochs 50 or epochs=50")
        key = tok[2:].replace("-", "_")
        out[key] = extra[i + 1]
        i += 2
    train_ref, aug_ref = TrainConfig().to_dict(), AugmentConfig().__dict__
    typed: dict = {}
    for k, v in out.items():
        if k not in train_ref and k not in aug_ref:
            raise AslkitError(
                f"unknown training option --{k.replace('_', '-')}; see `aslkit train --help` and defaults.toml"
            )
        typed[k] = coerce(k, train_ref[k] if k in train_ref else aug_ref[k], v)
    return typed


def main(argv: list[str] | None = None) -> int:
    argv = _kv_to_flags(list(sys.argv[1:] if argv is None else argv))
    ap = build_parser()
    debug = bool(os.environ.get("ASLKIT_DEBUG"))
    try:
        args, extra = ap.parse_known_args(argv)
        if args.task is None:
            ap.print_help()
            return 2
        if extra and args.task != "train":
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.task == "predict":
            return cmd_predict(args)
        if args.task == "evaluate":
            return cmd_evaluate(args)
        if args.task == "train":
            return cmd_train(args, _train_extras(extra))
        if args.task == "models":
            return cmd_models(args)
        ap.error(f"unknown task {args.task}")
    except AslkitError as exc:
        print(f"aslkit: error: {exc}", file=sys.stderr)
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
            f"aslkit: unexpected error: {type(exc).__name__}: {exc} (set ASLKIT_DEBUG=1 for details)", file=sys.stderr
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
