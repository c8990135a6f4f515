"""Reads a pipeline's output topic and matches each output to the send time of its input: by
``event_id`` for scored outputs, by source (topic, partition, offset) for dead letters. The latency is
the output record's Kafka timestamp (set when the worker produced it) minus the send time."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from channelpulse.bench.loadgen import OffsetKey, SendLog
from channelpulse.config import Settings
from channelpulse.kafka_security import aiokafka_options


def output_source(value: bytes | None) -> tuple[str | None, OffsetKey | None]:
    """(event_id, None) of a scored output, (None, (topic, partition, offset)) of a dead letter."""
    try:
        body = json.loads(value or b"")
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    if "source_topic" in body:
        return None, (str(body["source_topic"]), int(body["partition"]), int(body["offset"]))
    event_id = body.get("event_id")
    return (str(event_id) if event_id is not None else None), None


@dataclass
class PhaseOutputs:
    """What one phase's outputs showed: latencies (s) and output timestamps (epoch s)."""

    log: SendLog
    latencies: list[float] = field(default_factory=list)
    produced_at: list[float] = field(default_factory=list)
    unmatched: list[tuple[str | None, OffsetKey | None, float]] = field(default_factory=list)

    def add(self, event_id: str | None, offset: OffsetKey | None, produced_at: float) -> None:
        sent = self.log.sent_at(event_id, offset)
        if sent is None:
            self.unmatched.append((event_id, offset, produced_at))
            return
        self.latencies.append(max(0.0, produced_at - sent))
        self.produced_at.append(produced_at)

    def rematch(self) -> None:
        """Match outputs that arrived before their input's acknowledgement told us its offset."""
        waiting, self.unmatched = self.unmatched, []
        for event_id, offset, produced_at in waiting:
            self.add(event_id, offset, produced_at)

    @property
    def matched(self) -> int:
        return len(self.latencies)


class OutputCollector:
    """One consumer (no group) on all partitions of an output topic."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, **aiokafka_options(settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=4 * 1048576,
            client_id="channelpulse-bench-collector",
        )
        self.partitions: list[TopicPartition] = []

    async def start(self, partitions: set[int]) -> None:
        """Assign ``partitions`` of the topic (e.g. ``await producer.partitions_for(topic)``)."""
        await self.consumer.start()
        self.partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(self.partitions)

    async def stop(self) -> None:
        await self.consumer.stop()

    async def skip_to_end(self) -> None:
        """Skip everything produced so far (call before the phase sends its first record)."""
        await self.consumer.seek_to_end(*self.partitions)
        for tp in self.partitions:
            await self.consumer.position(tp)

    async def collect(self, outputs: PhaseOutputs, stop: asyncio.Event) -> None:
        """Match outputs until ``stop`` is set."""
        while not stop.is_set():
            batches = await self.consumer.getmany(*self.partitions, timeout_ms=100, max_records=10_000)
            for records in batches.values():
                for record in records:
                    event_id, offset = output_source(record.value)
                    if event_id is not None or offset is not None:
                        outputs.add(event_id, offset, record.timestamp / 1000.0)

    async def during(self, outputs: PhaseOutputs, sending: Awaitable[None], timeout_s: float) -> bool:
        """Collect while ``sending`` runs, then until every sent record has its output or ``timeout_s``
        passed; True when all outputs arrived."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.collect(outputs, stop))
        try:
            await sending
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                outputs.rematch()
                if outputs.matched >= outputs.log.count:
                    return True
                await asyncio.sleep(0.1)
            return False
        finally:
            stop.set()
            await task
            outputs.rematch()
