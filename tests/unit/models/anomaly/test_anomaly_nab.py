"""NAB scoring rules on hand-made detections."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from channelpulse.models.anomaly.baseline import windowed_gaussian_scores
from channelpulse.models.anomaly.nab import (
    NabProfile,
    load_profiles,
    optimise_threshold,
    point_weights,
    probationary_length,
    scaled_sigmoid,
    score_at_threshold,
    score_detections,
    sweep_file,
    threshold_sweep,
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


def test_the_threshold_sweep_equals_scoring_at_every_threshold() -> None:
    rng = np.random.default_rng(0)
    files = [
        (np.round(rng.random(N), 2), WINDOWS),
        (np.round(rng.random(600), 2), ((300, 349),)),
        (rng.random(400), ()),
    ]
    for profile in (NabProfile(), NabProfile(fp=0.22), NabProfile(fn=2.0)):
        sweeps = [sweep_file(scores, windows, profile) for scores, windows in files]
        thresholds, raw = threshold_sweep(sweeps, profile)
        assert thresholds[0] == 1.1 and raw[0] == -profile.fn * 3  # nothing detected: the null score
        assert np.all(np.diff(thresholds) < 0)
        for threshold, expected in zip(thresholds[::37], raw[::37], strict=True):
            direct = sum(score_at_threshold(s, w, threshold, profile).raw for s, w in files)
            assert direct == pytest.approx(expected)
        best, best_raw = optimise_threshold(sweeps, profile)
        assert best_raw == pytest.approx(raw.max()) and best == thresholds[int(np.argmax(raw))]


def test_ties_go_to_the_highest_threshold_and_scores_count_from_the_threshold_up() -> None:
    scores = np.zeros(N)
    scores[[400, 700]] = 0.8  # both windows at their first point: perfect
    sweeps = [sweep_file(scores, WINDOWS)]
    threshold, raw = optimise_threshold(sweeps)
    assert threshold == 0.8 and raw == pytest.approx(2.0)
    assert score_at_threshold(scores, WINDOWS, 0.8).raw == pytest.approx(2.0)
    assert score_at_threshold(scores, WINDOWS, 0.81).raw == -2.0


def test_profiles_are_read_from_nabs_json(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(
        json.dumps(
            {
                "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}},
                "reward_low_FN_rate": {
                    "CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1}
                },
            }
        )
    )
    profiles = load_profiles(path)
    assert profiles["standard"] == NabProfile() and profiles["reward_low_FN_rate"] == NabProfile(fn=2.0)


def test_windowed_gaussian_follows_nabs_detector() -> None:
    values = np.array([1.0, 2.0, 3.0, 10.0, 2.0, 2.0, 2.0, 2.0])
    scores = windowed_gaussian_scores(values, window=4, step=2)
    assert scores[0] == 0.0
    # reading 3 against mean/std of readings 0..2; reading 4 against 0..3 (the window is then full)
    assert scores[3] == pytest.approx(1 - 0.5 * math.erfc(((10 - 2) / np.std([1, 2, 3])) / math.sqrt(2)))
    assert scores[4] == pytest.approx(1 - 0.5 * math.erfc((abs(2 - 4) / np.std([1, 2, 3, 10])) / math.sqrt(2)))
    # full: readings 4 and 5 are buffered (statistics unchanged), then the window slides by 2
    assert scores[5] == pytest.approx(scores[4])
    assert scores[6] == pytest.approx(1 - 0.5 * math.erfc((abs(2 - 4.25) / np.std([3, 10, 2, 2])) / math.sqrt(2)))
