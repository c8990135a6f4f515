"""NAB scoring rules on hand-made detections."""

from __future__ import annotations

import numpy as np
import pytest

from models.anomaly.nab import (
    NabProfile,
    point_weights,
    probationary_length,
    scaled_sigmoid,
    score_detections,
    total,
)

N = 1000  # probationary period: the first 150 points
WINDOWS = ((400, 499), (700, 799))


def _detect(*indices: int, n: int = N) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[list(indices)] = True
    return flags


def test_perfect_detector_scores_100_and_null_detector_0() -> None:
    perfect = score_detections(_detect(400, 700), WINDOWS)
    null = score_detections(_detect(), WINDOWS)
    assert perfect.normalised == pytest.approx(100.0)
    assert null.normalised == pytest.approx(0.0)
    assert (null.raw, null.null, null.perfect) == (-2.0, -2.0, 2.0)
    assert perfect.detected_windows == 2 and null.detected_windows == 0


def test_early_detection_in_a_window_beats_a_late_one() -> None:
    early = score_detections(_detect(410), WINDOWS[:1])
    middle = score_detections(_detect(450), WINDOWS[:1])
    late = score_detections(_detect(495), WINDOWS[:1])
    assert early.raw > middle.raw > late.raw > 0.0
    # only the best detection of a window counts: a later one adds nothing
    assert score_detections(_detect(410, 495), WINDOWS[:1]).raw == pytest.approx(early.raw)


def test_false_positive_costs_follow_the_standard_profile() -> None:
    found = score_detections(_detect(400), WINDOWS[:1]).raw
    before_any_window = score_detections(_detect(300, 400), WINDOWS[:1])
    assert before_any_window.raw == pytest.approx(found - 0.11)
    assert before_any_window.false_positives == 1
    just_after = score_detections(_detect(400, 505), WINDOWS[:1]).raw
    far_after = score_detections(_detect(400, 900), WINDOWS[:1]).raw
    assert found > just_after > far_after >= found - 0.11 - 1e-9
    assert far_after == pytest.approx(found - 0.11, abs=1e-3)


def test_a_series_without_windows_only_loses_points() -> None:
    quiet = score_detections(_detect(), ())
    noisy = score_detections(_detect(200, 300, 900), ())
    assert quiet.raw == 0.0 and quiet.normalised is None
    assert noisy.raw == pytest.approx(-0.33) and noisy.false_positives == 3


def test_probationary_detections_are_ignored() -> None:
    assert probationary_length(N) == 150
    assert probationary_length(10_000) == 750
    assert score_detections(_detect(10, 149), WINDOWS).raw == -2.0
    assert score_detections(_detect(150), WINDOWS).false_positives == 1


def test_weights_match_the_scaled_sigmoid() -> None:
    weights, window_of = point_weights(N, WINDOWS)
    assert weights[400] == pytest.approx(1.0)  # the window's first point is worth the full TP weight
    assert weights[499] == pytest.approx(scaled_sigmoid(-1 / 100) / scaled_sigmoid(-1.0))
    assert window_of[399] == -1 and window_of[400] == 0 and window_of[799] == 1
    assert np.all(np.diff(weights[400:500]) < 0)  # earlier is better throughout the window
    assert scaled_sigmoid(3.5) == -1.0


def test_other_profiles_and_corpus_totals() -> None:
    low_fn = NabProfile(tp=1.0, fp=0.11, fn=2.0)
    assert score_detections(_detect(), WINDOWS, low_fn).raw == -4.0
    a = score_detections(_detect(400), WINDOWS[:1])
    b = score_detections(_detect(300), ())
    corpus = total([a, b])
    assert corpus.raw == pytest.approx(a.raw + b.raw)
    assert corpus.normalised == pytest.approx(100 * (1.0 - 0.11 + 1.0) / 2.0)


def test_windows_must_be_in_range_and_disjoint() -> None:
    with pytest.raises(ValueError):
        score_detections(_detect(), ((900, 1000),))
    with pytest.raises(ValueError):
        score_detections(_detect(), ((400, 500), (500, 600)))
