"""The pipeline steps alone: each takes only what it needs (state, scorer, topics, parameters) and
returns its records and lake rows; nothing is written to a lake or produced by the step itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channelpulse.config import Settings
from channelpulse.schemas.events import ClickEvent, EventKind, ReviewEvent, SensorEvent
from channelpulse.streams.pipeline.clicks import recommend_clicks
from channelpulse.streams.pipeline.records import OutputTopics, RawRecord
from channelpulse.streams.pipeline.sensors import score_sensors
from channelpulse.streams.pipeline.sentiment import score_texts
from tests.unit.streams.fakes import FakeScorer

TS = "2026-11-22T10:00:00+00:00"
TOPICS = OutputTopics.of(Settings())


def valid(model: Any, bodies: list[dict[str, Any]], topic: str) -> list[tuple[RawRecord, Any]]:
    return [
        (RawRecord(topic, 0, i, None, json.dumps(b).encode()), model.model_validate(b)) for i, b in enumerate(bodies)
    ]


async def test_recommend_clicks_returns_its_records_and_lake_rows() -> None:
    users: dict[bytes, Any] = {}
    bodies = [
        {"event_id": f"c{i}", "channel": "app", "occurred_at": TS, "user_id": "u1", "item_id": f"item-{i}",
         "action": "view"}
        for i in range(3)
    ]
    scored = await recommend_clicks(valid(ClickEvent, bodies, "events.clicks"), users, FakeScorer(), TOPICS, 4, 2)
    assert [e.topic for e in scored.emits] == [TOPICS.recommendations, TOPICS.observations] * 3
    assert [len(json.loads(e.value)["items"]) for e in scored.emits if e.topic == TOPICS.recommendations] == [4] * 3
    assert [r["event_id"] for r in scored.lake_rows] == ["c0", "c1", "c2"]
    assert users[b"u1"]["history"] == ["item-1", "item-2"]  # max_history 2


async def test_score_texts_returns_one_score_and_one_observation_per_text() -> None:
    bodies = [
        {"event_id": f"r{i}", "channel": "web", "occurred_at": TS, "item_id": "i1", "text": t, "rating": 3}
        for i, t in enumerate(["bad", "great"])
    ]
    scored = await score_texts(EventKind.REVIEW, valid(ReviewEvent, bodies, "events.reviews"), FakeScorer(), TOPICS)
    labels = [json.loads(e.value)["label"] for e in scored.emits if e.topic == TOPICS.sentiment]
    assert labels == ["negative", "positive"]
    assert [r["label"] for r in scored.lake_rows] == labels


@pytest.mark.parametrize("cooldown", [0, 5])
async def test_score_sensors_stores_one_state_per_sensor(cooldown: int) -> None:
    sensors: dict[bytes, Any] = {}
    bodies = [
        {"event_id": f"s{i}", "channel": "iot", "occurred_at": TS, "sensor_id": f"s{i % 2}", "metric": "temp",
         "value": float(i)}
        for i in range(4)
    ]
    scored = await score_sensors(valid(SensorEvent, bodies, "events.sensors"), sensors, FakeScorer(), TOPICS,
                                 cooldown)
    assert sorted(sensors) == [b"s0", b"s1"]
    assert len([e for e in scored.emits if e.topic == TOPICS.anomalies]) == 4
    assert [r["event_id"] for r in scored.lake_rows] == ["s0", "s1", "s2", "s3"]
