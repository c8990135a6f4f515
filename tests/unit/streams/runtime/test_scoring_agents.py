"""The scoring agents, the forget agent and the changelog metadata on the in-memory transport (no broker:
tests/unit/streams/fakes.py): a batch processing keeps failing on is dead-lettered, record by record,
after the last attempt; one processor serves every batch; the catalog bypasses the ledger; the tables'
changelog topics are tracked once, before the first table write, and again after a failed try;
an erasure request deletes the user's state."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind
from channelpulse.streams.forget_agent import ForgetAgent
from channelpulse.streams.outputs import OutputProducer
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.pipeline.records import BatchResult, RawRecord
from channelpulse.streams.producer_metadata import ChangelogMetadata
from channelpulse.streams.scoring_agents import PROCESSING_ATTEMPTS, ScoringAgents
from tests.unit.streams.fakes import FakeScorer, FakeStream, InMemoryWorker, drain, event, no_sleep

TS = "2026-11-22T10:00:00+00:00"


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InMemoryWorker:
    monkeypatch.setattr("channelpulse.streams.scoring_agents.asyncio.sleep", no_sleep)
    return InMemoryWorker(Settings(state_dir=tmp_path))


def review(topic: str, offset: int) -> bytes:
    body = {"event_id": f"r{offset}", "channel": "web", "occurred_at": TS, "item_id": "i1", "text": "fine", "rating": 4}
    return json.dumps(body).encode()


async def test_a_batch_processing_keeps_failing_on_is_dead_lettered_after_the_last_attempt(
    worker: InMemoryWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    async def failing(processor: Processor, kind: EventKind, records: Sequence[RawRecord]) -> BatchResult:
        attempts.append(len(records))
        raise ZeroDivisionError("a bug (fake)")

    monkeypatch.setattr("channelpulse.streams.scoring_agents.process_isolating", failing)
    topic = worker.settings.topic_reviews
    tp = TP(topic, 0)
    worker.own(tp)
    values = [review(topic, o) for o in range(3)]

    await drain(worker.scoring.agent_for(topic), FakeStream([[event(topic, 0, o, v) for o, v in enumerate(values)]]))

    assert attempts == [3] * PROCESSING_ATTEMPTS
    letters = [json.loads(v) for v in worker.producer.values(worker.settings.topic_deadletter)]
    assert [base64.b64decode(d["raw"]) for d in letters] == values
    assert all("processing failed: ZeroDivisionError" in d["error"] for d in letters)
    assert worker.ledger.to_commit() == {tp: 3}  # dead-lettered, so done: the partition goes on


async def test_one_processor_serves_every_batch_and_the_catalog_bypasses_the_ledger(worker: InMemoryWorker) -> None:
    made: list[Processor] = []

    def new_processor() -> Processor:
        made.append(Processor(worker.settings, FakeScorer(), {}, {}))
        return made[-1]

    scoring = ScoringAgents(
        worker.settings,
        new_processor,
        worker.delivery,
        OutputProducer(lambda: worker.producer),  # type: ignore[arg-type,return-value]
        worker.lake,
        worker.metadata,
    )
    assert made == []  # created on the first batch, in the worker's event loop
    reviews, catalog = worker.settings.topic_reviews, worker.settings.topic_catalog
    worker.own(TP(reviews, 0))
    await drain(scoring.agent_for(reviews), FakeStream([[event(reviews, 0, 0, review(reviews, 0))]]))
    item = json.dumps({"item_id": "sku-1", "title": "a lamp", "category": "home"}).encode()
    await drain(scoring.agent_for(catalog), FakeStream([[event(catalog, 0, 7, item, key=b"sku-1")]]))

    assert len(made) == 1
    assert worker.ledger.assigned() == {TP(reviews, 0)}  # the catalog keeps Faust's acks
    assert scoring.next_offset == {TP(reviews, 0): 1, TP(catalog, 0): 8}  # what the lag of the catalog reads


class Topic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class Table:
    def __init__(self, changelog: str) -> None:
        self.changelog_topic = Topic(changelog)


class Client:
    def __init__(self) -> None:
        self.tracked: list[str] = []
        self.failing = 0

    async def add_topic(self, topic: str) -> None:
        if self.failing:
            self.failing -= 1
            raise ConnectionError("broker away (fake)")
        self.tracked.append(topic)


class AiokafkaProducer:
    def __init__(self) -> None:
        self.client = Client()
        self.asked: list[str] = []

    async def partitions_for(self, topic: str) -> set[int]:
        self.asked.append(topic)
        return {0, 1}


async def test_the_changelog_topics_are_tracked_once_and_again_after_a_failed_try() -> None:
    producer = AiokafkaProducer()
    producer.client.failing = 1
    metadata = ChangelogMetadata(lambda: producer, (Table("users-changelog"), Table("sensors-changelog")))  # type: ignore[arg-type,return-value]
    with pytest.raises(ConnectionError):
        await metadata.ensure_loaded()
    await metadata.ensure_loaded()
    await metadata.ensure_loaded()
    assert producer.client.tracked == ["users-changelog", "sensors-changelog"]
    assert producer.asked == ["users-changelog", "sensors-changelog"]


async def test_an_erasure_request_deletes_the_users_state_and_a_keyless_one_is_passed_over(
    worker: InMemoryWorker,
) -> None:
    producer = AiokafkaProducer()
    users: dict[bytes, Any] = {b"u1": {"history": ["i1"]}, b"u2": {"history": ["i2"]}}
    forget = ForgetAgent(users, ChangelogMetadata(lambda: producer, (Table("users-changelog"),)))  # type: ignore[arg-type,return-value]
    topic = worker.settings.topic_privacy_forget
    await drain(forget.agent, FakeStream([[event(topic, 0, 0, b"", key=None)]]))
    assert producer.client.tracked == [] and len(users) == 2  # nothing to delete: no table write either

    await drain(forget.agent, FakeStream([[event(topic, 0, 1, b"", key=b"u1"), event(topic, 0, 2, b"", key=b"u3")]]))
    assert users == {b"u2": {"history": ["i2"]}}
    assert producer.client.tracked == ["users-changelog"]  # before the first delete (the tombstone's partition)
