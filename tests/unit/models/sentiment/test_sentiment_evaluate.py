"""Accuracy and macro-F1 against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from models.sentiment.evaluate import classification_metrics


def test_metrics_match_a_hand_computed_confusion() -> None:
    true = np.array([0, 0, 0, 1, 2, 2])
    pred = np.array([0, 0, 2, 2, 2, 1])
    m = classification_metrics(pred, true)
    assert m["rows"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6)
    # negative: tp 2, fn 1 -> 4/5; neutral: tp 0 -> 0; positive: tp 1, fp 2, fn 1 -> 2/5
    assert m["f1_negative"] == pytest.approx(0.8)
    assert m["f1_neutral"] == 0.0
    assert m["f1_positive"] == pytest.approx(0.4)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.0 + 0.4) / 3)


def test_perfect_predictions_score_one_and_shapes_must_agree() -> None:
    labels = np.array([0, 1, 2, 1])
    m = classification_metrics(labels, labels)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0
    with pytest.raises(ValueError, match="shape"):
        classification_metrics(labels[:3], labels)
