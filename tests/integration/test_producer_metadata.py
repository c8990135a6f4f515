"""aiokafka's producer metadata against the real broker: a topic it learnt from its first, full
metadata fetch is gone after the next refresh once it tracks another (new) topic, unless
streams/producer_metadata.track_topics tracks it (what the tables' changelog look-ups need)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from channelpulse.config import Settings
from channelpulse.kafka_security import aiokafka_options
from channelpulse.streams.kafka_io import admin_client
from channelpulse.streams.producer_metadata import track_topics

pytestmark = pytest.mark.kafka39


def create_topic(settings: Settings) -> str:
    from kafka.admin import NewTopic

    name = f"metadata-{uuid.uuid4().hex[:8]}"
    admin = admin_client(settings, "metadata-test")
    try:
        admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()
    return name


async def partitions_after_another_topic_is_used(settings: Settings, tracked: bool) -> set[int] | None:
    known = create_topic(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, **aiokafka_options(settings))
    await producer.start()
    try:
        # a refresh while it tracks no topic fetches every topic, ``known`` among them (what the
        # worker's producer had done when the SASL_SSL worker test lost a changelog's metadata)
        await producer.client.force_metadata_update()
        assert producer.client.cluster.partitions_for_topic(known) == {0, 1}
        if tracked:
            await track_topics(producer, [known])
        else:
            await producer.partitions_for(known)
        # a topic created after the start: the producer tracks it, and from then on only what it tracks
        await producer.send_and_wait(create_topic(settings), b"v")
        await producer.client.force_metadata_update()
        return producer.client.cluster.partitions_for_topic(known)
    finally:
        await producer.stop()


def test_a_tracked_topic_stays_in_the_producers_metadata(stack: Settings) -> None:
    assert asyncio.run(partitions_after_another_topic_is_used(stack, tracked=True)) == {0, 1}


def test_an_untracked_topic_from_the_first_fetch_is_dropped(stack: Settings) -> None:
    assert asyncio.run(partitions_after_another_topic_is_used(stack, tracked=False)) is None
