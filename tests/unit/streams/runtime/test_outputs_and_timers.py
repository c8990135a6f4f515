"""Output production, dead-lettering and the worker's timers on an in-memory producer and consumer
(no broker): outputs are counted only once acknowledged, a refused one fails the batch, ticks reach
every observation partition, the lag comes from the committed offset and lost partitions drop out,
the lake's buffer is written once due."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.delivery import OffsetLedger
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.outputs import OutputProducer, dead_letter_of
from channelpulse.streams.pipeline.drift import DriftWatch
from channelpulse.streams.pipeline.records import Emit, RawRecord
from channelpulse.streams.timers import LagReporter, LakeFlushTimer, Ticks
from tests.unit.streams.fakes import FakeConsumer


class Producer:
    """Records each send; its acknowledgement future is resolved (or failed) by the test."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, int | None]] = []
        self.acks: list[asyncio.Future[None]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None,
                   timestamp: float | None, headers: Any) -> asyncio.Future[None]:
        self.sent.append((topic, value, partition))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack

    async def send_many(self, records: list[tuple[str, bytes | None, bytes | None]]) -> asyncio.Future[Any]:
        acks = [await self.send(topic, key, value, None, None, None) for topic, key, value in records]
        return asyncio.gather(*acks)


def out_count(topic: str) -> float:
    return metrics.REGISTRY.get_sample_value("channelpulse_events_out_total", {"topic": topic}) or 0.0


async def test_outputs_are_counted_only_once_kafka_acknowledged_every_one() -> None:
    producer = Producer()
    outputs = OutputProducer(lambda: producer)
    emits = [Emit("t-acked", b"k", b"one", pipeline="sentiment"), Emit("t-acked", None, b"two", pipeline="sentiment")]
    before = out_count("t-acked")
    task = asyncio.ensure_future(outputs.produce(emits))
    await asyncio.sleep(0)
    assert [v for _, v, _ in producer.sent] == [b"one", b"two"] and not task.done()
    producer.acks[0].set_result(None)
    await asyncio.sleep(0)
    assert not task.done() and out_count("t-acked") == before
    producer.acks[1].set_result(None)
    await task
    assert out_count("t-acked") == before + 2


async def test_a_refused_output_fails_the_produce_and_counts_nothing() -> None:
    producer = Producer()
    outputs = OutputProducer(lambda: producer)
    before = out_count("t-refused")
    task = asyncio.ensure_future(outputs.produce([Emit("t-refused", None, b"x"), Emit("t-refused", None, b"y")]))
    await asyncio.sleep(0)
    producer.acks[0].set_result(None)
    producer.acks[1].set_exception(RuntimeError("NotEnoughReplicas (fake)"))
    with pytest.raises(RuntimeError, match="NotEnoughReplicas"):
        await task
    assert out_count("t-refused") == before


async def test_observations_are_sent_but_not_counted_as_outputs() -> None:
    producer = Producer()
    task = asyncio.ensure_future(OutputProducer(lambda: producer).produce([Emit("t-obs", None, b"o",
                                                                               pipeline="observations")]))
    await asyncio.sleep(0)
    producer.acks[0].set_result(None)
    await task
    assert producer.sent == [("t-obs", b"o", None)] and out_count("t-obs") == 0.0


def test_a_dead_letter_keeps_the_exact_bytes_and_the_position_of_its_record() -> None:
    settings = Settings()
    raw = b'{"event_id": "e1", \xff'
    letter = dead_letter_of(RawRecord("events.reviews", 3, 41, b"key-1", raw), "malformed: bad utf-8", settings)
    assert (letter.topic, letter.key, letter.pipeline) == (settings.topic_deadletter, b"key-1", "deadletter")
    body = json.loads(letter.value)
    assert base64.b64decode(body["raw"]) == raw
    assert (body["source_topic"], body["partition"], body["offset"]) == ("events.reviews", 3, 41)
    assert body["error"] == "malformed: bad utf-8"


async def test_an_analytics_tick_goes_to_every_observation_partition(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, partitions=3)
    producer = Producer()
    ticks = Ticks(settings, OutputProducer(lambda: producer), DriftWatch(settings, lambda model, version: None))
    await ticks.analytics()
    assert [(t, p) for t, _, p in producer.sent] == [(settings.topic_observations, p) for p in range(3)]
    assert all("tick" in json.loads(v or b"{}") for _, v, _ in producer.sent)
    await ticks.drift_cooldowns()  # no monitor, no request
    assert len(producer.sent) == 3


def gauge(name: str, tp: TP) -> float | None:
    return metrics.REGISTRY.get_sample_value(name, {"topic": tp.topic, "partition": str(tp.partition)})


async def test_lag_is_from_the_committed_offset_and_a_lost_partition_drops_out() -> None:
    guarded, catalog, other = TP("lag-reviews", 0), TP("lag-catalog", 1), TP("lag-elsewhere", 0)
    ledger: OffsetLedger[TP] = OffsetLedger()
    ledger.assign({guarded: 0})
    for offset in range(5):
        ledger.admit(guarded, offset)
        ledger.done(guarded, offset)
    consumer = FakeConsumer({guarded, catalog, other})
    consumer.high.update({guarded: 10, catalog: 7, other: 99})
    lag = LagReporter({"lag-reviews", "lag-catalog"}, ledger, {catalog: 4}, lambda: consumer)

    await lag.report()
    assert gauge("channelpulse_consumer_lag", guarded) == 10.0  # five done, none committed yet
    assert gauge("channelpulse_consumer_lag", catalog) == 3.0  # Faust's acks: from the next offset
    assert gauge("channelpulse_consumer_lag", other) is None  # not an input topic
    ledger.committed(ledger.to_commit())
    await lag.report()
    assert gauge("channelpulse_consumer_lag", guarded) == 5.0

    consumer.assigned.discard(guarded)  # revoked in a rebalance
    await lag.report()
    assert gauge("channelpulse_consumer_lag", guarded) is None
    assert gauge("channelpulse_commit_age_seconds", guarded) is None
    assert gauge("channelpulse_consumer_lag", catalog) == 3.0


async def test_the_lake_timer_writes_the_buffer_only_once_it_is_due(tmp_path: Path) -> None:
    now = [0.0]
    lake = LakeWriter(tmp_path, flush_rows=1000, flush_seconds=30.0, clock=lambda: now[0])
    timer = LakeFlushTimer(lake)
    lake.append("clicks", {"i": 0})
    await timer.flush_if_due()
    assert lake.buffered == 1  # waited 0 s of 30
    now[0] = 30.0
    await timer.flush_if_due()
    assert lake.buffered == 0 and len(list(tmp_path.rglob("*.parquet"))) == 1
    await timer.flush_if_due()  # nothing buffered: nothing written
    assert len(list(tmp_path.rglob("*.parquet"))) == 1
