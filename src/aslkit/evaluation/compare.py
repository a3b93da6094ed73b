"""Train several registered models on one set and score each on its own random split and on sets
from other people and rooms: the table that shows which models carry over and which only memorise.

Each model trains with its own recipe under a CPU-sized budget (``BUDGET``, overridable), in its own
run folder under the output folder; a finished run (and its scores, kept in ``compare_row.json``) is
reused and an interrupted one resumes, so a comparison can be stopped and picked up again. Results
go to ``compare.md`` (a table a person reads) and ``compare.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aslkit.errors import AslkitError, DatasetError
from aslkit.models.registry import get_model_info
from aslkit.names import shown
from aslkit.outputs import check_new_folder, check_outside

# Per-model overrides that keep a full comparison within about an hour on a 2-core CPU.
BUDGET: dict[str, dict[str, Any]] = {
    "cnn-deep": {"epochs": 25},
    "efficientnet-lite0": {},  # its own recipe already fits: 6 epochs, the last 3 blocks
    "mobilenetv2": {"epochs": 6, "image_size": 128},
    "clip-vit-b32": {"epochs": 3, "step_size": 2},
}
NEEDS_WEIGHTS = {"clip-vit-b32"}  # from scratch they are not worth CPU hours: skipped without --weights


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``name`` or ``name:key=value,key=value`` (e.g. ``efficientnet-lite0:crop=hand``)."""
    name, _, rest = spec.partition(":")
    opts: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        k, eq, v = part.partition("=")
        if not eq:
            raise AslkitError(f"model spec {spec!r}: options look like name:key=value,key=value")
        opts[k.strip()] = v.strip()
    get_model_info(name)
    return name, opts


def compare_specs(text: str) -> list[str]:
    """Split "a,b:crop=hand,lr=1e-3,c" into specs: a comma starts a new spec unless it continues key=value options."""
    specs: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if specs and ":" in specs[-1] and "=" in part and ":" not in part:
            specs[-1] += "," + part
        else:
            specs.append(part)
    return specs


def named_paths(items: Sequence[str], what: str) -> dict[str, str]:
    """NAME=PATH items (--test massey=DIR, --weights MODEL=PATH) as {name: path}; AslkitError for any other shape."""
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if not eq or not k or not v:
            raise AslkitError(f"{what} must look like NAME=PATH, got {item!r}")
        out[k] = v
    return out


def _slug(spec: str) -> str:
    return spec.replace(":", "_").replace("=", "-").replace(",", "_").replace("/", "-")


def _n_params(run_dir: Path) -> int:
    from aslkit.models.io import load_model

    return sum(p.numel() for p in load_model(run_dir).torch_module().parameters())


def _ms_per_image(run_dir: Path, files: list[Path]) -> float:
    """Steady-state prediction cost per image in one process, MediaPipe included where the model uses
    it (cache off): worker start-up would swamp a small timing batch, and one process is comparable
    across models."""
    from aslkit.inference.recognizers import photo_recognizer

    rec = photo_recognizer(run_dir, cache_dir=None)
    rec.predict_paths(files[:4], workers=1)  # warm-up: model build, first MediaPipe graph
    t = time.perf_counter()
    rec.predict_paths(files, workers=1)
    dt = (time.perf_counter() - t) / len(files)
    rec.close()
    return 1000 * dt


SETTINGS = "compare-settings.json"  # what every run of a comparison was trained with: a resume must match it


def _settings(train_data: str | Path, split: str, seed: int, weights: dict[str, str]) -> dict[str, Any]:
    """What decides how each run of a comparison trains: its data, split, seed and pretrained weights."""
    return {
        "data": str(Path(train_data).resolve()),
        "split": split,
        "seed": seed,
        "weights": {k: str(Path(v).resolve()) for k, v in sorted(weights.items())},
    }


