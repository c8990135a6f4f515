from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from channelpulse.config import Settings
from channelpulse.models.anomaly.sensor_state import SensorState
from channelpulse.schemas.events import EventKind
from channelpulse.streams.pipeline.processor import Processor, topic_kind
from channelpulse.streams.pipeline.records import RawRecord
from tests.unit.streams.fakes import FakeScorer

TS = "2026-11-22T10:00:00+00:00"


def rec(topic: str, offset: int, value: bytes | None, key: bytes | None = None) -> RawRecord:
    return RawRecord(topic, 0, offset, key, value)


def review(event_id: str, text: str) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "channel": "web",
            "occurred_at": TS,
            "item_id": "i1",
            "text": text,
            "rating": 4,
        }
    ).encode()


def click(event_id: str, user: str, item: str, action: str) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "channel": "app",
            "occurred_at": TS,
            "user_id": user,
            "item_id": item,
            "action": action,
        }
    ).encode()


def by_topic(emits: list[Any], topic: str) -> list[dict[str, Any]]:
    return [json.loads(e.value) for e in emits if e.topic == topic]


@pytest.fixture
def settings() -> Settings:
    return Settings()


async def test_valid_reviews_are_scored_in_one_request_and_invalid_ones_dead_lettered(
    settings: Settings,
) -> None:
    scorer = FakeScorer()
    proc = Processor(settings, scorer, {}, {})
    bad = [b"{not json", b'{"event_id": "x"}', b"\xff\xfe", None]
    records = [
        rec(settings.topic_reviews, 0, review("r1", "a bad product")),
        *[rec(settings.topic_reviews, i + 1, v) for i, v in enumerate(bad)],
        rec(settings.topic_reviews, 9, review("r2", "lovely")),
    ]
    result = await proc.process(EventKind.REVIEW, records)

    assert scorer.calls == [("sentiment", 2)]
    assert (result.valid, result.invalid) == (2, 4)
    scores = by_topic(result.emits, settings.topic_sentiment)
    assert [(s["event_id"], s["label"]) for s in scores] == [("r1", "negative"), ("r2", "positive")]
    assert all(s["model"] == {"name": "sentiment", "version": "3"} and -1 <= s["score"] <= 1 for s in scores)
    letters = by_topic(result.emits, settings.topic_deadletter)
    assert [base64.b64decode(d["raw"]) for d in letters] == [
        b"{not json",
        b'{"event_id": "x"}',
        b"\xff\xfe",
        b"",
    ]
    assert [d["offset"] for d in letters] == [1, 2, 3, 4]
    assert all(d["source_topic"] == settings.topic_reviews and d["error"] for d in letters)
    observations = by_topic(result.emits, settings.topic_observations)
    assert [(o["channel"], o["label"]) for o in observations] == [("web", "negative"), ("web", "positive")]


async def test_a_failing_scorer_is_retried_not_dropped(settings: Settings) -> None:
    scorer = FakeScorer(fail_first=2)
    proc = Processor(settings, scorer, {}, {})
    result = await proc.process(
        EventKind.SOCIAL,
        [
            rec(
                settings.topic_social,
                0,
                json.dumps(
                    {
                        "event_id": "s1",
                        "channel": "social:x",
                        "occurred_at": TS,
                        "text": "fine",
                        "network": "x",
                    }
                ).encode(),
            )
        ],
    )
    assert [s["event_id"] for s in by_topic(result.emits, settings.topic_sentiment)] == ["s1"]


async def test_clicks_update_user_state_in_order_and_exclude_purchases(settings: Settings) -> None:
    scorer = FakeScorer()
    users: dict[bytes, Any] = {}
    proc = Processor(settings, scorer, users, {})
    clicks = [
        click("c1", "u1", "item-0", "view"),
        click("c2", "u1", "item-0", "purchase"),
        click("c3", "u2", "item-5", "view"),
        click("c4", "u1", "item-1", "click"),
    ]
    result = await proc.process(EventKind.CLICK, [rec(settings.topic_clicks, i, v) for i, v in enumerate(clicks)])

    assert scorer.calls == [("recommend", 4)]
    histories, excludes = scorer.requests[0]
    assert histories == [["item-0"], ["item-0"], ["item-5"], ["item-0", "item-1"]]
    assert excludes == [[], ["item-0"], [], ["item-0"]]
    recs = by_topic(result.emits, settings.topic_recommendations)
    assert [r["event_id"] for r in recs] == ["c1", "c2", "c3", "c4"]
    assert "item-0" not in [i["item_id"] for i in recs[3]["items"]]
    assert len(recs[0]["items"]) == settings.recommendation_k
    assert users[b"u1"]["purchased"] == ["item-0"]


