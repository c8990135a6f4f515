from __future__ import annotations

import numpy as np
import pytest

from channelpulse.bench.batches import batch_events, recommendation_batches, scoring_batches, sensor_batches
from channelpulse.config import Settings
from channelpulse.models.anomaly.online import Slot


def test_recommendation_batches_replay_each_users_state() -> None:
    clicks = [
        {"user_id": "u1", "item_id": "a", "action": "view"},
        {"user_id": "u2", "item_id": "b", "action": "view"},
        {"user_id": "u1", "item_id": "c", "action": "purchase"},
        {"user_id": "u1", "item_id": "a", "action": "click"},
    ]
    (histories, excludes, k), = recommendation_batches(clicks, size=4, k=5)
    assert histories == [["a"], ["b"], ["a", "c"], ["c", "a"]]
    assert excludes == [[], [], ["c"], ["c"]]
    assert k == 5


def test_sensor_batches_carry_each_sensors_state_and_group_its_readings() -> None:
    readings = [
        {"sensor_id": s, "value": float(v), "occurred_at": f"2026-01-01T00:{v:02d}:00+00:00"}
        for v in range(6)
        for s in ("s1", "s2")
    ]
    batches = sensor_batches(readings, size=4)
    assert [b[1].shape for b in batches] == [(2, 2), (2, 2), (2, 2)]  # 2 sensors x 2 readings per chunk
    assert batch_events(batches[0]) == 4
    states, values, times = batches[-1]
    np.testing.assert_array_equal(values[1], [4.0, 5.0])  # s2's readings 5 and 6, in order
    assert times[1, 1] - times[1, 0] == 60.0
    assert states[0][Slot.COUNT] == 4  # s1's state after its first four readings
    assert batches[0][0][0][Slot.COUNT] == 0  # and fresh before them


def test_only_full_batches_of_the_worker_size() -> None:
    settings = Settings(batch_max_size=4)
    bodies = [{"text": f"t{i}"} for i in range(10)]
    batches = scoring_batches("sentiment", bodies, settings)
    assert [len(b[0]) for b in batches] == [4, 4]
    with pytest.raises(ValueError):
        scoring_batches("deadletter", bodies, settings)
