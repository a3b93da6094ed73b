"""Precision-recall and F1-confidence curves of `aslkit evaluate-detection --report` (issue 20, item 8): their
values on a small case worked out by hand, their agreement with the precision and recall the metrics report
at any confidence, and the report folder (PNGs linked from report.md) from the real command, with the
detector's output stubbed so that the right answer is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aslkit.cli import main
from aslkit.evaluation.detection_metrics import detection_curves, detection_metrics
from aslkit.inference.detector import Detection
from aslkit.landmarks.extractor import HandsResult

BOX = (10.0, 10.0, 30.0, 30.0)
ELSEWHERE = (60.0, 60.0, 80.0, 80.0)
# Four images; class A has a box in the first three, B one in the fourth. Ranked by confidence, A's
# detections are 0.9 hit, 0.8 hit, 0.7 miss (wrong place), 0.5 miss (image 4 has no A), 0.3 hit;
# B's only one is 0.6, a hit.
GT = [[("A", BOX)], [("A", BOX)], [("A", BOX)], [("B", BOX)]]
PREDS = [
    [("A", BOX, 0.9)],
    [("A", BOX, 0.8)],
    [("A", ELSEWHERE, 0.7), ("A", BOX, 0.3)],
    [("A", BOX, 0.5), ("B", BOX, 0.6)],
]


def _at(curves: dict, key: str, t: float) -> float:
    return curves[key][int(np.argmin(np.abs(np.array(curves["thresholds"]) - t)))]


def test_pr_curve_of_a_known_case() -> None:
    c = detection_curves(GT, PREDS, ["A", "B"])
    a = c["pr"]["A"]
    assert a["confidence"] == [0.9, 0.8, 0.7, 0.5, 0.3]
    assert a["recall"] == pytest.approx([1 / 3, 2 / 3, 2 / 3, 2 / 3, 1.0])
    assert a["precision"] == pytest.approx([1.0, 1.0, 2 / 3, 1 / 2, 3 / 5])
    assert a["precision"][a["recall"].index(1.0)] == pytest.approx(0.6), "precision where A's recall reaches 1"
    every = c["pr"]["all"]  # all classes pooled: 0.9 hit, 0.8 hit, 0.7 miss, 0.6 hit, 0.5 miss, 0.3 hit of 4 boxes
    assert every["confidence"] == [0.9, 0.8, 0.7, 0.6, 0.5, 0.3]
    assert every["recall"][-1] == 1.0 and every["precision"][-1] == pytest.approx(4 / 6)
    assert every["precision"][3] == pytest.approx(3 / 4) and every["recall"][3] == pytest.approx(3 / 4)


def test_f1_confidence_curve_peaks_where_it_should() -> None:
    """A alone: F1 is 0.75 up to 0.3, 0.57 to 0.5, 0.67 to 0.7, 0.8 from above 0.7 to 0.8 (both hits kept,
    every miss dropped), 0.5 to 0.9, then 0. The best threshold is inside (0.7, 0.8]."""
    a_only = [[d for d in p if d[0] == "A"] for p in PREDS]
    c = detection_curves(GT[:3] + [[]], a_only, ["A"])
    assert c["best_f1"] == pytest.approx(0.8)
    assert 0.7 < c["best_f1_conf"] <= 0.8 and c["best_f1_conf"] == pytest.approx(0.75)
    for t, f1 in ((0.0, 0.75), (0.3, 0.75), (0.31, 4 / 7), (0.6, 2 / 3), (0.75, 0.8), (0.85, 0.5), (0.95, 0.0)):
        assert _at(c, "f1", t) == pytest.approx(f1), t
    assert c["per_class_f1"]["A"] == pytest.approx(c["f1"])


@pytest.mark.parametrize("conf", [0.0, 0.25, 0.3, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0])
def test_curves_agree_with_the_reported_precision_and_recall(conf: float) -> None:
    """The same matching: at any threshold, the curve's precision and recall are the metrics' at that conf."""
    c = detection_curves(GT, PREDS, ["A", "B"], iou=0.5)
    m = detection_metrics(GT, PREDS, ["A", "B"], conf=conf, iou=0.5)
    assert _at(c, "precision", conf) == pytest.approx(m["precision"])
    assert _at(c, "recall", conf) == pytest.approx(m["recall"])


def test_a_stricter_iou_turns_loose_boxes_into_misses() -> None:
    loose = [[(lab, (12.0, 12.0, 32.0, 32.0), s) for lab, _, s in p] for p in PREDS]  # IoU 0.68 with BOX
    # at IoU 0.5 every box is found above 0.5 (the 0.7 one now overlaps), with the two extra A's below it
    assert detection_curves(GT, loose, ["A", "B"], iou=0.5)["best_f1"] == pytest.approx(1.0)
    strict = detection_curves(GT, loose, ["A", "B"], iou=0.75)
    assert strict["best_f1"] == 0.0 and strict["best_f1_conf"] is None and strict["pr"]["all"]["recall"][-1] == 0.0


def test_no_detections_at_all() -> None:
    c = detection_curves(GT, [[], [], [], []], ["A", "B"])
    assert c["best_f1"] == 0.0 and c["best_f1_conf"] is None and c["pr"]["all"]["precision"] == []
    assert set(c["f1"]) == {0.0}


@pytest.fixture
def stubbed_detector(monkeypatch: pytest.MonkeyPatch):
    """evaluate-detection with MediaPipe and the detector replaced: image i of the set (in path order) gets
    ``PREDS[i]`` as its detections."""
    import aslkit.evaluation.detection as detection

    order: dict[int, int] = {}

    def hands_for(bs, cache_dir="default", workers=None, progress=True, mirror=False):  # noqa: ARG001
        out = [HandsResult(im.width, im.height, []) for im in bs.images]
        order.update({id(r): i for i, r in enumerate(out)})
        return out

    class Model:
        source, architecture = "stub", "stub"

    class Detector:
        def __init__(self, *args, **kwargs) -> None:  # noqa: ARG002
            self.views, self.margins, self.model = 1, {}, Model()

        def from_hands(self, hands, mirrored=None) -> list[Detection]:  # noqa: ARG002
            return [Detection(box, lab, s) for lab, box, s in PREDS[order[id(hands)]]]

    monkeypatch.setattr(detection, "hands_for", hands_for)
    monkeypatch.setattr(detection, "HandLetterDetector", Detector)


def _stub_set(root: Path) -> Path:
    """The known case as a Roboflow-style YOLO set: images 100 x 100, the four images in valid/."""
    (root / "data.yaml").parent.mkdir(parents=True)
    (root / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\nnames: [A, B]\n")
    rows = ["0 0.2 0.2 0.2 0.2", "0 0.2 0.2 0.2 0.2", "0 0.2 0.2 0.2 0.2", "1 0.2 0.2 0.2 0.2"]
    for split in ("train", "valid"):
        for i, row in enumerate(rows):
            (root / split / "images").mkdir(parents=True, exist_ok=True)
            (root / split / "labels").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (100, 100), (i * 40, 90, 60)).save(root / split / "images" / f"im{i}.png")
            (root / split / "labels" / f"im{i}.txt").write_text(row + "\n")
    return root


def test_evaluate_detection_report_writes_the_curves(tmp_path: Path, capsys, stubbed_detector) -> None:
    root = _stub_set(tmp_path / "ds")
    report = tmp_path / "report"
    assert main(["evaluate-detection", str(root), "--split", "valid", "--json", "--no-cache", "--report", str(report),
                 "--conf", "0.5"]) == 0  # fmt: skip
    m = json.loads(capsys.readouterr().out)
    assert m["precision"] == pytest.approx(3 / 5) and m["recall"] == pytest.approx(3 / 4)
    assert m["best_f1"] == pytest.approx(0.8) and m["splits"] == ["val"]
    curves = json.loads((report / "detection_curves.json").read_text())
    assert curves["pr"]["A"]["precision"] == pytest.approx([1.0, 1.0, 2 / 3, 1 / 2, 3 / 5])
    assert _at(curves, "precision", 0.5) == pytest.approx(m["precision"])
    md = (report / "report.md").read_text()
    for png in ("pr_curve.png", "f1_curve.png"):
        assert f"]({png})" in md, md
        with Image.open(report / png) as im:
            assert im.format == "PNG" and im.width > 300
    assert "| best F1 (IoU 0.5) | 0.8000 at conf" in md and "| A | " in md
    assert json.loads((report / "detection_metrics.json").read_text())["best_f1_conf"] == m["best_f1_conf"]
    assert main(["evaluate-detection", str(root), "--split", "valid", "--no-cache"]) == 0
    assert f"best F1 0.8000 at conf {m['best_f1_conf']:.2f}" in capsys.readouterr().out
