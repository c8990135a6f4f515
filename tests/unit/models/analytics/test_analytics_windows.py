"""ChannelWindows: counts, conversion and sentiment per window, watermark closing, flush, state round trip."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from channelpulse.models.analytics.observations import Observation
from channelpulse.models.analytics.windows import ChannelWindows
from channelpulse.schemas.outputs import ChannelWindow

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _feed(windows: ChannelWindows, observations: list[Observation]) -> list[dict]:
    closed = []
    for obs in observations:
        closed.extend(windows.add(obs))
    return closed


def _first_minute() -> list[Observation]:
    return [
        Observation.click("web", at(1), "view"),
        Observation.click("web", at(2), "view"),
        Observation.click("web", at(3), "click"),
        Observation.click("web", at(4), "view"),
        Observation.click("web", at(5), "view"),
        Observation.click("web", at(6), "add_to_cart"),
        Observation.click("web", at(7), "purchase"),
        Observation.sentiment("web", at(10), "review", "negative", -0.8),
        Observation.sentiment("web", at(20), "review", "positive", 0.6),
        Observation.sentiment("web", at(30), "social", "negative", -0.4),
        Observation.sentiment("web", at(31), "social", "neutral", 0.0),
        Observation.sensor("web", at(40)),
    ]


def test_a_window_counts_kinds_actions_conversion_and_sentiment() -> None:
    windows = ChannelWindows(60.0, allowed_lateness_s=5.0)
    assert _feed(windows, _first_minute()) == []
    (closed,) = windows.add(Observation.sensor("web", at(66)))
    assert closed["channel"] == "web"
    assert (closed["window_start"], closed["window_end"]) == (at(0), at(60))
    assert closed["counts"] == {"clicks": 7, "reviews": 2, "social": 2, "sensors": 1}
    assert closed["actions"] == {"view": 4, "click": 1, "add_to_cart": 1, "purchase": 1}
    assert closed["conversion"] == pytest.approx(0.25)
    assert closed["sentiment_mean"] == pytest.approx((-0.8 + 0.6 - 0.4 + 0.0) / 4)
    assert closed["negative_share"] == pytest.approx(0.5)
    ChannelWindow.model_validate(closed)  # the published shape


def test_no_views_and_no_sentiment_give_none() -> None:
    windows = ChannelWindows(60.0, allowed_lateness_s=0.0)
    windows.add(Observation.click("app", at(1), "purchase"))
    windows.add(Observation.sensor("app", at(2)))
    (closed,) = windows.flush()
    assert closed["conversion"] is None
    assert closed["sentiment_mean"] is None and closed["negative_share"] is None
    assert closed["counts"] == {"clicks": 1, "reviews": 0, "social": 0, "sensors": 1}
    ChannelWindow.model_validate(closed)


def test_the_watermark_waits_for_the_allowed_lateness_then_drops_late_events() -> None:
    windows = ChannelWindows(60.0, allowed_lateness_s=5.0)
    windows.add(Observation.click("web", at(50), "view"))
    assert windows.add(Observation.click("web", at(63), "view")) == []  # watermark 58 s: still open
    assert windows.add(Observation.click("web", at(59), "purchase")) == []  # late but allowed
    (closed,) = windows.add(Observation.click("web", at(65), "view"))  # watermark reaches 60 s
    assert closed["actions"]["view"] == 1 and closed["actions"]["purchase"] == 1
    assert windows.add(Observation.click("web", at(30), "view")) == []
    assert windows.late_dropped == 1
    (second,) = windows.flush()
    assert second["window_start"] == at(60) and second["actions"]["view"] == 2


def test_a_quiet_channel_closes_when_event_time_moves_on_elsewhere() -> None:
    windows = ChannelWindows(60.0, allowed_lateness_s=5.0)
    windows.add(Observation.click("web", at(10), "view"))
    windows.add(Observation.click("app", at(20), "view"))
    closed = windows.add(Observation.sensor("iot:plant-7", at(200)))
    assert [(w["channel"], w["window_start"]) for w in closed] == [("app", at(0)), ("web", at(0))]


def test_flush_closes_by_processing_time_or_everything() -> None:
    windows = ChannelWindows(60.0, allowed_lateness_s=5.0)
    windows.add(Observation.click("web", at(10), "view"))
    assert windows.add(Observation.click("web", at(62), "view")) == []
    assert windows.flush(at(64)) == []
    assert [w["window_start"] for w in windows.flush(at(65))] == [at(0)]
    assert [w["window_start"] for w in windows.flush()] == [at(60)]
    assert windows.flush() == []
    assert windows.add(Observation.click("web", at(100), "view")) == [] and windows.late_dropped == 1


def test_event_time_is_taken_in_utc_and_must_be_aware() -> None:
    windows = ChannelWindows(60.0)
    plus_two = timezone(timedelta(hours=2))
    windows.add(Observation.click("web", datetime(2024, 5, 1, 14, 0, 30, tzinfo=plus_two), "view"))
    (closed,) = windows.flush()
    assert closed["window_start"] == at(0) and closed["window_start"].utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        Observation.click("web", datetime(2024, 5, 1, 12, 0), "view")


def test_observations_are_checked() -> None:
    with pytest.raises(ValueError):
        Observation("web", "click", at(0))  # no action
    with pytest.raises(ValueError):
        Observation.click("web", at(0), "refund")
    with pytest.raises(ValueError):
        Observation.sentiment("web", at(0), "review", "furious", -0.5)
    with pytest.raises(ValueError):
        Observation.sentiment("web", at(0), "review", "negative", -1.5)
    with pytest.raises(ValueError):
        Observation("web", "sensor", at(0), label="negative", score=-0.5)


def test_state_round_trips_and_continues_identically() -> None:
    stream = [*_first_minute(), *(Observation.click("app", at(50 + 7 * i), "view") for i in range(20))]
    reference = ChannelWindows(60.0, allowed_lateness_s=5.0)
    expected = _feed(reference, stream) + reference.flush()

    first = ChannelWindows(60.0, allowed_lateness_s=5.0)
    got = _feed(first, stream[:15])
    restored = ChannelWindows.from_dict(json.loads(json.dumps(first.to_dict())))
    got += _feed(restored, stream[15:]) + restored.flush()
    assert got == expected
    assert len(expected) == 5


def test_invalid_lengths_are_rejected() -> None:
    with pytest.raises(ValueError):
        ChannelWindows(0.0)
    with pytest.raises(ValueError):
        ChannelWindows(60.0, allowed_lateness_s=-1.0)
