"""The offset look-ups the worker's offset ledger relies on, against the real broker (kafka-python:
topic creation, produce, fetch, delete-records, group offset commit and fetch; 4.x and 3.9)."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import committed_offsets, first_offset_from, publish

pytestmark = pytest.mark.kafka39


def fresh_topic(stack: Settings) -> str:
    name = f"offsets-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    return name


def test_first_offset_from_finds_the_next_record_and_passes_over_deleted_ones(stack: Settings) -> None:
    topic = fresh_topic(stack)
    publish(stack, topic, [(None, f"v{i}".encode()) for i in range(6)])
    assert first_offset_from(stack, topic, 0, 2) == 2
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    try:
        admin.delete_records({TopicPartition(topic, 0): 4})  # offsets 0..3 leave the log
    finally:
        admin.close()
    assert first_offset_from(stack, topic, 0, 1) == 4
    assert first_offset_from(stack, topic, 0, 6, timeout_s=2.0) is None  # nothing written there yet


def test_committed_offsets_reads_what_the_group_committed(stack: Settings) -> None:
    topic = fresh_topic(stack)
    publish(stack, topic, [(None, b"x")] * 5)
    group = f"group-{uuid.uuid4().hex[:8]}"
    assert committed_offsets(stack, group, [(topic, 0)]) == {}
    consumer = KafkaConsumer(bootstrap_servers=stack.bootstrap_servers, group_id=group, enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "", -1)})
    finally:
        consumer.close()
    assert committed_offsets(stack, group, [(topic, 0)]) == {(topic, 0): 3}
