"""A thin typed wrapper over kafka-python for topic administration, publishing and tailing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from channelpulse.config import Settings
from channelpulse.kafka_security import kafka_python_options

log = logging.getLogger(__name__)


def admin_client(settings: Settings, client_id: str) -> KafkaAdminClient:
    """A KafkaAdminClient with the security settings."""
    return KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, client_id=client_id, **kafka_python_options(settings)
    )


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic ChannelPulse creates, with its topic configs (the catalog is compacted; every topic
    has ``min.insync.replicas``)."""
    durability = durability_configs(settings)
    specs = {name: dict(durability) for name in (*settings.all_topics, settings.topic_observations)}
    specs[settings.topic_catalog]["cleanup.policy"] = "compact"
    return specs


def durability_configs(settings: Settings) -> dict[str, str]:
    """Topic configs every created topic gets (CHANNELPULSE_MIN_INSYNC_REPLICAS)."""
    return {"min.insync.replicas": str(settings.min_insync_replicas)}


def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics with ``settings.partitions`` partitions; returns the ones created."""
    admin = admin_client(settings, "channelpulse-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name, num_partitions=settings.partitions, replication_factor=settings.replication_factor,
                topic_configs=configs,
            )
            for name, configs in topic_specs(settings).items()
            if name not in existing
        ]
        created = []
        for topic in wanted:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def committed_offsets(
    settings: Settings, group_id: str, partitions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """The group's committed offset of each partition that has one (blocking: run it in an executor)."""
    wanted = {TopicPartition(topic, partition) for topic, partition in partitions}
    admin = admin_client(settings, "channelpulse-offsets")
    try:
        for attempt in range(1, 11):
            try:
                found = admin.list_group_offsets({group_id: list(wanted)}).get(group_id, {})
                break
            except KafkaError as exc:  # e.g. no coordinator yet on a new broker
                if not exc.retriable or attempt == 10:
                    raise
                time.sleep(0.5 * attempt)
    finally:
        admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in found.items() if tp in wanted and meta.offset >= 0}


def first_offset_from(
    settings: Settings, topic: str, partition: int, offset: int, timeout_s: float = 10.0
) -> int | None:
    """The offset of the first record at or after ``offset`` in the partition's log (None if none
    came within ``timeout_s``). Offsets without a record (compacted away, transaction markers,
    deleted by retention) are passed over. Blocking: run it in an executor."""
    tp = TopicPartition(topic, partition)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            records = consumer.poll(timeout_ms=500, max_records=1).get(tp)
            if records:
                return int(records[0].offset)
        return None
    finally:
        consumer.close()


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


def producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """A producer that waits for all in-sync replicas (acks=all) and retries."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.bootstrap_servers,
        **kafka_python_options(settings),
        "acks": "all",
        "linger_ms": 5,
        "retries": 10,
        "max_request_size": max(2 * settings.max_event_bytes, 1048576),
    }
    options.update(overrides)
    return KafkaProducer(**options)


def publish(settings: Settings, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    """Publish (key, value) pairs and wait until Kafka acknowledged every one; returns the count."""
    prod = producer(settings)
    count = 0
    try:
        futures = [prod.send(topic, key=key, value=value) for key, value in records]
        for fut in futures:
            fut.get(timeout=60)
            count += 1
    finally:
        prod.flush()
        prod.close()
    return count


def read_topic(
    settings: Settings, topic: str, *, from_beginning: bool = True, idle_timeout_s: float | None = None,
) -> Iterator[Record]:
    """Yield a topic's records (no consumer group, nothing committed); stops after ``idle_timeout_s``
    without a new record, or runs until interrupted when it is None."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(idle_timeout_s * 1000) if idle_timeout_s is not None else float("inf"),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            consumer.seek_to_beginning(*tps)
        else:
            consumer.seek_to_end(*tps)
        for msg in consumer:
            yield Record(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)
    finally:
        consumer.close()
