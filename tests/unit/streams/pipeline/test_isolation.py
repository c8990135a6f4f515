"""A record the model fails on is isolated by splitting its batch: only it is dead-lettered (with the
server's message and its exact bytes), every other record is scored, and the per-key state is as if
the failing record had never been there."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.isolation import StagedState, process_isolating
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.pipeline.records import RawRecord
from channelpulse.streams.scoring.base import AnomalyBatch, PermanentScoringError, RecommendationBatch, SentimentBatch
from tests.unit.streams.fakes import FakeScorer

TS = "2026-11-22T10:00:00+00:00"
POISON_VALUE = 666.0


class PoisonScorer(FakeScorer):
    """Fails permanently, like a model raising, on a request holding a poison input, and on one
    above ``max_batch`` rows, like Triton above a model's max_batch_size."""

    def __init__(self, max_batch: int = 1000) -> None:
        super().__init__()
        self.max_batch = max_batch
        self.sizes: list[int] = []

    def _check(self, model: str, rows: int, poisoned: bool) -> None:
        self.sizes.append(rows)
        if rows > self.max_batch:
            raise PermanentScoringError("too big", model=model,
                                        server_message=f"batch-size must be <= {self.max_batch}")
        if poisoned:
            raise PermanentScoringError("poison", model=model, server_message="ValueError: cannot score this")

    async def sentiment(self, texts: Sequence[str]) -> SentimentBatch:
        self._check("sentiment", len(texts), any("POISON" in t for t in texts))
        return await super().sentiment(texts)

    async def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[Sequence[str]], k: int
    ) -> RecommendationBatch:
        self._check("recommender", len(histories), any("poison" in h for h in histories))
        return await super().recommend(histories, excludes, k)

    async def anomaly(self, states: np.ndarray, values: np.ndarray, times: np.ndarray) -> AnomalyBatch:
        self._check("anomaly", len(values), bool((values[np.isfinite(times)] == POISON_VALUE).any()))
        return await super().anomaly(states, values, times)


def review(i: int, text: str) -> RawRecord:
    body = {"event_id": f"r{i}", "channel": "web", "occurred_at": TS, "item_id": "i1", "text": text, "rating": 4}
    return RawRecord("events.reviews", 0, i, None, json.dumps(body).encode())


def click(i: int, user: str, item: str) -> RawRecord:
    body = {"event_id": f"c{i}", "channel": "app", "occurred_at": TS, "user_id": user, "item_id": item,
            "action": "view"}
    return RawRecord("events.clicks", 0, i, user.encode(), json.dumps(body).encode())


def reading(i: int, sensor: str, value: float) -> RawRecord:
    body = {"event_id": f"s{i}", "channel": "iot", "occurred_at": TS, "sensor_id": sensor, "metric": "temp",
            "value": value}
    return RawRecord("events.sensors", 0, i, sensor.encode(), json.dumps(body).encode())


def outputs(result: Any, topic: str) -> list[dict[str, Any]]:
    return [json.loads(e.value) for e in result.emits if e.topic == topic]


def isolated_count(topic: str) -> float:
    return metrics.REGISTRY.get_sample_value("channelpulse_scoring_isolated_total", {"topic": topic}) or 0.0


async def test_only_the_poison_review_is_dead_lettered_with_the_server_error_and_its_bytes() -> None:
    settings = Settings()
    records = [review(i, "POISON pill" if i == 5 else f"good text {i}") for i in range(12)]
    records.append(RawRecord("events.reviews", 0, 12, None, b"{not json"))
    proc = Processor(settings, PoisonScorer(), {}, {})
    before = isolated_count("events.reviews")

    result = await process_isolating(proc, EventKind.REVIEW, records)

    scored = outputs(result, settings.topic_sentiment)
    assert [s["event_id"] for s in scored] == [f"r{i}" for i in range(12) if i != 5]  # input order kept
    letters = outputs(result, settings.topic_deadletter)
    assert len(letters) == 2 and result.invalid == 2
    poison = next(d for d in letters if d["offset"] == 5)
    assert base64.b64decode(poison["raw"]) == records[5].value
    assert "ValueError: cannot score this" in poison["error"] and "'sentiment'" in poison["error"]
    assert next(d for d in letters if d["offset"] == 12)["error"].startswith("payload is not valid JSON")
    assert isolated_count("events.reviews") - before == 1


