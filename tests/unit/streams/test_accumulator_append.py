"""streams/accumulator_append.py against the installed aiokafka's producer and accumulator (no broker:
the cluster metadata is filled from a metadata response, Kafka's acknowledgement is the batch's
``done``, as aiokafka's sender calls it): records land where ``send`` puts them, in order, with their
keys and values; one future per batch; the producer's ``flush`` waits for them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, ProducerClosed
from aiokafka.protocol.metadata import MetadataResponse_v0
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from channelpulse.streams.accumulator_append import BatchAppender, Record, all_acknowledged, append_records

PARTITIONS = 4
TOPICS = ("scores", "deadletter")


async def new_producer(**options: int) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers="localhost:1", **options)  # never started
    topics = [(0, topic, [(0, p, 0, [0], [0]) for p in range(PARTITIONS)]) for topic in TOPICS]
    producer.client.cluster.update_metadata(MetadataResponse_v0([(0, "localhost", 1)], topics))
    return producer


@pytest.fixture
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    producer = await new_producer()
    yield producer
    await producer.stop()


def queued(producer: AIOKafkaProducer) -> dict[TopicPartition, list[tuple[bytes | None, bytes | None]]]:
    """The records in the accumulator by partition, in order, decoded from the batches' wire bytes."""
    out: dict[TopicPartition, list[tuple[bytes | None, bytes | None]]] = {}
    for tp, batches in producer._message_accumulator._batches.items():
        for batch in batches:
            records = MemoryRecords(bytes(batch.get_data_buffer()))
            while (wire := records.next_batch()) is not None:
                out.setdefault(tp, []).extend((r.key, r.value) for r in wire)
    return out


def acknowledge(producer: AIOKafkaProducer) -> None:
    """What aiokafka's sender does once Kafka acknowledged a batch."""
    for batches in producer._message_accumulator._batches.values():
        for batch in batches:
            batch.done(base_offset=0)


RECORDS: list[Record] = [
    (TOPICS[i % 2], None if i % 7 == 0 else f"user-{i % 13}".encode(), f"value-{i}".encode()) for i in range(200)
]


async def test_records_land_where_send_puts_them_in_order_with_their_keys_and_values(
    producer: AIOKafkaProducer,
) -> None:
    keyed = [r for r in RECORDS if r[1] is not None]
    append_records(producer, keyed)
    by_send = await new_producer()
    try:
        for topic, key, value in keyed:
            await by_send.send(topic, value, key=key)
        assert queued(producer) == queued(by_send)
    finally:
        await by_send.client.close()
    assert len(queued(producer)) > 4  # the keys spread over partitions of both topics


async def test_records_without_a_key_go_to_a_known_partition_in_order(producer: AIOKafkaProducer) -> None:
    records: list[Record] = [("scores", None, f"v{i}".encode()) for i in range(50)]
    append_records(producer, records)
    landed = queued(producer)
    assert {tp.partition for tp in landed} <= set(range(PARTITIONS))
    assert sorted(v for values in landed.values() for _, v in values) == sorted(v for _, _, v in records)
    for values in landed.values():
        assert [v for _, v in values] == sorted((v for _, v in values), key=lambda v: int(v[1:]))


async def test_acknowledged_once_every_batch_is_and_the_producers_flush_waits_for_them(
    producer: AIOKafkaProducer,
) -> None:
    futures = append_records(producer, RECORDS)
    assert len(futures) == len(queued(producer))  # one future per batch, not per record
    acked = asyncio.ensure_future(all_acknowledged(futures))
    flushed = asyncio.ensure_future(producer.flush())  # what Faust's flush (the commit barrier) awaits
    await asyncio.sleep(0.05)
    assert not acked.done() and not flushed.done()
    acknowledge(producer)
    await asyncio.wait_for(asyncio.gather(acked, flushed), 1.0)


async def test_a_cancelled_wait_leaves_the_batches_to_the_flush(producer: AIOKafkaProducer) -> None:
    acked = asyncio.ensure_future(all_acknowledged(append_records(producer, RECORDS[:10])))
    await asyncio.sleep(0)
    acked.cancel()
    flushed = asyncio.ensure_future(producer.flush())
    await asyncio.sleep(0.05)
    assert not flushed.done()
    acknowledge(producer)
    await asyncio.wait_for(flushed, 1.0)


async def test_a_failed_batch_fails_the_acknowledgement(producer: AIOKafkaProducer) -> None:
    futures = append_records(producer, RECORDS)
    batches = [b for queue in producer._message_accumulator._batches.values() for b in queue]
    for batch in batches[1:]:
        batch.done(base_offset=0)
    batches[0].drain_ready()  # taken by the sender, then refused
    batches[0].failure(KafkaTimeoutError("not acknowledged in time"))
    with pytest.raises(KafkaTimeoutError):
        await asyncio.wait_for(all_acknowledged(futures), 1.0)


async def test_a_full_batch_is_followed_by_the_next_on_its_partition_in_order() -> None:
    producer = await new_producer(max_batch_size=300)
    try:
        records: list[Record] = [("scores", b"same-key", f"value-{i:03d}".encode() * 4) for i in range(40)]
        futures = append_records(producer, records)
        ((tp, batches),) = producer._message_accumulator._batches.items()
        assert len(batches) == len(futures) > 1
        assert queued(producer)[tp] == [(k, v) for _, k, v in records]
    finally:
        await producer.stop()


async def test_a_record_above_the_request_size_is_refused() -> None:
    producer = await new_producer(max_request_size=1000)
    try:
        with pytest.raises(MessageSizeTooLargeError):
            append_records(producer, [("scores", b"k", b"x" * 2000)])
    finally:
        await producer.stop()


async def test_a_closed_producer_refuses_before_appending(producer: AIOKafkaProducer) -> None:
    await producer._message_accumulator.close()
    with pytest.raises(ProducerClosed):
        append_records(producer, RECORDS[:3])
    assert queued(producer) == {}


async def test_the_appender_sends_many_through_the_aiokafka_producer_under_fausts(
    producer: AIOKafkaProducer,
) -> None:
    class FaustProducer:
        def _ensure_producer(self) -> AIOKafkaProducer:
            return producer

    acked = asyncio.ensure_future(await BatchAppender(FaustProducer).send_many(RECORDS[:20]))
    assert sum(len(v) for v in queued(producer).values()) == 20
    await asyncio.sleep(0.01)
    assert not acked.done()
    acknowledge(producer)
    await asyncio.wait_for(acked, 1.0)
