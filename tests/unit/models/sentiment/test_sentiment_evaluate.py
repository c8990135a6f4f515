"""Accuracy and macro-F1 against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from channelpulse.models.sentiment.evaluate import classification_metrics


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


def test_binary_accuracy_ignores_neutral_rows_and_p_neutral() -> None:
    from channelpulse.models.sentiment.evaluate import binary_accuracy

    probs = np.array([[0.3, 0.6, 0.1], [0.1, 0.8, 0.1 + 1e-3], [0.2, 0.1, 0.7], [0.5, 0.4, 0.1]])
    gold = np.array([0, 2, 1, 2])  # the neutral row is dropped; row 1 wins positive by a hair
    assert binary_accuracy(probs, gold) == pytest.approx(2 / 3)
    assert np.isnan(binary_accuracy(probs[:1], np.array([1])))


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_not() -> None:
    from channelpulse.models.sentiment.evaluate import expected_calibration_error

    probs = np.tile([0.75, 0.25, 0.0], (8, 1))
    gold = np.array([0, 0, 0, 1, 0, 0, 0, 1])  # 75% right at confidence 0.75
    assert expected_calibration_error(probs, gold) == pytest.approx(0.0)
    sure = np.tile([1.0, 0.0, 0.0], (4, 1))
    assert expected_calibration_error(sure, np.array([0, 1, 1, 1])) == pytest.approx(0.75)


def test_domain_metrics_report_three_class_figures_only_with_neutral_rows() -> None:
    from channelpulse.models.sentiment.evaluate import domain_metrics

    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    assert "macro_f1" not in domain_metrics(probs, np.array([0, 2]))
    assert domain_metrics(probs, np.array([0, 1]))["macro_f1"] == pytest.approx((1 + 0 + 0) / 3)