def _check_resume(out_dir: Path, settings: dict[str, Any]) -> None:
    """A resumed comparison reuses finished runs, so it must train on what they trained on: refuse other data, a
    split, a seed or weights, rather than put another set's scores under this set's name."""
    path = out_dir / SETTINGS
    if not path.is_file():
        return  # a comparison from before the settings were kept: nothing to check against
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AslkitError(f"{shown(path)}: unreadable ({e}); give a new --out folder") from None
    for key, now in settings.items():
        if isinstance(earlier, dict) and earlier.get(key) != now:
            was = earlier.get(key)
            raise AslkitError(
                f"--resume continues {shown(out_dir)} with its own {key} ({was!r}), not {now!r}; "
                "give the same, or a new --out folder"
            )


def _open_out(
    out_dir: Path,
    train_data: str | Path,
    test_sets: dict[str, str | Path],
    resume: bool,
    split: str,
    settings: dict[str, Any],
) -> None:
    """Check the data exist and the output folder suits a new (or resumed) comparison, before an hour of
    training; a new one is marked as this comparison's at once, so an interruption can be resumed."""
    inputs = [train_data, *test_sets.values()]
    for name, path in {"training data": train_data, **test_sets}.items():  # before an hour of training
        if not Path(path).exists():
            raise DatasetError(f"{name} {shown(path)}: no such file or folder")
    if resume:
        if not (out_dir / "compare.json").is_file():
            raise AslkitError(f"{shown(out_dir)}: not an earlier comparison (no compare.json); nothing to resume")
        check_outside(out_dir, inputs, what="the data")
        _check_resume(out_dir, settings)
    else:
        if (out_dir / "compare.json").is_file():
            raise AslkitError(
                f"{shown(out_dir)} holds an earlier comparison; continue it with --resume, or give a new --out folder"
            )
        check_new_folder(out_dir, inputs, what="the data")
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume:  # marks the folder as this comparison's from the start, so an interruption can be resumed
        _write(out_dir, [], train_data, list(test_sets), split)
        (out_dir / SETTINGS).write_text(json.dumps(settings, indent=2), encoding="utf-8")


def _train_spec(
    spec: str, name: str, run_dir: Path, train_data: str | Path, extra: dict[str, Any], cache_dir, progress: bool
) -> None:
    """Train one spec into run_dir: resumed from its checkpoint when an earlier comparison was interrupted."""
    from aslkit.training.trainer import train

    if (run_dir / "checkpoint").is_dir():
        train(None, resume=run_dir, cache_dir=cache_dir, progress=progress)
    else:
        train(
            train_data,
            run_dir,
            model=name,
            cache_dir=cache_dir,
            progress=progress,
            command=f"aslkit compare ({spec})",
            **extra,
        )


def _score_run(
    row: dict[str, Any],
    run_dir: Path,
    t0: float,
    timing_files: list[Path],
    test_sets: dict[str, str | Path],
    cache_dir,
    progress: bool,
) -> None:
    """Fill ``row`` with a trained run's training time, in-distribution accuracy, size, speed and the
    end-to-end accuracy on every test set."""
    import shutil

    from aslkit.evaluation.evaluate import evaluate

    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    row["train_seconds"] = metrics.get("train_seconds", round(time.time() - t0, 1))
    row["in_distribution"] = metrics.get("test", metrics["valid"])["accuracy"]
    row["params"] = _n_params(run_dir)
    row["ms_per_image"] = round(_ms_per_image(run_dir, timing_files), 1)
    for tname, tpath in test_sets.items():
        report = run_dir / f"eval-{tname}"
        shutil.rmtree(report, ignore_errors=True)  # this comparison's own report of an interrupted scoring
        m = evaluate(tpath, model=run_dir, cache_dir=cache_dir, progress=progress, report_dir=report)
        row[tname] = m["accuracy"]


