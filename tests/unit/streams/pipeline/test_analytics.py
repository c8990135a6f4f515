from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from channelpulse.config import Settings
from channelpulse.streams.pipeline.analytics import ChannelAnalytics
from channelpulse.streams.pipeline.observations import grouped_observations, observation
from channelpulse.streams.pipeline.records import Emit, RawRecord

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
INPUT_OFFSETS = count()


def obs(second: float, kind: str, channel: str = "web", source: RawRecord | None = None, **fields: object) -> bytes:
    """An observation of a new input event (or of ``source``)."""
    source = source or RawRecord("events.reviews", 0, next(INPUT_OFFSETS), None, None)
    return observation("observations", source, channel, kind, T0 + timedelta(seconds=second), **fields).value


class Partition:
    """Positions on one observation partition, in the order records are appended to it."""

    def __init__(self) -> None:
        self.offsets = count()

    def __call__(self, values: Sequence[bytes]) -> list[tuple[int, bytes]]:
        return [(next(self.offsets), v) for v in values]


def test_windows_close_by_event_time_and_ticks_and_survive_serialisation() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    at = Partition()
    assert (
        state.step(
            at([
                obs(1, "click", action="view"),
                obs(2, "click", action="view"),
                obs(3, "click", action="purchase"),
                obs(10, "review", label="negative", score=-0.8),
                obs(20, "review", label="positive", score=0.6),
            ]),
            settings,
        )
        == []
    )
    state = ChannelAnalytics.from_dict(json.loads(json.dumps(state.to_dict(), default=str)))
    tick = json.dumps({"tick": (T0 + timedelta(seconds=66)).isoformat()}).encode()
    assert state.step(at([tick]), settings) == []  # one tick since the last observation: not idle yet
    emits = state.step(at([tick]), settings)
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
    at = Partition()
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
        emits = state.step(at(records), settings)
        alerts += [json.loads(e.value) for e in emits if e.topic == settings.topic_alerts]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "negative_sentiment_spike" and alerts[0]["channel"] == "web"


def test_ticks_between_backlog_observations_close_no_window_ahead_of_its_data() -> None:
    """A backlog drained long after the fact: ticks carry today's wall clock, the observations old
    event times. With ticks interleaved, every observation still lands in its window: none is late."""
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    at = Partition()
    wall = json.dumps({"tick": (T0 + timedelta(hours=3)).isoformat()}).encode()
    emits = []
    for second in range(0, 180, 3):  # three minutes of backlog, a tick after every observation
        emits += state.step(at([obs(second, "click", action="view"), wall]), settings)
    assert state.windows.late_dropped == 0
    emits += state.step(at([wall, wall]), settings)  # now idle: the wall clock closes the rest
    windows = [json.loads(e.value) for e in emits if e.topic == settings.topic_analytics]
    assert [w["actions"]["view"] for w in windows] == [20, 20, 20]
    restored = ChannelAnalytics.from_dict(json.loads(json.dumps(state.to_dict(), default=str)))
    assert restored.idle_ticks == state.idle_ticks == 3


def views(emits: Sequence[Emit]) -> dict[str, int]:
    """Views per channel in the published windows."""
    windows = [json.loads(e.value) for e in emits if e.topic == Settings().topic_analytics]
    return {w["channel"]: w["actions"]["view"] for w in windows}


def open_views(state: ChannelAnalytics) -> dict[str, int]:
    """Views per channel in the windows still open."""
    return {w["channel"]: w["actions"]["view"] for w in state.windows.flush()}


def test_records_read_again_count_once() -> None:
    """The state was stored after its observations, their offsets not committed: they come again."""
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    values = [obs(s, "click", action="view") for s in range(10)]
    state.step(list(enumerate(values[:6])), settings)
    state = ChannelAnalytics.from_dict(json.loads(json.dumps(state.to_dict())))  # restored from the changelog
    state.step(list(enumerate(values))[2:], settings)  # read again from the committed offset 2
    assert state.duplicates == 4
    assert open_views(state) == {"web": 10}


def test_observations_produced_again_by_a_replay_of_their_input_count_once() -> None:
    """The scoring worker crashed before committing inputs 3..5: their observations come a second
    time, at new positions, interleaved with another input partition's."""
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    clicks = [RawRecord("events.clicks", 0, o, None, None) for o in range(8)]
    other = [RawRecord("events.clicks", 1, o, None, None) for o in range(4)]
    first = [obs(o, "click", source=r, action="view") for o, r in enumerate(clicks[:6])]
    replay = [obs(o, "click", source=r, action="view") for o, r in enumerate(clicks[3:], start=3)]
    others = [obs(o, "click", channel="app", source=r, action="view") for o, r in enumerate(other)]
    at = Partition()
    state.step(at([*first, others[0], others[1], replay[0], others[2], *replay[1:], others[3]]), settings)
    assert state.duplicates == 3
    assert open_views(state) == {"web": 8, "app": 4}


