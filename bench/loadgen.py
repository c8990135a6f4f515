"""The load generator: an aiokafka producer sending a source's events in a burst or at a fixed rate,
remembering when each was sent (by event id, or by offset for records without one)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer

from channelpulse.bench.workload import EventSource, Outgoing
from channelpulse.config import Settings
from channelpulse.kafka_security import aiokafka_options

OffsetKey = tuple[str, int, int]


@dataclass
class SendLog:
    """Send times (epoch seconds) of one phase's records."""

    by_id: dict[str, float] = field(default_factory=dict)
    by_offset: dict[OffsetKey, float] = field(default_factory=dict)
    count: int = 0
    first_s: float | None = None
    last_s: float | None = None

    def sent_at(self, event_id: str | None, offset: OffsetKey | None) -> float | None:
        if event_id is not None:
            return self.by_id.get(event_id)
        return self.by_offset.get(offset) if offset is not None else None

    def send_rate(self) -> float | None:
        """Achieved sending rate (events/s) between the first and the last send."""
        if self.first_s is None or self.last_s is None or self.last_s <= self.first_s or self.count < 2:
            return None
        return (self.count - 1) / (self.last_s - self.first_s)


def producer_for(settings: Settings, linger_ms: int = 2) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas, as the worker's does."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, **aiokafka_options(settings),
        acks="all",
        linger_ms=linger_ms,
        max_request_size=max(2 * settings.max_event_bytes, 1048576),
        client_id="channelpulse-bench",
    )


class LoadGenerator:
    """Sends records of one source; every phase gets fresh, unique event ids."""

    def __init__(self, producer: AIOKafkaProducer, source: EventSource, tag: str) -> None:
        self.producer = producer
        self.source = source
        self.tag = tag
        self.sequence = 0
        self.pending: list[asyncio.Future[Any]] = []

    async def _send(self, log: SendLog) -> None:
        self.sequence += 1
        sent_at = time.time()
        out: Outgoing = self.source.make(f"bench-{self.tag}-{self.sequence}")
        future = await self.producer.send(out.topic, out.value, key=out.key)
        if out.event_id is not None:
            log.by_id[out.event_id] = sent_at
        else:
            future.add_done_callback(lambda f: _remember_offset(log, out.topic, sent_at, f))
        log.count += 1
        log.first_s = log.first_s if log.first_s is not None else sent_at
        log.last_s = sent_at
        self.pending.append(future)
        if len(self.pending) >= 4096:
            self.pending = [f for f in self.pending if not f.done()]

    async def acked(self) -> None:
        """Wait until Kafka acknowledged everything sent so far (raises a send error)."""
        pending, self.pending = self.pending, []
        await asyncio.gather(*pending)

    async def burst(self, n: int, log: SendLog | None = None) -> SendLog:
        """Send ``n`` records as fast as the producer takes them (logged to ``log``, else a new log);
        returns the log once all are acknowledged."""
        log = log if log is not None else SendLog()
        for _ in range(n):
            await self._send(log)
        await self.acked()
        return log

    async def at_rate(self, rate: float, duration_s: float, log: SendLog) -> None:
        """Open loop: ``rate`` records per second for ``duration_s`` seconds, whatever the consumer does
        (sent in small bursts every couple of milliseconds, never ahead of the schedule)."""
        total = max(1, round(rate * duration_s))
        start = time.perf_counter()
        sent = 0
        while sent < total:
            due = min(total, int(rate * (time.perf_counter() - start)) + 1)
            while sent < due:
                await self._send(log)
                sent += 1
            await asyncio.sleep(0.002)
        await self.acked()


def _remember_offset(log: SendLog, topic: str, sent_at: float, future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is None:
        meta = future.result()
        log.by_offset[(topic, meta.partition, meta.offset)] = sent_at
