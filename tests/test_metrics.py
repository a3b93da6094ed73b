"""Metrics on small examples worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from aslkit.metrics import classification_metrics, confusion_matrix, end_to_end_metrics

# true:  A A A A B B C C C C
# pred:  A A B C B B C C A C
Y_TRUE = list("AAAABBCCCC")
Y_PRED = list("AABCBBCCAC")


def test_confusion_matrix_by_hand() -> None:
    cm = confusion_matrix(Y_TRUE, Y_PRED, ["A", "B", "C"])
    assert cm.tolist() == [[2, 1, 1], [0, 2, 0], [1, 0, 3]]
    assert cm.dtype == np.int64
    # label order is respected; unknown labels are ignored
    assert confusion_matrix(["B", "A", "X"], ["B", "B", "A"], ["B", "A"]).tolist() == [[1, 0], [1, 0]]


def test_confusion_matrix_length_mismatch() -> None:
    with pytest.raises(ValueError):
        confusion_matrix(["A"], ["A", "B"], ["A", "B"])


def test_classification_metrics_by_hand() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, ["A", "B", "C"])
    assert m["n"] == 10
    assert m["accuracy"] == pytest.approx(7 / 10)
    # A: tp 2, predicted 3, support 4 -> p 2/3, r 1/2, f1 = 2*(1/3)/(7/6) = 4/7
    # B: tp 2, predicted 3, support 2 -> p 2/3, r 1,   f1 = 0.8
    # C: tp 3, predicted 4, support 4 -> p 3/4, r 3/4, f1 = 0.75
    f1 = {"A": 4 / 7, "B": 0.8, "C": 0.75}
    assert m["per_class_f1"] == pytest.approx(f1)
    assert m["per_class"]["A"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["A"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["B"]["support"] == 2
    assert m["macro_f1"] == pytest.approx((4 / 7 + 0.8 + 0.75) / 3)
    assert m["weighted_f1"] == pytest.approx((4 * 4 / 7 + 2 * 0.8 + 4 * 0.75) / 10)
    assert m["confusion_matrix"] == {"labels": ["A", "B", "C"], "matrix": [[2, 1, 1], [0, 2, 0], [1, 0, 3]]}


def test_absent_classes_are_left_out_of_averages_but_wrong_predictions_count() -> None:
    # the model knows A, B, Z; the test set has no Z, but one image is predicted Z
    m = classification_metrics(["A", "A", "B", "B"], ["A", "Z", "B", "B"], ["A", "B", "Z"])
    assert m["accuracy"] == pytest.approx(0.75)
    assert set(m["per_class_f1"]) == {"A", "B"}
    # A: p 1, r 1/2 -> 2/3 ; B: p 1, r 1 -> 1
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    assert m["confusion_matrix"]["matrix"][0] == [1, 0, 1]


def test_labels_outside_the_list_are_added() -> None:
    m = classification_metrics(["A", "hello"], ["A", "A"], ["A"])
    assert m["confusion_matrix"]["labels"] == ["A", "hello"]
    assert m["per_class_f1"]["hello"] == 0.0
    assert m["per_class_f1"]["A"] == pytest.approx(2 * 0.5 * 1 / 1.5)


def test_perfect_and_empty() -> None:
    m = classification_metrics(list("ABC"), list("ABC"), list("ABC"))
    assert m["accuracy"] == m["macro_f1"] == m["weighted_f1"] == 1.0
    e = classification_metrics([], [], ["A"])
    assert e["n"] == 0 and e["accuracy"] == 0.0 and e["macro_f1"] == 0.0


def test_end_to_end_counts_no_hand_images() -> None:
    # 6 images; in 2 no hand was found, so they are predicted Nothing
    y_true = ["A", "A", "B", "B", "Nothing", "B"]
    has_hand = [True, False, True, True, False, False]
    y_pred = ["A", "Nothing", "B", "A", "Nothing", "Nothing"]
    m = end_to_end_metrics(y_true, y_pred, has_hand, ["A", "B", "Nothing"])
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6), "A, B right; the no-hand Nothing image is right too"
    assert m["n_detected"] == 3
    assert m["detection_rate"] == pytest.approx(0.5)
    assert m["accuracy_detected"] == pytest.approx(2 / 3)
    assert m["per_class_detection_rate"] == pytest.approx({"A": 0.5, "B": 2 / 3, "Nothing": 0.0})
    assert m["per_class"]["Nothing"]["precision"] == pytest.approx(1 / 3)


def test_end_to_end_without_any_hand() -> None:
    m = end_to_end_metrics(["A", "B"], ["Nothing", "Nothing"], [False, False], ["A", "B"])
    assert m["accuracy"] == 0.0 and m["accuracy_detected"] == 0.0 and m["detection_rate"] == 0.0
