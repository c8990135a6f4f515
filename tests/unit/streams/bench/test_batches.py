from __future__ import annotations

import numpy as np
import pytest

from channelpulse.config import Settings
from streams.bench.batches import recommendation_batches, scoring_batches, sensor_batches


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


def test_sensor_batches_are_the_windows_after_each_reading() -> None:
    readings = [{"sensor_id": s, "value": float(v)} for v in range(6) for s in ("s1", "s2")]
    batches = sensor_batches(readings, size=4, width=3)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (4, 3)]
    last = batches[-1][0]
    np.testing.assert_array_equal(last[-1], [3.0, 4.0, 5.0])  # s2 after its sixth reading
    assert np.isnan(batches[0][0][0][:2]).all()  # s1's first window is left-padded


def test_only_full_batches_of_the_worker_size() -> None:
    settings = Settings(batch_max_size=4)
    bodies = [{"text": f"t{i}"} for i in range(10)]
    batches = scoring_batches("sentiment", bodies, settings)
    assert [len(b[0]) for b in batches] == [4, 4]
    with pytest.raises(ValueError):
        scoring_batches("deadletter", bodies, settings)
