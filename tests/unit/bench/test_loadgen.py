from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from channelpulse.bench.loadgen import LoadGenerator, SendLog
from channelpulse.bench.workload import MalformedSource, Outgoing


@dataclass
class Meta:
    partition: int
    offset: int


class RecordingProducer:
    """Stands in for AIOKafkaProducer.send: acknowledges each record with the next offset."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, float]] = []

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(Meta(0, len(self.sent)))
        self.sent.append((topic, value, key, time.perf_counter()))
        return future


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def make(self, event_id: str) -> Outgoing:
        self.n += 1
        return Outgoing("t", b"k", b"v", event_id)


async def test_open_loop_keeps_to_the_rate() -> None:
    producer = RecordingProducer()
    gen = LoadGenerator(producer, Counter(), "p")
    log = SendLog()
    started = time.perf_counter()
    await gen.at_rate(400.0, 0.5, log)
    elapsed = time.perf_counter() - started
    assert log.count == len(producer.sent) == 200
    assert 0.45 <= elapsed < 1.5
    # never ahead of the schedule: the i-th record leaves no earlier than i / rate
    for i, (_, _, _, at) in enumerate(producer.sent):
        assert at - started >= i / 400.0 - 0.003
    assert len(log.by_id) == 200
    assert log.send_rate() == pytest.approx(400.0, rel=0.2)


async def test_burst_remembers_offsets_of_records_without_event_id() -> None:
    producer = RecordingProducer()
    gen = LoadGenerator(producer, MalformedSource("t", 65536), "dl")
    log = await gen.burst(10)
    await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
    assert log.count == 10 and not log.by_id
    assert sorted(log.by_offset) == [("t", 0, i) for i in range(10)]
    first = log.sent_at(None, ("t", 0, 0))
    assert first is not None and log.first_s == first
