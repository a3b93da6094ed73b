"""`aslkit predict --engine ray`: batch prediction of photos as Ray Data ``map_batches`` over an actor
pool, each actor holding one recognizer (one MediaPipe); rows come back in the input order and are
the same objects `aslkit predict --json` prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aslkit.inference.recognizer import Prediction


class RecognizerBatch:
    """A Ray Data actor: photo paths in, `predict --json` rows out (an unreadable file gets its error)."""

    def __init__(self, model: str | None = None, views: str | int | None = None, top_k: int = 5) -> None:
        from aslkit.inference.recognizer import Recognizer

        self.rec = Recognizer(model, top_k=top_k, cache_dir=None, views=views)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import json

        from aslkit.errors import ImageError
        from aslkit.inference.recognizer import Prediction

        rows = []
        for path in map(str, batch["path"]):
            try:
                pred = self.rec.predict(path)
            except ImageError as exc:
                pred = Prediction(path, None, 0.0, [], False, str(exc))
            rows.append(json.dumps(pred.to_json()))
        return {"row": rows}


def predict_ray(
    paths: list[str | Path],
    model: str | None = None,
    views: str | int | None = None,
    top_k: int = 5,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
) -> list[Prediction]:
    """A Prediction for every photo, in order, computed on Ray (local, or the cluster at ``address``); the
    actors send `predict --json` rows, read back here into the objects the local engine returns."""
    import json

    from aslkit.inference.recognizer import Prediction
    from aslkit.landmarks.batch import default_workers
    from aslkit.landmarks.extract import ray_map

    out = ray_map([{"path": str(p)} for p in paths], RecognizerBatch, workers or default_workers(), address, progress,
                  model=model, views=views, top_k=top_k)  # fmt: skip
    rows = [json.loads(r["row"]) for r in out]
    return [Prediction(r["path"], r["label"], r["confidence"], [tuple(t) for t in r["top"]], r["hand"], r["error"])
            for r in rows]  # fmt: skip
