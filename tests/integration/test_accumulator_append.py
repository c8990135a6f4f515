"""streams/accumulator_append.py against the real broker: records appended to the accumulator land
on the partitions ``send`` chooses for their keys, with their keys, values and order intact, and the
producer's ``flush`` (what the commit barrier awaits) returns only once Kafka acknowledged them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from channelpulse.config import Settings
from channelpulse.kafka_security import aiokafka_options
from channelpulse.streams.accumulator_append import Record, all_acknowledged, append_records
from channelpulse.streams.kafka_io import admin_client

pytestmark = pytest.mark.kafka39

PARTITIONS = 4
KeyValue = tuple[bytes | None, bytes | None]


def create_topics(settings: Settings, count: int) -> list[str]:
    from kafka.admin import NewTopic

    names = [f"append-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    admin = admin_client(settings, "append-test")
    try:
        admin.create_topics([NewTopic(n, num_partitions=PARTITIONS, replication_factor=1) for n in names])
    finally:
        admin.close()
    return names


async def read_back(settings: Settings, topics: list[str], count: int) -> dict[TopicPartition, list[KeyValue]]:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
        **aiokafka_options(settings),
    )
    await consumer.start()
    out: dict[TopicPartition, list[KeyValue]] = {}
    try:
        async with asyncio.timeout(60):
            while sum(len(v) for v in out.values()) < count:
                for tp, messages in (await consumer.getmany(timeout_ms=1000)).items():
                    out.setdefault(tp, []).extend((m.key, m.value) for m in messages)
    finally:
        await consumer.stop()
    return out


async def append_and_read(settings: Settings) -> None:
    topics = create_topics(settings, 2)
    records: list[Record] = [
        (topics[i % 2], f"user-{i % 17}".encode(), f"value-{i:05d}".encode() * (1 + i % 5)) for i in range(3000)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", **aiokafka_options(settings))
    await producer.start()
    try:
        for topic in topics:
            await producer.partitions_for(topic)
        futures = append_records(producer, records)
        await producer.flush()
        assert all(f.done() for f in futures)  # the flush waited for every batch appended this way
        await all_acknowledged(futures)
        # where ``send`` puts each key (a record of each, sent one by one, acknowledged)
        expected_partition: dict[tuple[str, bytes | None], int] = {}
        for topic, key, _ in records:
            if (topic, key) not in expected_partition:
                sent = await (await producer.send(topic, b"probe", key=key))
                expected_partition[(topic, key)] = sent.partition
    finally:
        await producer.stop()
    landed = await read_back(settings, topics, len(records) + len(expected_partition))
    expected: dict[TopicPartition, list[KeyValue]] = {}
    for topic, key, value in records:
        expected.setdefault(TopicPartition(topic, expected_partition[(topic, key)]), []).append((key, value))
    appended = {tp: [m for m in messages if m[1] != b"probe"] for tp, messages in landed.items()}
    assert {tp: m for tp, m in appended.items() if m} == expected
    assert len(expected) > 4  # keys spread over the partitions of both topics


def test_appended_records_land_on_their_keys_partitions_in_order_and_the_flush_covers_them(stack: Settings) -> None:
    asyncio.run(append_and_read(stack))
