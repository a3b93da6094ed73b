"""`aslkit extract`: hand landmarks of a whole labelled photo set, written as Parquet shards that
training reads directly (``aslkit train OUT_DIR``).

Engines: ``local`` runs MediaPipe in ``workers`` processes on this machine (one MediaPipe per
process); ``ray`` runs it as Ray Data ``map_batches`` over an actor pool (one MediaPipe per actor),
locally or on a cluster (``address``). Both give, row for row, what one process gives: the photos'
order is kept, and each photo goes through the same retry ladder.

A shard folder holds ``part-NNNNN.parquet`` files (columns ``path``, ``label``, ``has_hand``,
``points`` = the main hand's 21 canonical points flattened, ``error``) and ``landmarks.json``
(format, row count, the MediaPipe signature, the source).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.dataset import load_dataset
from aslkit.errors import AslkitError, DatasetError
from aslkit.landmarks.landmark_set import LandmarkSet
from aslkit.names import shown
from aslkit.outputs import check_new_folder, new_folder

FORMAT = "aslkit-landmarks-parquet/1"
MANIFEST = "landmarks.json"
SHARD_ROWS = 2000
ENGINES = ("local", "ray")


def is_shard_folder(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def _row(path: str, label: str, found) -> dict[str, Any]:
    """One photo's row from its HandsResult (or ImageError): the main hand's canonical points, zeros
    and has_hand False without one."""
    from aslkit.landmarks.extractor import HandsResult
    from aslkit.landmarks.features import canonical_points

    pts = np.zeros((21, 3), np.float32)
    hand = found.main_hand() if isinstance(found, HandsResult) else None
    if hand is not None:
        pts = canonical_points(hand, found.width, found.height).astype(np.float32)
    error = None if isinstance(found, HandsResult) else str(found)
    return {"path": path, "label": label, "has_hand": hand is not None, "points": pts.ravel().tolist(), "error": error}


def _rows(paths: list[str], labels: list[str], workers: int, progress: bool, landmarker=None) -> list[dict[str, Any]]:
    """Rows in order, through the same landmark pass as everything else (its worker pool, no cache: the
    shards are the record)."""
    from aslkit.landmarks.batch import extract_sources

    found = extract_sources(paths, cache_dir=None, workers=workers, progress=progress, landmarker=landmarker)
    return [_row(p, lab, f) for p, lab, f in zip(paths, labels, found, strict=True)]


class MediaPipeBatch:
    """A Ray Data actor: one MediaPipe per actor, rows of a batch in, their landmark rows out."""

    def __init__(self) -> None:
        from aslkit.landmarks.extractor import HandLandmarker

        self.landmarker = HandLandmarker(static=True)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        rows = _rows([str(p) for p in batch["path"]], [str(lab) for lab in batch["label"]], 1, False, self.landmarker)
        return {k: [r[k] for r in rows] for k in ("path", "label", "has_hand", "points", "error")}


def ray_map(rows: list[dict[str, Any]], actor: type, workers: int, address: str | None, progress: bool,
            **actor_kwargs: Any) -> list[dict[str, Any]]:  # fmt: skip
    """Ray Data ``map_batches`` of ``rows`` through a pool of ``workers`` actors of class ``actor`` (each
    built once, so each holds one MediaPipe), in the rows' order. Starts a local Ray unless one runs
    or ``address`` names a cluster."""
    import logging
    import os

    try:
        import ray
    except ImportError:
        raise AslkitError("the ray engine needs Ray: pip install 'aslkit[ray]'") from None
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR)  # fmt: skip
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = progress
        ds = ray.data.from_items(rows).map_batches(
            actor, fn_constructor_kwargs=actor_kwargs, batch_size=16, concurrency=workers, num_cpus=1
        )
        return [dict(r) for r in ds.iter_rows()]
    finally:
        if started:
            ray.shutdown()


def _ray_rows(items: list[tuple[str, str]], workers: int, address: str | None, progress: bool) -> list[dict]:
    rows = ray_map([{"path": p, "label": lab} for p, lab in items], MediaPipeBatch, workers, address, progress)
    return [{"path": r["path"], "label": r["label"], "has_hand": bool(r["has_hand"]),
             "points": [float(v) for v in r["points"]], "error": r["error"]} for r in rows]  # fmt: skip


@dataclass
class ExtractResult:
    out: Path
    rows: int
    with_hand: int
    errors: int
    seconds: float
    engine: str
    workers: int

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "rows": self.rows, "with_hand": self.with_hand, "errors": self.errors,
                "seconds": round(self.seconds, 2), "images_per_s": round(self.rows / max(self.seconds, 1e-9), 2),
                "engine": self.engine, "workers": self.workers}  # fmt: skip


def extract_text(r: dict[str, Any]) -> str:
    """What `aslkit extract` prints for ``ExtractResult.to_json()``: counts, speed and where the shards are."""
    return (f"{r['rows']} photos ({r['with_hand']} with a hand, {r['errors']} unreadable) in {r['seconds']} s: "
            f"{r['images_per_s']} images/s, {r['workers']} {r['engine']} workers; shards in {r['out']}")  # fmt: skip


def extract(
    data: str | Path,
    out: str | Path,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
) -> ExtractResult:
    """Landmarks of every photo of a labelled set (class folders or a box CSV), as Parquet shards in ``out``."""
    from aslkit.landmarks.batch import default_workers

    if engine not in ENGINES:
        raise AslkitError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    dest = Path(out)
    check_new_folder(dest, [data], beside_files=True)
    ds = load_dataset(data)
    if any(s.crop is not None for s in ds.samples):
        raise AslkitError("extract reads whole photos; for a box CSV use `aslkit train` on the folder itself")
    items = [(str(s.path), s.label) for s in ds.samples]
    n = workers or default_workers()
    t0 = time.perf_counter()
    if engine == "ray":
        rows = _ray_rows(items, n, address, progress)
    else:
        rows = _rows([p for p, _ in items], [lab for _, lab in items], n, progress)
    seconds = time.perf_counter() - t0
    for r in rows:  # Parquet strings are UTF-8: a non-UTF-8 file name is kept in its escaped spelling
        r["path"], r["label"] = shown(r["path"]), shown(r["label"])
        if r["error"] is not None:
            r["error"] = shown(r["error"])
    with new_folder(
        dest, [data], beside_files=True
    ) as stage:  # appears only when every shard and the manifest are written
        _write_shards(rows, stage, data, engine, n)
    return ExtractResult(dest, len(rows), sum(r["has_hand"] for r in rows), sum(r["error"] is not None for r in rows),
                         seconds, engine, n)  # fmt: skip


def _write_shards(rows: list[dict], dest: Path, data: str | Path, engine: str, n: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aslkit.landmarks.extractor import HandLandmarker

    schema = pa.schema([("path", pa.string()), ("label", pa.string()), ("has_hand", pa.bool_()),
                        ("points", pa.list_(pa.float32(), 63)), ("error", pa.string())])  # fmt: skip
    shards = []
    for k in range(0, len(rows), SHARD_ROWS):
        part = rows[k : k + SHARD_ROWS]
        table = pa.table({c: [r[c] for r in part] for c in schema.names}, schema=schema)
        name = f"part-{k // SHARD_ROWS:05d}.parquet"
        pq.write_table(table, dest / name)
        shards.append(name)
    manifest = {"format": FORMAT, "rows": len(rows), "shards": shards, "source": str(data),
                "landmarker": HandLandmarker(static=True).signature, "engine": engine, "workers": n}  # fmt: skip
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def read_shards(path: str | Path) -> LandmarkSet:
    """A shard folder as a LandmarkSet (what `aslkit train` and `evaluate` read)."""
    import pyarrow.parquet as pq

    p = Path(path)
    try:
        manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{p}: cannot read {MANIFEST} ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{p}: {MANIFEST} is not an aslkit landmark shard folder")
    tables = []
    for name in manifest["shards"]:
        try:
            tables.append(pq.read_table(p / name))
        except OSError as exc:
            raise DatasetError(f"{p / name}: cannot read shard ({exc})") from None
    cols = {c: [v for t in tables for v in t.column(c).to_pylist()] for c in ("path", "label", "has_hand", "error")}
    pts = np.concatenate([np.asarray(t.column("points").to_pylist(), np.float32).reshape(-1, 21, 3) for t in tables]) \
        if tables else np.zeros((0, 21, 3), np.float32)  # fmt: skip
    return LandmarkSet(pts, np.array(cols["has_hand"], bool), cols["label"], cols["path"], cols["error"])