async def test_two_poisons_in_one_batch_are_both_isolated() -> None:
    settings = Settings()
    records = [review(i, "POISON" if i in (0, 7) else "fine") for i in range(8)]
    result = await process_isolating(Processor(settings, PoisonScorer(), {}, {}), EventKind.REVIEW, records)
    assert sorted(d["offset"] for d in outputs(result, settings.topic_deadletter)) == [0, 7]
    assert len(outputs(result, settings.topic_sentiment)) == 6


async def test_user_state_after_a_poison_click_equals_a_run_without_it() -> None:
    settings = Settings()
    good = [click(i, f"u{i % 3}", f"item-{i}") for i in range(10)]
    poison = click(99, "u1", "poison")
    with_poison = [*good[:4], poison, *good[4:]]
    users: dict[bytes, Any] = {}
    result = await process_isolating(Processor(settings, PoisonScorer(), users, {}), EventKind.CLICK, with_poison)
    clean_users: dict[bytes, Any] = {}
    clean = await Processor(settings, FakeScorer(), clean_users, {}).process(EventKind.CLICK, good)

    assert users == clean_users

    def lists(res: Any) -> list[tuple[str, list[str]]]:
        recs = outputs(res, settings.topic_recommendations)
        return [(r["event_id"], [i["item_id"] for i in r["items"]]) for r in recs]

    assert lists(result) == lists(clean)
    assert [d["offset"] for d in outputs(result, settings.topic_deadletter)] == [99]


async def test_sensor_windows_after_a_poison_reading_equal_a_run_without_it() -> None:
    settings = Settings()
    good = [reading(i, f"s{i % 2}", float(i)) for i in range(9)]
    with_poison = [*good[:3], reading(50, "s0", POISON_VALUE), *good[3:]]
    sensors: dict[bytes, Any] = {}
    result = await process_isolating(Processor(settings, PoisonScorer(), {}, sensors), EventKind.SENSOR, with_poison)
    clean_sensors: dict[bytes, Any] = {}
    await Processor(settings, FakeScorer(), {}, clean_sensors).process(EventKind.SENSOR, good)

    assert sensors == clean_sensors
    assert [a["event_id"] for a in outputs(result, settings.topic_anomalies)] == [f"s{i}" for i in range(9)]
    assert [d["offset"] for d in outputs(result, settings.topic_deadletter)] == [50]


async def test_a_batch_above_the_model_limit_is_split_to_fit_and_nothing_is_dead_lettered() -> None:
    settings = Settings()
    scorer = PoisonScorer(max_batch=4)
    records = [review(i, f"text {i}") for i in range(10)]
    result = await process_isolating(Processor(settings, scorer, {}, {}), EventKind.REVIEW, records)
    assert [s["event_id"] for s in outputs(result, settings.topic_sentiment)] == [f"r{i}" for i in range(10)]
    assert result.invalid == 0
    assert sum(size for size in scorer.sizes if size <= 4) == 10  # the requests that fit cover the batch once


async def test_a_clean_batch_is_one_request() -> None:
    scorer = PoisonScorer()
    records = [review(i, "ok") for i in range(6)]
    await process_isolating(Processor(Settings(), scorer, {}, {}), EventKind.REVIEW, records)
    assert scorer.sizes == [6]


def test_staged_state_reads_through_and_writes_only_on_apply() -> None:
    base = {b"a": 1, b"b": 2}
    staged = StagedState(base)
    staged[b"a"] = 10
    staged[b"c"] = 3
    assert (staged[b"a"], staged.get(b"b"), staged.get(b"zz")) == (10, 2, None)
    assert base == {b"a": 1, b"b": 2}
    assert sorted(staged) == [b"a", b"b", b"c"] and len(staged) == 3
    staged.apply()
    assert base == {b"a": 10, b"b": 2, b"c": 3}
