"""SensorWindow (bounded, NaN-left-padded, serialisable) and EpisodeTracker (one alert per episode)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from models.anomaly.episodes import EpisodeTracker
from models.anomaly.window import SensorWindow


def test_as_array_is_left_padded_float32_with_the_newest_value_last() -> None:
    window = SensorWindow(capacity=5)
    for value in (1.0, 2.0, 3.0):
        window.push(value)
    out = window.as_array()
    assert out.dtype == np.float32 and out.shape == (5,)
    assert np.isnan(out[:2]).all() and out[2:].tolist() == [1.0, 2.0, 3.0]
    assert window.as_array(2).tolist() == [2.0, 3.0]
    wide = window.as_array(8)
    assert np.isnan(wide[:5]).all() and wide[5:].tolist() == [1.0, 2.0, 3.0]


def test_window_keeps_only_the_last_capacity_values_and_gaps_as_nan() -> None:
    window = SensorWindow(capacity=3)
    for value in (1.0, 2.0, float("inf"), 4.0, 5.0):
        window.push(value)
    out = window.as_array()
    assert np.isnan(out[0]) and out[1:].tolist() == [4.0, 5.0]


def test_state_round_trips_through_json() -> None:
    window = SensorWindow(capacity=4, cooldown=2)
    for value in (1.5, float("nan"), 2.5):
        window.push(value)
    for flag in (False, True, False):
        window.episodes.observe(flag)
    data = json.loads(json.dumps(window.to_dict()))
    restored = SensorWindow.from_dict(data)
    np.testing.assert_array_equal(restored.as_array(), window.as_array())
    assert restored.capacity == 4 and restored.to_dict() == window.to_dict()
    assert math.isnan(restored.values[1])
    # the restored episode state suppresses exactly like the original
    assert restored.episodes.observe(True) == window.episodes.observe(True) is False


def test_episode_opens_once_and_rearms_after_cooldown_quiet_readings() -> None:
    tracker = EpisodeTracker(cooldown=3)
    flags = [False, True, True, False, True, False, False, False, True, False, False, False, False, True]
    opened = [tracker.observe(f) for f in flags]
    # reading 2 opens; 3 and 5 extend it; 9 comes 4 readings after 5 (> cooldown): opens again;
    # 14 comes 5 after 9: opens again
    assert [i + 1 for i, o in enumerate(opened) if o] == [2, 9, 14]
    assert tracker.episodes == 3
    assert tracker.in_episode


def test_zero_cooldown_alerts_on_every_separated_flag() -> None:
    tracker = EpisodeTracker(cooldown=0)
    assert [tracker.observe(f) for f in (True, True, False, True)] == [True, True, False, True]


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError):
        SensorWindow(capacity=0)
    with pytest.raises(ValueError):
        EpisodeTracker(cooldown=-1)
