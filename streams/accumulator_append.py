"""A batch's output records appended to aiokafka's accumulator in one synchronous step.

aiokafka's ``send`` is a coroutine per record (metadata wait, serialization, partitioning, the
accumulator's ``add_message``, a future per record, and at acknowledgement a ``RecordMetadata`` per
record); Faust's ``Producer.send`` wraps it in a second coroutine. For a batch of outputs that was
most of the cost of producing them (docs/benchmarks.md, the profile). :func:`append_records` does
per record only what ``send`` does to place it: the size check of ``_serialize``, the partition
``_partition`` chooses (its lists of partitions taken once per topic and batch, then the configured
partitioner: murmur2 on the key, random for key ``None``, as Faust's key partitioning) and the
append to the open batch of its partition (a new batch when that one is full or closed). It returns
the futures of the batches the records went into: each completes once Kafka acknowledged its batch,
or fails with the send's error (after aiokafka's own retries).

What differs from ``send``: a full batch does not wait for the sender to drain it (``add_message``
waits, up to ``request_timeout_ms``); the next one is queued behind it on the same partition, in
order. What bounds the records waiting is the caller's (streams/acks_in_flight.py: at most
``UNACKED_BATCHES`` batches of outputs per agent). The batches are the accumulator's own, so the
producer's ``flush`` (the commit barrier, streams/commit_barrier.py) waits for them as for any other.

The producer's ``_message_accumulator`` (its ``_batches``, ``_append_batch``, ``create_builder``,
``_closed``, ``_exception``), ``MessageBatch._builder`` and the producer's ``_serialize``,
``_metadata`` and ``_partitioner`` are aiokafka internals (aiokafka is pinned in pyproject.toml for
them); this module is the only one that touches them. tests/unit/streams/test_accumulator_append.py
checks them against the installed aiokafka, tests/integration/test_accumulator_append.py against the
broker.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerClosed
from aiokafka.structs import TopicPartition

Record = tuple[str, bytes | None, bytes | None]
"""An output record: topic, key, value."""


def append_records(producer: AIOKafkaProducer, records: Sequence[Record]) -> list[asyncio.Future[Any]]:
    """Append ``records`` (their topics' metadata known: :meth:`BatchAppender.send_many` waits for
    it) to the accumulator of ``producer``, in order per partition; the futures of the batches they
    are in. Raises, before appending anything, what ``send`` raises for a closed or failed producer,
    and ``MessageSizeTooLargeError`` for a record above ``max_request_size`` (records before it are
    appended then)."""
    accumulator = producer._message_accumulator
    if accumulator._closed:
        raise ProducerClosed()
    if accumulator._exception is not None:
        raise copy.copy(accumulator._exception)
    open_batches = accumulator._batches
    batches: dict[int, asyncio.Future[Any]] = {}
    partitions: dict[str, tuple[list[int], list[int]]] = {}  # per topic: all, available (as _partition)
    for topic, key, value in records:
        key_bytes, value_bytes = producer._serialize(key, value, [])
        known = partitions.get(topic)
        if known is None:
            metadata = producer._metadata
            known = partitions[topic] = (
                list(metadata.partitions_for_topic(topic)),
                list(metadata.available_partitions_for_topic(topic)),
            )
        tp = TopicPartition(topic, producer._partitioner(key_bytes, *known))
        queued = open_batches.get(tp)
        batch = queued[-1] if queued else None
        if batch is None or batch._builder.append(timestamp=None, key=key_bytes, value=value_bytes, headers=[]) is None:
            batch = accumulator._append_batch(accumulator.create_builder(), tp)
            # the first record of a batch is always taken, whatever its size
            batch._builder.append(timestamp=None, key=key_bytes, value=value_bytes, headers=[])
        batches[id(batch)] = batch.future
    return list(batches.values())


async def all_acknowledged(futures: Sequence[asyncio.Future[Any]]) -> None:
    """Wait for every batch future, then raise the first error among them. ``asyncio.wait`` never
    cancels them: the batches' futures are the accumulator's, and a cancelled one would end the
    producer's ``flush`` before its batch was acknowledged."""
    if futures:
        await asyncio.wait(futures)
    for future in futures:
        future.result()


class BatchAppender:
    """The worker's producer as streams/outputs.py uses it: ``send_many`` appends a batch's records
    (:func:`append_records`), ``send`` sends one record through Faust's producer. ``producer()``
    returns Faust's producer (Faust creates it on first use)."""

    def __init__(self, producer: Callable[[], Any]) -> None:
        self._producer = producer

    def aiokafka_producer(self) -> AIOKafkaProducer:
        """The aiokafka producer under Faust's (no public accessor)."""
        aiokafka_producer: AIOKafkaProducer = self._producer()._ensure_producer()
        return aiokafka_producer

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
    ) -> Any:
        return await self._producer().send(topic, key, value, partition=partition, timestamp=timestamp, headers=headers)

    async def send_many(self, records: Sequence[Record]) -> Awaitable[None]:
        """Append ``records`` in order; what is returned completes once Kafka acknowledged all of
        them, or fails with the first error (it must be awaited)."""
        producer = self.aiokafka_producer()
        for topic in {topic for topic, _, _ in records}:
            await producer.partitions_for(topic)  # at once when known; else waits for its metadata
        return all_acknowledged(append_records(producer, records))
