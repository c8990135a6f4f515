"""The worker's parts together on the in-memory transport (no broker: tests/unit/streams/fakes.py): a batch
whose produce fails is read again from its last done offset and commits go on; commits wait for the
producer's flush; lag and commit age come from committed offsets; the analytics agent dead-letters a
malformed observation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.lake.reader import read_lake
from tests.unit.streams.fakes import Event, FakeStream, InMemoryWorker, drain, event, no_sleep

TS = "2026-11-22T10:00:00+00:00"


def review(topic: str, offset: int) -> Event:
    body = {"event_id": f"r{offset}", "channel": "web", "occurred_at": TS, "item_id": "i1", "text": "fine",
            "rating": 4}
    return event(topic, 0, offset, json.dumps(body).encode())


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InMemoryWorker:
    monkeypatch.setattr("channelpulse.streams.partition_delivery.asyncio.sleep", no_sleep)
    return with_reviews(InMemoryWorker(Settings(state_dir=tmp_path)))


def with_reviews(worker: InMemoryWorker) -> InMemoryWorker:
    """Partition 0 of the reviews owned, from offset 0, with 6 records."""
    worker.own(TP(worker.settings.topic_reviews, 0), start=0, high=6)
    return worker


async def test_a_batch_whose_produce_fails_is_read_again_from_done_and_committed(runtime: InMemoryWorker) -> None:
    topic = runtime.settings.topic_reviews
    tp = TP(topic, 0)
    first, second = [review(topic, o) for o in range(3)], [review(topic, o) for o in range(3, 6)]
    runtime.producer.failing = 1  # the first batch's first output is refused
    resumes = metrics.REGISTRY.get_sample_value("channelpulse_agent_resumes_total", {"topic": topic}) or 0.0
    # what Kafka delivers: the first batch, then (the buffer) the second, then after the seek back
    # to 0 both again
    await drain(runtime.scoring.agent_for(topic), FakeStream([first, second, first, second]))

    assert runtime.consumer.seeks == [{tp: 0}]
    assert runtime.ledger.to_commit() == {tp: 6}
    scored = [json.loads(v)["event_id"] for t, v in runtime.producer.sent if t == runtime.settings.topic_sentiment]
    assert scored == [f"r{o}" for o in range(6)]  # each once: the buffered batch was held back
    assert (metrics.REGISTRY.get_sample_value("channelpulse_agent_resumes_total", {"topic": topic}) or 0) - resumes == 1

    await runtime.delivery.commit_offsets()
    assert runtime.committed == {tp: 6}
    assert runtime.producer.log[-2:] == ["flush", "commit"]  # the barrier: flush, then commit


async def test_lag_and_commit_age_come_from_the_committed_offset(runtime: InMemoryWorker) -> None:
    topic = runtime.settings.topic_reviews
    await drain(runtime.scoring.agent_for(topic), FakeStream([[review(topic, o) for o in range(4)]]))
    await runtime.lag.report()
    lag = metrics.REGISTRY.get_sample_value("channelpulse_consumer_lag", {"topic": topic, "partition": "0"})
    assert lag == 6.0  # four done but none committed yet: the lag does not pretend otherwise
    age = metrics.REGISTRY.get_sample_value("channelpulse_commit_age_seconds", {"topic": topic, "partition": "0"})
    assert age is not None and age > 0.0
    await runtime.delivery.commit_offsets()
    await runtime.lag.report()
    assert metrics.REGISTRY.get_sample_value("channelpulse_consumer_lag", {"topic": topic, "partition": "0"}) == 2.0
    runtime.consumer.high[TP(topic, 0)] = 4
    await runtime.lag.report()
    assert metrics.REGISTRY.get_sample_value(
        "channelpulse_commit_age_seconds", {"topic": topic, "partition": "0"}
    ) == 0.0  # caught up: no age


async def test_a_malformed_observation_is_dead_lettered_and_the_partition_goes_on(runtime: InMemoryWorker) -> None:
    settings = runtime.settings
    tp = TP(settings.topic_observations, 0)
    runtime.own(tp)
    good = {"kind": "sensor", "channel": "iot", "occurred_at": TS}
    values = [json.dumps(good).encode(), b'{"kind": "sensor"}', json.dumps(good).encode()]
    events = [event(settings.topic_observations, 0, o, v) for o, v in enumerate(values)]
    await drain(runtime.analytics_agent.agent, FakeStream([events]))
    letters = [json.loads(v) for t, v in runtime.producer.sent if t == settings.topic_deadletter]
    assert [base64.b64decode(d["raw"]) for d in letters] == [values[1]]
    assert "malformed observation" in letters[0]["error"]
    assert runtime.ledger.to_commit() == {tp: 3}


async def test_a_failed_catalog_batch_is_left_to_faust_as_before(runtime: InMemoryWorker) -> None:
    """The catalog keeps Faust's acks, so the ledger cannot read it again: the agent raises and
    Faust restarts it, rather than skipping the batch."""
    topic = runtime.settings.topic_catalog
    batch = [event(topic, 0, 0, b"not json", key=b"sku-1")]  # its dead letter's produce fails
    runtime.producer.failing = 1
    with pytest.raises(RuntimeError, match="produce refused"):
        await drain(runtime.scoring.agent_for(topic), FakeStream([batch]))
    assert runtime.consumer.seeks == []


def with_lake(runtime: InMemoryWorker) -> InMemoryWorker:
    return with_reviews(InMemoryWorker(runtime.settings, lake=True))


async def test_offsets_are_committed_only_once_their_lake_rows_are_on_disk(runtime: InMemoryWorker) -> None:
    runtime = with_lake(runtime)
    topic = runtime.settings.topic_reviews
    tp = TP(topic, 0)
    await drain(runtime.scoring.agent_for(topic), FakeStream([[review(topic, o) for o in range(3)]]))
    assert runtime.lake.buffered == 3
    await runtime.delivery.commit_offsets()
    assert runtime.committed == {}  # done, but its rows are only in the buffer: a crash now loses nothing
    runtime.lake.flush()
    await drain(runtime.scoring.agent_for(topic), FakeStream([[review(topic, o) for o in range(3, 5)]]))
    await runtime.delivery.commit_offsets()
    assert runtime.committed == {tp: 3}  # the second batch's rows are still buffered
    assert sorted(read_lake(runtime.settings.lake_root, "review")["event_id"].to_list()) == ["r0", "r1", "r2"]
    runtime.lake.flush()
    await runtime.delivery.commit_offsets()
    assert runtime.committed == {tp: 5}


async def test_revocation_writes_the_lake_then_commits(runtime: InMemoryWorker) -> None:
    runtime = with_lake(runtime)
    topic = runtime.settings.topic_reviews
    tp = TP(topic, 0)
    await drain(runtime.scoring.agent_for(topic), FakeStream([[review(topic, o) for o in range(4)]]))
    await runtime.delivery.on_partitions_revoked(None, {tp})
    assert runtime.committed == {tp: 4}
    assert len(read_lake(runtime.settings.lake_root, "review")) == 4
    assert runtime.ledger.assigned() == set()


async def test_a_lake_that_cannot_be_written_holds_the_commit(
    runtime: InMemoryWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = with_lake(runtime)
    topic = runtime.settings.topic_reviews
    await drain(runtime.scoring.agent_for(topic), FakeStream([[review(topic, o) for o in range(2)]]))

    def disk_full(*_: Any) -> None:
        raise OSError("disk full (fake)")

    monkeypatch.setattr(runtime.lake, "_write", disk_full)
    await runtime.delivery.on_before_shutdown(None)
    assert runtime.committed == {} and runtime.lake.buffered == 2  # read again after a restart


async def test_observations_read_again_after_a_crash_count_once(runtime: InMemoryWorker) -> None:
    settings = runtime.settings
    tp = TP(settings.topic_observations, 0)
    runtime.own(tp)
    body = {"kind": "click", "channel": "web", "occurred_at": TS, "action": "view"}
    values = [json.dumps({**body, "source": [settings.topic_clicks, 0, o]}).encode() for o in range(3)]
    events = [event(settings.topic_observations, 0, o, v) for o, v in enumerate(values)]
    await drain(runtime.analytics_agent.agent, FakeStream([events]))
    duplicates = metrics.REGISTRY.get_sample_value("channelpulse_analytics_duplicates_total") or 0.0
    # a crash: the table (runtime.analytics) kept every state, the group committed only offset 1
    runtime.ledger.revoke({tp})
    runtime.ledger.assign({tp: 1})
    await drain(runtime.analytics_agent.agent, FakeStream([events[1:]]))
    assert (metrics.REGISTRY.get_sample_value("channelpulse_analytics_duplicates_total") or 0.0) - duplicates == 2
    state = runtime.analytics[b"0"]
    (tallies,) = state["windows"]["open"]["web"].values()
    assert tallies["actions"]["view"] == 3


async def test_the_analytics_state_is_stored_only_after_its_outputs(runtime: InMemoryWorker) -> None:
    """A window whose output Kafka refuses: the batch of observations that closed it is applied again to
    the state before it, so the window is published, and counted, once."""
    settings = runtime.settings
    tp = TP(settings.topic_observations, 0)
    runtime.own(tp)
    first = {"kind": "click", "channel": "web", "occurred_at": TS, "action": "view"}
    later = {**first, "occurred_at": "2026-11-22T10:05:00+00:00"}  # closes the 10:00 window
    values = [json.dumps({**b, "source": [settings.topic_clicks, 0, o]}).encode() for o, b in enumerate([first, later])]
    events = [event(settings.topic_observations, 0, o, v) for o, v in enumerate(values)]
    runtime.producer.failing = 1
    # after the resume: the batch is read again from its first offset (nothing of it was done)
    await drain(runtime.analytics_agent.agent, FakeStream([events, events]))
    windows = [json.loads(v) for t, v in runtime.producer.sent if t == settings.topic_analytics]
    assert [w["actions"]["view"] for w in windows] == [1]
    assert runtime.ledger.to_commit() == {tp: 2}


class CountingTable(dict[bytes, Any]):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def __setitem__(self, key: bytes, value: Any) -> None:
        self.writes.append(key)
        super().__setitem__(key, value)


async def test_a_batch_of_observations_reads_and_writes_each_partitions_state_once(runtime: InMemoryWorker) -> None:
    settings = runtime.settings
    tps = [TP(settings.topic_observations, p) for p in (0, 1)]
    for tp in tps:
        runtime.own(tp)
    runtime.with_analytics_table(CountingTable())
    body = {"kind": "click", "channel": "web", "occurred_at": TS, "action": "view"}
    events = [
        event(settings.topic_observations, p, o, json.dumps({**body, "source": [settings.topic_clicks, p, o]}).encode())
        for o in range(5) for p in (0, 1)
    ]
    await drain(runtime.analytics_agent.agent, FakeStream([events]))
    assert sorted(runtime.analytics.writes) == [b"0", b"1"]
    for key in (b"0", b"1"):
        (tallies,) = runtime.analytics[key]["windows"]["open"]["web"].values()
        assert tallies["actions"]["view"] == 5
    assert runtime.ledger.to_commit() == {tps[0]: 5, tps[1]: 5}


async def test_a_batch_whose_acknowledgement_fails_later_is_read_again_from_done(runtime: InMemoryWorker) -> None:
    """The agent goes on while Kafka acknowledges a batch; a refused acknowledgement rewinds the
    partition to its last done offset, so no event is lost and commits go on."""
    topic = runtime.settings.topic_reviews
    tp = TP(topic, 0)
    first, second = [review(topic, o) for o in range(3)], [review(topic, o) for o in range(3, 6)]
    refused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    refused.set_exception(RuntimeError("not enough replicas (fake)"))
    send = runtime.producer.send
    calls = 0

    async def send_refusing_the_first(*args: Any, **kwargs: Any) -> asyncio.Future[None]:
        nonlocal calls
        calls += 1
        ack = await send(*args, **kwargs)
        return refused if calls == 1 else ack

    class Rereading(FakeStream):
        """What Kafka delivers: both batches, then, once the runtime sought back, both again."""

        async def take_events(self, max_size: int, within: float) -> AsyncIterator[list[Event]]:
            yield first
            yield second
            loop = asyncio.get_running_loop()
            while not runtime.consumer.seeks:  # one turn of the loop (asyncio.sleep is patched here)
                turn = loop.create_future()
                loop.call_soon(turn.set_result, None)
                await turn
            yield first
            yield second

    runtime.producer.send = send_refusing_the_first
    await asyncio.wait_for(drain(runtime.scoring.agent_for(topic), Rereading([])), 10.0)
    assert runtime.consumer.seeks == [{tp: 0}]
    scored = [json.loads(v)["event_id"] for t, v in runtime.producer.sent if t == runtime.settings.topic_sentiment]
    assert set(scored) == {f"r{o}" for o in range(6)}
    assert runtime.ledger.to_commit() == {tp: 6}
