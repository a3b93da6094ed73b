"""Detection metrics (AP, mAP, the per-class table), margin calibration, the landmark-based letter
detector, and `aslkit evaluate-detection` on real annotated photos."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_dir

from aslkit.cli import main
from aslkit.data.boxes import box_iou
from aslkit.errors import AslkitError
from aslkit.evaluation.detection_metrics import detection_metrics
from aslkit.inference.detector import HandLetterDetector, calibrate_margins, widen
from aslkit.landmarks.extractor import Hand, HandsResult

GT = [[("A", (10, 10, 50, 50))], [("B", (0, 0, 20, 20)), ("A", (30, 30, 60, 60))], [("B", (5, 5, 25, 25))]]


def test_box_iou() -> None:
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    assert np.allclose(iou, [[1.0, 1 / 3, 0.0]])


def test_perfect_detections_score_one_and_misses_lower_it() -> None:
    perfect = [[(lab, box, 0.9) for lab, box in g] for g in GT]
    m = detection_metrics(GT, perfect, ["A", "B"])
    assert m["map50"] == pytest.approx(1.0) and m["map50_95"] == pytest.approx(1.0)
    assert m["precision"] == 1.0 and m["recall"] == 1.0
    assert m["per_class_table"]["A"] == {"ground_truth": 2, "detected": 2, "missed": 0, "false_positives": 0}
    wrong = [[("B", (10, 10, 50, 50), 0.9)], perfect[1], perfect[2]]  # the first A called B
    m = detection_metrics(GT, wrong, ["A", "B"])
    assert m["per_class_ap"]["A"] == pytest.approx(0.5, abs=0.01), "half of A's boxes can be found"
    assert m["per_class_table"]["B"]["false_positives"] == 1 and m["recall"] == pytest.approx(3 / 4)
    shifted = [[(lab, tuple(v + 2 for v in box), 0.9) for lab, box in g] for g in GT]
    m = detection_metrics(GT, shifted, ["A", "B"])
    assert m["map50_95"] < m["map50"] <= 1.0, "loose boxes pass at IoU 0.5 but not at 0.95"
    low = [[(lab, box, 0.1) for lab, box in g] for g in GT]
    m = detection_metrics(GT, low, ["A", "B"], conf=0.25)
    assert m["map50"] == pytest.approx(1.0) and m["recall"] == 0.0, "AP ranks every box; recall counts the sure ones"


def test_margins_are_calibrated_from_pairs() -> None:
    lm = np.array([10.0, 20.0, 30.0, 60.0])  # 20 wide, 40 high
    pairs = [(lm, np.array([6.0, 16.0, 36.0, 64.0]))] * 3
    m = calibrate_margins(pairs)
    assert m == pytest.approx({"left": 0.2, "top": 0.1, "right": 0.3, "bottom": 0.1})
    assert widen(lm, m, 100, 100) == pytest.approx((6.0, 16.0, 36.0, 64.0))
    assert widen(lm, m, 33, 62) == pytest.approx((6.0, 16.0, 33.0, 62.0)), "clipped to the image"


def test_detector_gives_one_box_per_likely_letter(tmp_path: Path) -> None:
    from conftest import template_landmarks

    pts = template_landmarks().astype(np.float32)
    pts[:, :2] = 0.3 + 0.4 * (pts[:, :2] - pts[:, :2].min(0)) / np.ptp(pts[:, :2], axis=0)
    res = HandsResult(400, 300, [Hand(pts, pts, "Left", 0.95)])
    det = HandLetterDetector(conf=0.0, top_k=3)
    out = det.from_hands(res)
    assert 1 <= len(out) <= 3 and len({d.xyxy for d in out}) == 1, "one hand, one box, several letters"
    assert [d.confidence for d in out] == sorted((d.confidence for d in out), reverse=True)
    assert all(d.label != "Nothing" for d in out)
    only = HandLetterDetector(conf=0.0, classes=["B"]).from_hands(res)
    assert [d.label for d in only] == ["B"]
    assert HandLetterDetector(conf=0.0).from_hands(HandsResult(400, 300, [])) == []


def test_evaluate_detection_cli_on_real_photos(tmp_path: Path, capsys, real_cache: Path) -> None:
    """A YOLO subset of the detection valid split (never trained on). The 12 images are copied: a box set's
    images must lie inside its folder (a link to a file elsewhere is refused, issue 15); labels are linked."""
    valid = shared_dir("asl-letters-detection", "valid")
    sub = tmp_path / "sub"
    (sub / "images").mkdir(parents=True)
    (sub / "labels").mkdir()
    (sub / "data.yaml").write_text((valid / "data.yaml").read_text())
    for lab in sorted((valid / "labels").glob("*.txt"))[::12]:
        img = next((valid / "images").glob(lab.stem + ".*"))
        shutil.copyfile(img, sub / "images" / img.name)
        os.symlink(lab, sub / "labels" / lab.name)
    args = ["evaluate-detection", str(sub), "--json", "--cache-dir", str(real_cache), "--report", str(tmp_path / "r")]
    assert main(args) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["images"] == m["ground_truth_boxes"] == 12 and m["format"] == "yolo"
    assert {"map50", "map50_95", "precision", "recall", "per_class_ap"} <= set(m)
    assert 0.6 <= m["map50"] <= 1.0 and m["map50_95"] <= m["map50"] and m["hand_found"] == 1.0
    assert json.loads((tmp_path / "r" / "detection_metrics.json").read_text())["map50"] == m["map50"]
    assert main(["evaluate-detection", str(tmp_path / "none")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_mirror_view_is_averaged_only_for_the_same_hand() -> None:
    from conftest import template_landmarks

    def hand(extended, handed: str, mirror: bool, dx: float = 0.0) -> Hand:
        p = template_landmarks(extended).astype(np.float32)
        p[:, :2] = 0.3 + 0.4 * (p[:, :2] - p[:, :2].min(0)) / np.ptp(p[:, :2], axis=0)
        p[:, 0] += dx
        if mirror:
            p[:, 0] = 1.0 - p[:, 0]
        return Hand(p, p, handed, 0.9)

    det = HandLetterDetector(conf=0.0, top_k=1)
    res = HandsResult(400, 300, [hand((True,) * 5, "Left", False)])
    alone = det.from_hands(res)[0]
    other_shape = HandsResult(400, 300, [hand((False, True, True, False, False), "Right", True)])
    averaged = det.from_hands(res, other_shape)[0]
    assert averaged.xyxy == alone.xyxy and averaged.confidence != pytest.approx(alone.confidence)
    elsewhere = HandsResult(400, 300, [hand((False, True, True, False, False), "Right", True, dx=0.45)])
    assert det.from_hands(res, elsewhere)[0].confidence == pytest.approx(alone.confidence), "not the same hand"


def test_detector_refuses_a_model_that_does_not_read_hand_landmarks() -> None:
    """A sign model's clips are not letters in boxes: one line that says so, not a feature-count mismatch."""
    with pytest.raises(AslkitError, match="detect needs a letter model .* words reads sequence"):
        HandLetterDetector("words")
