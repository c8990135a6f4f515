from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from channelpulse.config import Settings
from streams.pipeline.analytics import ChannelAnalytics
from streams.pipeline.observations import observation

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def obs(second: float, kind: str, **fields: object) -> bytes:
    return observation("observations", "web", kind, T0 + timedelta(seconds=second), **fields).value


def test_windows_close_by_event_time_and_ticks_and_survive_serialisation() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    assert (
        state.step(
            [
                obs(1, "click", action="view"),
                obs(2, "click", action="view"),
                obs(3, "click", action="purchase"),
                obs(10, "review", label="negative", score=-0.8),
                obs(20, "review", label="positive", score=0.6),
            ],
            settings,
        )
        == []
    )
    state = ChannelAnalytics.from_dict(json.loads(json.dumps(state.to_dict(), default=str)))
    tick = json.dumps({"tick": (T0 + timedelta(seconds=66)).isoformat()}).encode()
    assert state.step([tick], settings) == []  # one tick since the last observation: not idle yet
    emits = state.step([tick], settings)
    assert [e.topic for e in emits] == [settings.topic_analytics]
    window = json.loads(emits[0].value)
    assert window["channel"] == "web" and emits[0].key == b"web"
    assert window["actions"]["view"] == 2 and window["actions"]["purchase"] == 1
    assert window["conversion"] == 0.5
    assert window["negative_share"] == 0.5
    assert abs(window["sentiment_mean"] - (-0.1)) < 1e-9


def test_a_negative_surge_raises_one_alert() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=0)
    state = ChannelAnalytics.new(settings)
    alerts = []
    for minute in range(30):
        surging = 20 <= minute < 25
        records = [
            obs(
                minute * 60 + i,
                "review",
                label="negative" if (i < 16 if surging else i % 10 == 0) else "positive",
                score=-0.5 if (i < 16 if surging else i % 10 == 0) else 0.5,
            )
            for i in range(20)
        ]
        emits = state.step(records, settings)
        alerts += [json.loads(e.value) for e in emits if e.topic == settings.topic_alerts]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "negative_sentiment_spike" and alerts[0]["channel"] == "web"


def test_ticks_between_backlog_observations_close_no_window_ahead_of_its_data() -> None:
    """A backlog drained long after the fact: ticks carry today's wall clock, the observations old
    event times. With ticks interleaved, every observation still lands in its window: none is late."""
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    wall = json.dumps({"tick": (T0 + timedelta(hours=3)).isoformat()}).encode()
    emits = []
    for second in range(0, 180, 3):  # three minutes of backlog, a tick after every observation
        emits += state.step([obs(second, "click", action="view"), wall], settings)
    assert state.windows.late_dropped == 0
    emits += state.step([wall, wall], settings)  # now idle: the wall clock closes the rest
    windows = [json.loads(e.value) for e in emits if e.topic == settings.topic_analytics]
    assert [w["actions"]["view"] for w in windows] == [20, 20, 20]
    restored = ChannelAnalytics.from_dict(json.loads(json.dumps(state.to_dict(), default=str)))
    assert restored.idle_ticks == state.idle_ticks == 3
