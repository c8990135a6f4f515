"""Output production and dead-lettering: every record a worker writes to an output topic (scores,
windows, alerts, drift requests, dead letters) goes through :class:`OutputProducer`, which sends a
batch's records and returns only once Kafka acknowledged each one (``produce``), or returns the future
of those acknowledgements (``send``), so that the next batch need not wait for them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from channelpulse.config import Settings
from channelpulse.schemas.validation import encode_dead_letter
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.records import Emit, RawRecord, utcnow


class Producer(Protocol):
    """What is used of Faust's producer: ``send`` returns the future of Kafka's acknowledgement."""

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None, timestamp: float | None,
        headers: Any,
    ) -> Awaitable[Any]: ...


def dead_letter_of(record: RawRecord | Any, error: str, settings: Settings) -> Emit:
    """The dead letter of a consumed record (a RawRecord or a Faust message) with ``error``."""
    letter = encode_dead_letter(record.value or b"", error, record.topic, record.partition, record.offset)
    return Emit(settings.topic_deadletter, record.key, letter, pipeline="deadletter")


class OutputProducer:
    """Sends outputs through the producer ``producer()`` returns (Faust creates its producer on first
    use), counts them and observes their end-to-end latency once acknowledged."""

    def __init__(self, producer: Callable[[], Producer]) -> None:
        self._producer = producer

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
        producer = self._producer()
        futures = [
            await producer.send(e.topic, e.key, e.value, partition=None, timestamp=None, headers=None) for e in emits
        ]
        return asyncio.ensure_future(self._acknowledged(futures, emits))

    @staticmethod
    async def _acknowledged(futures: list[Awaitable[Any]], emits: Sequence[Emit]) -> None:
        await asyncio.gather(*futures)
        now = utcnow()
        for e in emits:
            if e.pipeline == "observations":
                continue
            metrics.EVENTS_OUT.labels(topic=e.topic).inc()
            if e.occurred_at is not None:
                metrics.END_TO_END_LATENCY.labels(pipeline=e.pipeline).observe(
                    max(0.0, (now - e.occurred_at).total_seconds())
                )

    async def send_to(self, topic: str, value: bytes, partition: int) -> None:
        """Send one record to ``partition`` of ``topic`` without waiting for its acknowledgement."""
        await self._producer().send(topic, None, value, partition=partition, timestamp=None, headers=None)
