"""AnomalyDetector: spikes and level shifts score high, calm noise rarely flags, no look-ahead."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from channelpulse.config import REPO_ROOT
from models.anomaly.detector import STATISTICS, AnomalyDetector, DetectorParams, shipped_params
from models.anomaly.nab import score_detections
from models.anomaly.nab_corpus import load_corpus
from models.anomaly.replay import replay

# A small, non-seasonal configuration keeps the synthetic tests fast; the seasonal ones use season=48.
PLAIN = DetectorParams(width=300, season=0, min_history=100)
SEASONAL = DetectorParams(width=200, season=48, phase_tolerance=3, min_history=96)
COOLDOWN = 50


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return 10.0 + np.random.default_rng(seed).normal(0.0, 1.0, n)


def _run(values: np.ndarray, params: DetectorParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    result = replay(values, AnomalyDetector(params).score, params.width, COOLDOWN)
    return result.scores, result.flags, result.episode_starts


def test_a_spike_scores_high_and_is_flagged_once() -> None:
    values = _noise(600)
    values[450] += 12.0
    scores, flags, starts = _run(values, PLAIN)
    assert scores[450] > 0.6 and flags[450]
    assert scores[450] > 10 * np.median(scores[PLAIN.min_history + 1 :])
    assert np.flatnonzero(starts).tolist() == [450]


def test_a_level_shift_is_flagged_within_a_few_readings_as_one_episode() -> None:
    values = _noise(700, seed=1)
    values[500:] += 4.0
    scores, flags, starts = _run(values, PLAIN)
    first = int(np.argmax(flags))
    assert 500 <= first <= 506
    assert scores[first] >= 0.5 and not flags[:500].any()
    assert np.flatnonzero(starts).tolist() == [first]


def test_a_variance_collapse_is_flagged() -> None:
    values = _noise(600, seed=2)
    values[450:] = values[449]  # a stuck sensor
    _, flags, _ = _run(values, PLAIN)
    assert not flags[:450].any() and flags[450:480].any()


def test_stationary_noise_rarely_flags() -> None:
    values = _noise(2000, seed=3)
    _, flags, starts = _run(values, PLAIN)
    assert flags.mean() < 0.002 and starts.sum() <= 1


def test_a_missing_seasonal_peak_is_flagged_but_the_normal_season_is_not() -> None:
    period = SEASONAL.season
    phase = np.arange(1200) % period
    values = np.where(phase < 16, 80.0, 20.0) + np.random.default_rng(4).normal(0.0, 1.0, 1200)
    normal_scores, normal_flags, _ = _run(values, SEASONAL)
    assert not normal_flags.any()
    missing = values.copy()
    day = 20 * period
    missing[day : day + 16] = 20.0 + np.random.default_rng(5).normal(0.0, 1.0, 16)
    scores, _, starts = _run(missing, SEASONAL)
    np.testing.assert_array_equal(scores[:day], normal_scores[:day])
    detected = np.flatnonzero(starts)
    assert len(detected) == 1 and day <= detected[0] < day + 16


def test_scoring_a_prefix_gives_the_same_scores_as_the_full_replay() -> None:
    values = _noise(700, seed=6)
    values[400] += 9.0
    values[550:] -= 3.0
    full, full_flags, _ = _run(values, PLAIN)
    prefix, prefix_flags, _ = _run(values[:560], PLAIN)
    np.testing.assert_array_equal(prefix, full[:560])
    np.testing.assert_array_equal(prefix_flags, full_flags[:560])


def test_rows_are_scored_independently_and_padding_does_not_matter() -> None:
    detector = AnomalyDetector(PLAIN)
    rng = np.random.default_rng(7)
    windows = (10 + rng.normal(0, 1, (6, PLAIN.width))).astype(np.float32)
    windows[1, -1] = 30.0
    windows[2, :150] = np.nan
    windows[3, :250] = np.nan  # below min_history: not scored yet
    windows[4, -1] = np.nan  # no current value
    scores, flags = detector.score(windows)
    singles = np.concatenate([detector.score(row[None, :])[0] for row in windows])
    np.testing.assert_array_equal(scores, singles)
    narrow = detector.score(windows[2:3, 150:])[0]
    wider = detector.score(np.concatenate([np.full((1, 40), np.nan), windows[2:3]], axis=1))[0]
    assert narrow[0] == scores[2] == wider[0]
    assert flags.tolist() == [False, True, False, False, False, False]
    assert scores[3] == scores[4] == 0.0
    assert scores.dtype == np.float32 and np.all((scores >= 0) & (scores < 1))


def test_statistics_name_what_fired() -> None:
    detector = AnomalyDetector(PLAIN)
    values = _noise(PLAIN.width, seed=8)
    spike = values.copy()
    spike[-1] += 15.0
    z = detector.statistics(np.stack([values, spike]))
    assert z.shape == (2, len(STATISTICS))
    assert STATISTICS[int(np.argmax(z[1]))] == "value" and z[1].max() > z[0].max()


def test_parameters_round_trip_and_reject_unknown_keys(tmp_path: Path) -> None:
    params = DetectorParams(width=500, z_half=2.5)
    assert DetectorParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    with pytest.raises(ValueError, match="unknown"):
        DetectorParams.from_dict({"widht": 10})
    with pytest.raises(ValueError):
        DetectorParams(width=100, min_history=200)
    (tmp_path / "anomaly" / "1").mkdir(parents=True)
    (tmp_path / "anomaly" / "2").mkdir()
    (tmp_path / "anomaly" / "1" / "meta.json").write_text(json.dumps({"parameters": {"width": 400}}))
    (tmp_path / "anomaly" / "2" / "meta.json").write_text(json.dumps({"parameters": params.to_dict()}))
    assert shipped_params(tmp_path) == params
    assert shipped_params(REPO_ROOT / "models" / "repository").width >= 3 * 288


def test_finds_the_nab_jumpsdown_anomaly_in_its_window_without_false_positives(data_dir: Path) -> None:
    """The shipped parameters on one NAB series whose anomaly only a seasonal reference can see."""
    series = next(s for s in load_corpus(data_dir / "sensors" / "nab_artificial") if "jumpsdown" in s.name)
    params = shipped_params(REPO_ROOT / "models" / "repository")
    _, _, starts = _run(series.values, params)
    nab = score_detections(starts, series.windows)
    assert nab.detected_windows == 1 and nab.false_positives == 0
    assert nab.normalised is not None and nab.normalised > 80.0