def compare(
    models: Sequence[str],
    train_data: str | Path,
    test_sets: dict[str, str | Path],
    out: str | Path,
    split: str = "0.8,0.1,0.1",
    seed: int = 0,
    weights: dict[str, str] | None = None,
    budget: dict[str, dict[str, Any]] | None = None,
    timing_images: int = 64,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
    resume: bool = False,
) -> list[dict[str, Any]]:
    """Train each model spec on ``train_data`` (random split, ``split``), evaluate it end to end on
    every ``test_sets`` entry, and write ``out/compare.md`` and ``out/compare.json``.

    ``out`` is a new or empty folder outside the data; ``resume`` continues an earlier comparison in
    ``out`` instead (finished runs reused, an interrupted one resumed), with the same data, split, seed and
    weights (``compare-settings.json``); the models and test sets may change."""
    from aslkit.data.dataset import load_dataset

    out_dir = Path(out)
    weights = dict(weights or {})
    specs = [(s, *parse_spec(s)) for s in models]  # an unknown name is an error before any folder is made
    if not specs:
        raise AslkitError("--models: name at least one model (e.g. landmark-mlp,image-cnn)")
    slugs = [_slug(s) for s in models]
    twice = [s for s, slug in zip(models, slugs, strict=True) if slugs.count(slug) > 1]
    if twice:  # one run folder, two rows of the same run
        raise AslkitError(f"--models: {twice[0]} is named twice; name each model once")
    _open_out(out_dir, train_data, test_sets, resume, split, _settings(train_data, split, seed, weights))
    budget = BUDGET if budget is None else budget
    timing_files = [s.path for s in load_dataset(train_data).samples][::7][:timing_images]
    rows: list[dict[str, Any]] = []
    for spec, name, opts in specs:
        row: dict[str, Any] = {"model": spec}
        if name in NEEDS_WEIGHTS and name not in weights:
            row["skipped"] = f"needs pretrained weights (--weights {name}=PATH); none ship offline"
            rows.append(row)
            continue
        run_dir = out_dir / _slug(spec)
        t0 = time.time()
        if not (run_dir / "model.json").exists():
            extra: dict[str, Any] = {"split": split, "seed": seed, **budget.get(name, {}), **opts}
            if name in weights:
                extra["weights"] = weights[name]
            _train_spec(spec, name, run_dir, train_data, extra, cache_dir, progress)
        done = run_dir / "compare_row.json"
        key = {"tests": {k: str(v) for k, v in test_sets.items()}, "timing_images": len(timing_files)}
        cached = json.loads(done.read_text(encoding="utf-8")) if done.is_file() else {}
        if cached.get("key") == key and cached.get("row", {}).get("model") == spec:
            rows.append(cached["row"])  # scored before with the same test sets: not again
            _write(out_dir, rows, train_data, list(test_sets), split)
            continue
        _score_run(row, run_dir, t0, timing_files, test_sets, cache_dir, progress)
        done.write_text(json.dumps({"key": key, "row": row}, indent=2), encoding="utf-8")
        rows.append(row)
        _write(out_dir, rows, train_data, list(test_sets), split)
    _write(out_dir, rows, train_data, list(test_sets), split)
    return rows


def compare_text(out: str | Path) -> str:
    """What `aslkit compare` prints when ``compare`` is done: the table it wrote, ``out``/compare.md."""
    return (Path(out) / "compare.md").read_text(encoding="utf-8")


def compared_any(rows: list[dict[str, Any]]) -> bool:
    """Whether ``compare`` trained and scored at least one model (it skips those it cannot train)."""
    return any("skipped" not in r for r in rows)


def _write(out_dir: Path, rows: list[dict[str, Any]], train_data, tests: list[str], split: str) -> None:
    (out_dir / "compare.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    head = ["model", "params", "train time", "ms/image", f"in-distribution ({Path(train_data).name} random split)"]
    head += [f"{t} (end-to-end)" for t in tests]
    lines = [
        f"# Model comparison: trained on {train_data} (random split {split})",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['model']} | " + " | ".join(["-"] * (len(head) - 2)) + f" | {r['skipped']} |")
            continue
        cells = [
            r["model"],
            f"{r['params'] / 1e6:.2f} M",
            f"{r['train_seconds'] / 60:.1f} min",
            f"{r['ms_per_image']:.1f}",
            f"{100 * r['in_distribution']:.2f}%",
        ]
        cells += [f"{100 * r[t]:.2f}%" for t in tests]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "ms/image: prediction in one process on this machine's CPU, from file to answer (MediaPipe included for",
        "landmark models and hand crops). End-to-end: every image of the set counts; for landmark models an image",
        "where no hand is found counts as `Nothing`.",
    ]
    (out_dir / "compare.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