async def test_clicks_read_again_after_a_crash_leave_the_user_state_as_it_was(settings: Settings) -> None:
    """The state was stored after clicks 0..2, their offsets not committed: 1..3 come again. A re-visit
    replayed would move its item to the end of the history; the state stays a clean run's, and the
    replayed clicks are still answered."""
    clicks = [click("c0", "u1", "item-0", "view"), click("c1", "u1", "item-1", "view"),
              click("c2", "u1", "item-0", "view"), click("c3", "u1", "item-2", "purchase")]
    records = [rec(settings.topic_clicks, i, v) for i, v in enumerate(clicks)]
    clean: dict[bytes, Any] = {}
    await Processor(settings, FakeScorer(), clean, {}).process(EventKind.CLICK, records)
    crashed: dict[bytes, Any] = {}
    proc = Processor(settings, FakeScorer(), crashed, {})
    await proc.process(EventKind.CLICK, records[:3])
    result = await proc.process(EventKind.CLICK, records[1:])
    assert crashed == clean
    assert crashed[b"u1"]["history"] == ["item-1", "item-0", "item-2"]
    assert [r["event_id"] for r in by_topic(result.emits, settings.topic_recommendations)] == ["c1", "c2", "c3"]


async def test_a_click_from_another_partition_is_taken_as_new(settings: Settings) -> None:
    users: dict[bytes, Any] = {}
    proc = Processor(settings, FakeScorer(), users, {})
    await proc.process(EventKind.CLICK, [rec(settings.topic_clicks, 5, click("c0", "u1", "item-0", "view"))])
    other = RawRecord(settings.topic_clicks, 1, 0, None, click("c1", "u1", "item-1", "view"))
    await proc.process(EventKind.CLICK, [other])
    assert users[b"u1"]["history"] == ["item-0", "item-1"]


async def test_catalog_items_are_validated_and_tombstones_accepted(settings: Settings) -> None:
    proc = Processor(settings, FakeScorer(), {}, {})
    item = json.dumps({"item_id": "i9", "title": "Lamp", "categories": ["home"], "price": 10.0}).encode()
    result = await proc.process(
        EventKind.CATALOG,
        [
            rec(settings.topic_catalog, 0, item),
            rec(settings.topic_catalog, 1, None, key=b"i8"),
            rec(settings.topic_catalog, 2, b"[]"),
        ],
    )
    assert (result.valid, result.invalid) == (2, 1)


def reading(event_id: str, sensor: str, value: float) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "channel": "iot:plant-7",
            "occurred_at": TS,
            "sensor_id": sensor,
            "metric": "temp",
            "value": value,
        }
    ).encode()


async def test_sensor_windows_persist_and_one_alert_per_episode(settings: Settings) -> None:
    scorer = FakeScorer()
    sensors: dict[bytes, Any] = {}
    proc = Processor(settings, scorer, {}, sensors)
    values = [1.0, 2.0, 90.0, 95.0, 3.0, 99.0]
    first = await proc.process(
        EventKind.SENSOR,
        [rec(settings.topic_sensors, i, reading(f"e{i}", "s1", v)) for i, v in enumerate(values[:3])],
    )
    second = await proc.process(
        EventKind.SENSOR,
        [rec(settings.topic_sensors, i, reading(f"e{i}", "s1", v)) for i, v in enumerate(values[3:], 3)],
    )
    scores = by_topic(first.emits + second.emits, settings.topic_anomalies)
    assert [s["is_anomaly"] for s in scores] == [False, False, True, True, False, True]
    assert [s["event_id"] for s in scores] == [f"e{i}" for i in range(6)]
    alerts = by_topic(first.emits + second.emits, settings.topic_alerts)
    assert len(alerts) == 1 and alerts[0]["sensor_id"] == "s1" and alerts[0]["kind"] == "sensor_anomaly"
    stored = SensorState.from_dict(sensors[b"s1"], settings.anomaly_cooldown)
    assert stored.row.tolist() == [2.0, 6.0]  # the state the scorer returned, after all 6 readings
    assert stored.episodes.readings == 6


async def test_readings_of_one_sensor_in_a_batch_share_one_request_row(settings: Settings) -> None:
    scorer = FakeScorer()
    sensors: dict[bytes, Any] = {}
    proc = Processor(settings, scorer, {}, sensors)
    records = [
        rec(settings.topic_sensors, i, reading(f"e{i}", sensor, v))
        for i, (sensor, v) in enumerate([("a", 1.0), ("b", 2.0), ("a", 70.0), ("a", 3.0)])
    ]
    result = await proc.process(EventKind.SENSOR, records)
    assert scorer.calls == [("anomaly", 2)]  # two sensors: two rows, sensor a's three readings in order
    scores = by_topic(result.emits, settings.topic_anomalies)
    assert [(s["event_id"], s["is_anomaly"]) for s in scores] == [
        ("e0", False), ("e1", False), ("e2", True), ("e3", False)
    ]
    assert SensorState.from_dict(sensors[b"a"], 0).row.tolist() == [2.0, 3.0]
    assert SensorState.from_dict(sensors[b"b"], 0).row.tolist() == [2.0, 1.0]


