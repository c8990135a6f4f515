"""NAB replays: lockstep replay equals per-series replay, no look-ahead, and on the real development
series the served version 7 beats version 6, NAB's windowed Gaussian and version 1 (its flags keep
the target and do not fall below version 6's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from channelpulse.models.anomaly.evaluation import replay_online, replay_v1, replay_windowed_gaussian, score_corpus
from channelpulse.models.anomaly.nab import load_profiles
from channelpulse.models.anomaly.nab_corpus import NabSeries, load_corpus
from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams

REPOSITORY = Path(__file__).resolve().parents[4] / "models" / "repository" / "anomaly"


def _series(name: str, values: np.ndarray, step_s: float = 300.0) -> NabSeries:
    start = datetime(2026, 1, 1)
    stamps = tuple(start + timedelta(seconds=step_s * i) for i in range(len(values)))
    return NabSeries(name, stamps, values, ())


def test_lockstep_replay_of_several_series_equals_replaying_each_alone() -> None:
    rng = np.random.default_rng(0)
    corpus = [_series("a", rng.normal(size=900)), _series("b", rng.normal(size=500) + 5, step_s=3600.0)]
    together = replay_online(corpus, OnlineDetector())
    for series, joint in zip(corpus, together, strict=True):
        (alone,) = replay_online([series], OnlineDetector())
        np.testing.assert_array_equal(joint.scores, alone.scores)
        np.testing.assert_array_equal(joint.flags, alone.flags)


def test_no_look_ahead_a_prefix_scores_like_the_full_replay() -> None:
    values = np.random.default_rng(1).normal(size=1400)
    full, prefix = _series("full", values), _series("prefix", values[:1100])
    np.testing.assert_array_equal(
        replay_online([prefix], OnlineDetector())[0].scores, replay_online([full], OnlineDetector())[0].scores[:1100]
    )
    np.testing.assert_array_equal(replay_v1(prefix).scores, replay_v1(full).scores[:1100])
    np.testing.assert_array_equal(replay_windowed_gaussian(prefix).scores, replay_windowed_gaussian(full).scores[:1100])


def test_on_the_real_development_series_v7_beats_v6_windowed_gaussian_and_v1(data_dir: Path) -> None:
    folder = data_dir / "sensors" / "nab_real"
    if not (folder / "windows.json").exists():
        pytest.skip(f"NAB development series not found at {folder}")
    corpus = load_corpus(folder)
    standard = load_profiles(folder / "profiles.json")["standard"]
    served = OnlineParams.from_meta(REPOSITORY / "7" / "meta.json")
    assert served == OnlineParams()  # the defaults are the served parameters
    ours = score_corpus(corpus, replay_online(corpus, OnlineDetector(served)), standard)
    v6 = OnlineDetector(OnlineParams.from_meta(REPOSITORY / "6" / "meta.json"))
    previous = score_corpus(corpus, replay_online(corpus, v6), standard)
    gaussian = score_corpus(corpus, [replay_windowed_gaussian(s) for s in corpus], standard)
    v1 = score_corpus(corpus, [replay_v1(s) for s in corpus], standard)  # ~20 s: version 1 is slow
    assert ours.score > max(previous.score, gaussian.score, v1.score)
    # the flags keep their target (>= 60), beat the baselines and do not fall below version 6's
    assert ours.flags >= max(60.0, previous.flags - 0.05) and ours.flags > max(gaussian.flags, v1.flags)
