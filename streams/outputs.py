"""Output production and dead-lettering: every record a worker writes to an output topic (scores,
windows, alerts, drift requests, dead letters) goes through :class:`OutputProducer`, which sends a
batch's records and returns only once Kafka acknowledged each one (``produce``), or returns the future
of those acknowledgements (``send``), so that the next batch need not wait for them. A batch's records
are handed to the producer in one step (``send_many``: in the worker, appended to aiokafka's
accumulator without a coroutine per record, streams/accumulator_append.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from channelpulse.config import Settings
from channelpulse.schemas.validation import encode_dead_letter
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.records import Emit, RawRecord, utcnow


class Producer(Protocol):
    """What is used of the producer: ``send`` one record returns the future of Kafka's acknowledgement,
    ``send_many`` records (topic, key, value; partitioned by key) in order returns what completes once
    Kafka acknowledged all of them (streams/accumulator_append.py: ``BatchAppender``)."""

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None, timestamp: float | None,
        headers: Any,
    ) -> Awaitable[Any]: ...

    async def send_many(self, records: Sequence[tuple[str, bytes | None, bytes | None]]) -> Awaitable[None]: ...


def dead_letter_of(record: RawRecord | Any, error: str, settings: Settings) -> Emit:
    """The dead letter of a consumed record (a RawRecord or a Faust message) with ``error``."""
    letter = encode_dead_letter(record.value or b"", error, record.topic, record.partition, record.offset)
    return Emit(settings.topic_deadletter, record.key, letter, pipeline="deadletter")


class OutputProducer:
    """Sends outputs through the producer ``producer()`` returns (Faust creates its producer on first
    use), counts them and observes their end-to-end latency once acknowledged."""

    def __init__(self, producer: Callable[[], Producer]) -> None:
        self._producer = producer
        # the metrics' children by label: a labels() look-up per output was a visible share of producing
        self._events_out: dict[str, Any] = {}
        self._latency: dict[str, Any] = {}

    async def produce(self, emits: Sequence[Emit]) -> None:
        """Send every output and wait until Kafka acknowledged all of them."""
        await (await self.send(emits))

    async def send(self, emits: Sequence[Emit]) -> asyncio.Future[None]:
        """Send every output, in order, without waiting for Kafka: the future returned completes once
        Kafka acknowledged all of them (counted then, with their latency), or fails with the first error."""
        if not emits:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        acked = await self._producer().send_many([(e.topic, e.key, e.value) for e in emits])
        return asyncio.ensure_future(self._acknowledged(acked, emits))

    async def _acknowledged(self, acked: Awaitable[None], emits: Sequence[Emit]) -> None:
        await acked
        now = utcnow()
        counts: dict[str, int] = {}
        for e in emits:
            if e.pipeline == "observations":
                continue
            counts[e.topic] = counts.get(e.topic, 0) + 1
            if e.occurred_at is not None:
                self._latency_of(e.pipeline).observe(max(0.0, (now - e.occurred_at).total_seconds()))
        for topic, count in counts.items():
            events_out = self._events_out.get(topic)
            if events_out is None:
                events_out = self._events_out[topic] = metrics.EVENTS_OUT.labels(topic=topic)
            events_out.inc(count)

    def _latency_of(self, pipeline: str) -> Any:
        latency = self._latency.get(pipeline)
        if latency is None:
            latency = self._latency[pipeline] = metrics.END_TO_END_LATENCY.labels(pipeline=pipeline)
        return latency

    async def send_to(self, topic: str, value: bytes, partition: int) -> None:
        """Send one record to ``partition`` of ``topic`` without waiting for its acknowledgement."""
        await self._producer().send(topic, None, value, partition=partition, timestamp=None, headers=None)