def readings(offsets: Sequence[int], partition: int = 0, channel: str = "plant") -> list[bytes]:
    """The grouped observations of sensor readings at ``offsets`` of events.sensors (reading ``o`` at
    second ``o``)."""
    events = [
        (RawRecord("events.sensors", partition, o, None, None), channel, T0 + timedelta(seconds=o)) for o in offsets
    ]
    return [e.value for e in grouped_observations("observations", "sensor", events)]


def sensor_counts(state: ChannelAnalytics) -> dict[str, int]:
    return {w["channel"]: w["counts"]["sensors"] for w in state.windows.flush()}


def test_grouped_readings_count_as_their_single_observations_and_a_replay_counts_none_twice() -> None:
    """The scoring worker crashed after sending the groups of readings 0..3 and 4..7 but committed only
    offset 2: the replay's batch starts at 2 and ends elsewhere (2..9), each reading counted once."""
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    grouped, single = ChannelAnalytics.new(settings), ChannelAnalytics.new(settings)
    grouped.step(Partition()([*readings(range(4)), *readings(range(4, 8)), *readings(range(2, 10))]), settings)
    singles = [
        obs(o, "sensor", channel="plant", source=RawRecord("events.sensors", 0, o, None, None))
        for o in [*range(8), *range(2, 10)]
    ]
    single.step(Partition()(singles), settings)
    assert grouped.duplicates == single.duplicates == 6
    assert grouped.to_dict()["windows"] == single.to_dict()["windows"]
    assert grouped.sources == single.sources == {"events.sensors:0": 10}
    assert sensor_counts(grouped) == {"plant": 10}


def test_a_batch_groups_its_readings_by_channel_and_input_partition_in_input_order() -> None:
    events = [
        (RawRecord("events.sensors", p, o, None, None), ch, T0 + timedelta(seconds=o))
        for o, p, ch in [(5, 0, "a"), (3, 1, "a"), (6, 0, "b"), (7, 0, "a"), (4, 1, "a")]
    ]
    groups = [json.loads(e.value) for e in grouped_observations("observations", "sensor", events)]
    assert [(g["channel"], g["input"], [r[0] for r in g["readings"]]) for g in groups] == [
        ("a", ["events.sensors", 0], [5, 7]), ("a", ["events.sensors", 1], [3, 4]), ("b", ["events.sensors", 0], [6]),
    ]
    assert datetime.fromisoformat(groups[0]["readings"][1][1]) == T0 + timedelta(seconds=7)
    with pytest.raises(ValueError, match="not grouped"):
        grouped_observations("observations", "click", events)


def test_a_malformed_grouped_observation_counts_none_of_its_readings() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5)
    state = ChannelAnalytics.new(settings)
    body = json.loads(readings([0, 1])[0])
    body["readings"][1][1] = "2026-11-22T10:00:01"  # no timezone
    with pytest.raises(ValueError, match="timezone"):
        state.step([(0, json.dumps(body).encode())], settings)
    assert state.sources == {} and sensor_counts(state) == {}


def test_channels_beyond_the_bound_are_closed_early_least_recently_seen_first() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=5, analytics_max_channels=3)
    state = ChannelAnalytics.new(settings)
    at = Partition()
    first = [obs(1, "click", channel=c, action="view") for c in ("a", "b", "c", "a")]
    assert state.step(at(first), settings) == []  # three channels: within the bound
    emits = state.step(at([obs(2, "click", channel="d", action="view")]), settings)
    assert views(emits) == {"b": 1}  # b was seen least recently (a came again after it)
    assert list(state.windows.open) == ["c", "a", "d"] and state.evicted == 1
    emits = state.step(at([obs(3, "click", channel="b", action="view")]), settings)
    assert views(emits) == {"c": 1}  # b's later observation opens a new window of the same span
    assert open_views(state) == {"a": 2, "d": 1, "b": 1}


def test_surge_baselines_beyond_the_bound_are_dropped() -> None:
    settings = Settings(analytics_window_s=60, analytics_lateness_s=0, analytics_max_channels=2)
    state = ChannelAnalytics.new(settings)
    at = Partition()
    for minute in range(3):
        records = [
            obs(minute * 60 + i, "review", channel=channel, label="positive", score=0.5)
            for channel in ("a", "b", "c")
            for i in range(20)
        ]
        state.step(at(records), settings)
    # the last minute's windows closed in the order b, c, a: b's baseline is the least recently updated
    assert list(state.surge.channels) == ["c", "a"]