async def test_every_valid_event_feeds_analytics_and_the_lake(settings: Settings, tmp_path: Any) -> None:
    from channelpulse.streams.lake.reader import read_lake
    from channelpulse.streams.lake.writer import LakeWriter

    lake = LakeWriter(tmp_path, flush_rows=10_000)
    proc = Processor(settings, FakeScorer(), {}, {}, lake=lake)
    await proc.process(
        EventKind.REVIEW, [rec(settings.topic_reviews, 0, review("r1", "bad")), rec(settings.topic_reviews, 1, b"oops")]
    )
    clicks = await proc.process(EventKind.CLICK, [rec(settings.topic_clicks, 0, click("c1", "u1", "item-3", "view"))])
    sensors = await proc.process(EventKind.SENSOR, [rec(settings.topic_sensors, 0, reading("e1", "s1", 5.0))])
    lake.close()
    observed = by_topic(clicks.emits + sensors.emits, settings.topic_observations)
    assert [o["kind"] for o in observed] == ["click", "sensor"]
    reviews = read_lake(tmp_path, "review")
    assert reviews["event_id"].to_list() == ["r1"] and reviews["label"].to_list() == ["negative"]
    assert reviews["rating"].to_list() == [4]
    assert read_lake(tmp_path, "click")["recommended"].to_list()[0][:2] == ["item-0", "item-1"]
    assert read_lake(tmp_path, "sensor")["value"].to_list() == [5.0]


def test_each_input_topic_maps_to_its_kind(settings: Settings) -> None:
    renamed = settings.model_copy(update={"topic_social": "partner.posts"})
    assert topic_kind(renamed, "partner.posts") is EventKind.SOCIAL
    assert [topic_kind(settings, t) for t in settings.input_topics] == [
        EventKind.CLICK, EventKind.REVIEW, EventKind.SOCIAL, EventKind.SENSOR,
    ]
    assert topic_kind(settings, settings.topic_catalog) is EventKind.CATALOG
    with pytest.raises(KeyError):
        topic_kind(settings, settings.topic_sentiment)


async def test_readings_read_again_after_a_crash_leave_the_sensor_state_as_it_was(settings: Settings) -> None:
    """The state was stored after readings 0..3, their offsets not committed: 2..5 come again, and
    the state is the one a run without the crash stores; the replayed readings are still published."""
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    records = [rec(settings.topic_sensors, i, reading(f"e{i}", "s1", v)) for i, v in enumerate(values)]
    clean: dict[bytes, Any] = {}
    proc = Processor(settings, FakeScorer(), {}, clean)
    await proc.process(EventKind.SENSOR, records[:4])
    await proc.process(EventKind.SENSOR, records[4:])
    crashed: dict[bytes, Any] = {}
    proc = Processor(settings, FakeScorer(), {}, crashed)
    await proc.process(EventKind.SENSOR, records[:4])
    result = await proc.process(EventKind.SENSOR, records[2:])
    assert crashed == clean
    assert SensorState.from_dict(crashed[b"s1"], 0).row.tolist() == [2.0, 6.0]  # six readings, each once
    scored = [json.loads(e.value)["event_id"] for e in result.emits if e.topic == settings.topic_anomalies]
    assert scored == ["e2", "e3", "e4", "e5"]


async def test_a_reading_from_another_partition_is_taken_as_new(settings: Settings) -> None:
    sensors: dict[bytes, Any] = {}
    proc = Processor(settings, FakeScorer(), {}, sensors)
    await proc.process(EventKind.SENSOR, [rec(settings.topic_sensors, 7, reading("e1", "s1", 1.0))])
    other = RawRecord(settings.topic_sensors, 1, 0, None, reading("e2", "s1", 2.0))
    await proc.process(EventKind.SENSOR, [other])
    assert SensorState.from_dict(sensors[b"s1"], 0).row.tolist() == [2.0, 2.0]


class Writes(dict[bytes, Any]):
    """A table that remembers the keys written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def __setitem__(self, key: bytes, value: Any) -> None:
        self.written.append(key)
        super().__setitem__(key, value)


async def test_a_batch_read_again_writes_its_stored_state_again_unchanged(settings: Settings) -> None:
    """A durable local store may hold a state its changelog missed (a crash before the changelog record
    reached the broker): the replay writes it again, so the changelog gets it (streams/pipeline/applied.py)."""
    users, sensors = Writes(), Writes()
    proc = Processor(settings, FakeScorer(), users, sensors)
    clicks = [rec(settings.topic_clicks, i, click(f"c{i}", "u1", f"item-{i}", "view")) for i in range(2)]
    readings = [rec(settings.topic_sensors, i, reading(f"e{i}", "s1", float(i))) for i in range(2)]
    await proc.process(EventKind.CLICK, clicks)
    await proc.process(EventKind.SENSOR, readings)
    stored_user, stored_sensor = users[b"u1"], sensors[b"s1"]
    users.written.clear()
    sensors.written.clear()
    await proc.process(EventKind.CLICK, clicks)
    await proc.process(EventKind.SENSOR, readings)
    assert users.written and sensors.written == [b"s1"]
    assert users[b"u1"] == stored_user and sensors[b"s1"] == stored_sensor
