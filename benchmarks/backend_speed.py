"""The network alone on torch and on onnxruntime: milliseconds per input, one at a time (as live and the
app call it) and in batches of 64 (as evaluate does). Landmark models on torch use their NumPy path,
as aslkit does.

    .venv/bin/python benchmarks/backend_speed.py [MODEL ...]   (shipped names or run folders)

Prints one JSON object per model.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from aslkit.export.onnx import example_inputs
from aslkit.models.io import load_model


def _ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return round(statistics.median(times), 3)


def _time(name: str, backend: str) -> dict[str, float]:
    m = load_model(name).use_backend(backend)
    one, many = example_inputs(m, n=1), example_inputs(m, n=64)
    kind = m.preprocessing.get("input")
    if kind == "hand-landmarks":  # predict_proba: NumPy on torch, onnxruntime on onnx

        def run(x):
            return m.predict_proba(x[0])
    elif kind == "image":  # what ImageRecognizer runs: uint8 photos at the model's size (channels-last on torch)
        from aslkit.inference.image_recognizer import image_probabilities

        size = int(m.preprocessing["size"])
        one, many = [np.zeros((1, size, size, 3), np.uint8)], [np.zeros((64, size, size, 3), np.uint8)]

        def run(x):
            return image_probabilities(m, x[0])
    else:

        def run(x):
            return m.logits(*x)

    repeat = 20 if kind == "image" else 200
    return {"one_ms": _ms(lambda: run(one), repeat), "batch64_ms_per_input": round(_ms(lambda: run(many), 10) / 64, 4)}


def main() -> None:
    for name in sys.argv[1:] or ["letters", "letters-motion", "words"]:
        print(json.dumps({"model": name, "torch": _time(name, "torch"), "onnx": _time(name, "onnx")}))


if __name__ == "__main__":
    main()
