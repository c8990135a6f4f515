"""The pipeline steps alone: each takes only what it needs (state, scorer, topics, parameters) and
returns its records and lake rows; nothing is written to a lake or produced by the step itself."""

from __future__ import annotations

import copy
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
        {
            "event_id": f"c{i}",
            "channel": "app",
            "occurred_at": TS,
            "user_id": "u1",
            "item_id": f"item-{i}",
            "action": "view",
        }
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
        {
            "event_id": f"s{i}",
            "channel": "iot",
            "occurred_at": TS,
            "sensor_id": f"s{i % 2}",
            "metric": "temp",
            "value": float(i),
        }
        for i in range(4)
    ]
    scored = await score_sensors(valid(SensorEvent, bodies, "events.sensors"), sensors, FakeScorer(), TOPICS, cooldown)
    assert sorted(sensors) == [b"s0", b"s1"]
    assert len([e for e in scored.emits if e.topic == TOPICS.anomalies]) == 4
    assert [r["event_id"] for r in scored.lake_rows] == ["s0", "s1", "s2", "s3"]


class CountingState(dict[bytes, Any]):
    """A dict that counts the reads and writes of each key."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads: dict[bytes, int] = {}
        self.writes: dict[bytes, int] = {}

    def get(self, key: bytes, default: Any = None) -> Any:
        self.reads[key] = self.reads.get(key, 0) + 1
        return super().get(key, default)

    def __setitem__(self, key: bytes, value: Any) -> None:
        self.writes[key] = self.writes.get(key, 0) + 1
        super().__setitem__(key, value)


def clicks_of(users_items: list[tuple[str, str, str]], partition: int = 0, first: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"c{partition}-{first + n}",
            "channel": "web",
            "occurred_at": TS,
            "user_id": user,
            "item_id": item,
            "action": action,
        }
        for n, (user, item, action) in enumerate(users_items)
    ]


def click_batch(bodies: list[dict[str, Any]], partition: int = 0, first: int = 0) -> list[tuple[RawRecord, Any]]:
    return [
        (
            RawRecord("events.clicks", partition, first + n, b["user_id"].encode(), json.dumps(b).encode()),
            ClickEvent.model_validate(b),
        )
        for n, b in enumerate(bodies)
    ]


def without_time(emit_value: bytes) -> dict[str, Any]:
    body = json.loads(emit_value)
    body.pop("scored_at", None)
    return body


async def test_recommend_clicks_reads_and_writes_each_user_once_per_batch() -> None:
    users = CountingState()
    plan = [
        ("u1", "item-0", "view"),
        ("u2", "item-1", "purchase"),
        ("u1", "item-2", "purchase"),
        ("u1", "item-0", "click"),
        ("u2", "item-3", "view"),
    ]
    await recommend_clicks(click_batch(clicks_of(plan)), users, FakeScorer(), TOPICS, 3, 20)
    assert users.reads == {b"u1": 1, b"u2": 1}
    assert users.writes == {b"u1": 1, b"u2": 1}
    assert users[b"u1"] == {
        "max_history": 20,
        "max_purchased": 500,
        "history": ["item-2", "item-0"],
        "purchased": ["item-2"],
        "applied": [0, 4],
    }
    assert users[b"u2"]["history"] == ["item-1", "item-3"] and users[b"u2"]["applied"] == [0, 5]


async def test_a_batch_leaves_the_state_and_answers_of_one_click_at_a_time() -> None:
    """A batch with replays (below the stored mark), a user seen on two partitions and a stored state
    of another history bound gives what the same clicks give one per batch."""
    stored = {
        b"u1": {
            "max_history": 3,
            "max_purchased": 500,
            "history": ["item-5", "item-6"],
            "purchased": ["item-6"],
            "applied": [0, 2],
        },
        b"u3": {"max_history": 20, "max_purchased": 500, "history": ["item-4"], "purchased": [], "applied": [0, 9]},
    }
    plan = [
        ("u1", "item-0", "view"),
        ("u2", "item-1", "purchase"),
        ("u1", "item-2", "purchase"),
        ("u3", "item-0", "view"),
        ("u1", "item-4", "click"),
        ("u1", "item-5", "view"),
        ("u2", "item-1", "view"),
    ]
    batch = click_batch(clicks_of(plan)) + click_batch(clicks_of([("u1", "item-7", "view")], 1, 0), 1, 0)
    together, one_by_one = CountingState(copy.deepcopy(stored)), copy.deepcopy(stored)
    scorer_together, scorer_alone = FakeScorer(), FakeScorer()
    scored = await recommend_clicks(batch, together, scorer_together, TOPICS, 3, 20)
    alone = [await recommend_clicks([click], one_by_one, scorer_alone, TOPICS, 3, 20) for click in batch]
    assert dict(together) == one_by_one
    assert together[b"u1"]["history"] == ["item-4", "item-5", "item-7"]  # two replays, bound 3 kept
    assert together[b"u1"]["applied"] == [1, 1]
    assert together[b"u3"] == stored[b"u3"]  # only a replay: written again unchanged
    assert scorer_together.requests[0] == (
        [h for r in scorer_alone.requests for h in r[0]],
        [e for r in scorer_alone.requests for e in r[1]],
    )
    assert [(e.topic, e.key, without_time(e.value)) for e in scored.emits] == [
        (e.topic, e.key, without_time(e.value)) for s in alone for e in s.emits
    ]
    assert scored.lake_rows == [row for s in alone for row in s.lake_rows]
