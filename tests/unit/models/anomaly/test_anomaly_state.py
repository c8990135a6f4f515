"""SensorState (compact, JSON-able, old formats start fresh) and EpisodeTracker (one alert per episode)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from channelpulse.models.anomaly.episodes import EpisodeTracker
from channelpulse.models.anomaly.online import OnlineDetector
from channelpulse.models.anomaly.sensor_state import SensorState, stack_rows


def test_state_round_trips_through_json_bit_for_bit() -> None:
    detector = OnlineDetector()
    row = detector.new_state(1)
    detector.run(row, np.array([[1.0, 2.5, np.nan]]), np.array([[0.0, 300.0, 600.0]]))
    state = SensorState(cooldown=2, row=row[0])
    for flag in (False, True, False):
        state.episodes.observe(flag)
    data = json.loads(json.dumps(state.to_dict()))
    restored = SensorState.from_dict(data, cooldown=2)
    assert restored.row.tobytes() == state.row.tobytes()  # NaN seasonal bins included
    assert restored.to_dict() == state.to_dict()
    assert restored.episodes.observe(True) == state.episodes.observe(True) is False


def test_state_is_kilobytes_per_sensor() -> None:
    detector = OnlineDetector()
    state = SensorState(48, detector.new_state(1)[0])
    assert len(json.dumps(state.to_dict())) < 6144  # version 7: 419 float64 values, ~4.6 KB as JSON
    assert detector.state_size * 8 < 4096


def test_a_version_1_window_or_a_missing_entry_starts_fresh() -> None:
    old = {"capacity": 1024, "values": [1.0, 2.0], "episodes": EpisodeTracker(48).to_dict()}
    for stored in (old, None, {}):
        state = SensorState.from_dict(stored, cooldown=5)
        assert state.row.size == 0 and state.episodes.cooldown == 5
    # an empty row is a new sensor to the detector; rows of one request are right-padded with zeros
    rows = stack_rows([np.zeros(0), OnlineDetector().new_state(1)[0]])
    adopted = OnlineDetector().adopt(rows)
    np.testing.assert_array_equal(adopted[0], OnlineDetector().new_state(1)[0])


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


def test_negative_cooldown_is_rejected() -> None:
    with pytest.raises(ValueError):
        EpisodeTracker(cooldown=-1)
