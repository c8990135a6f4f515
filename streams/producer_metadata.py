"""Topic metadata an aiokafka producer must keep for synchronous partition look-ups.

Faust's key-partitioned tables ask the producer, synchronously, which partition a key's changelog
record goes to (``producer._partition``), and aiokafka answers only for topics in its cluster
metadata. Its client fetches metadata for every topic while it tracks none, and only for the
tracked ones after that; ``partitions_for`` returns at once, without tracking the topic, when the
topic is already known. A changelog topic first seen in a full fetch (the race between Faust
creating its changelogs and the producer's first metadata) is therefore dropped by the next
refresh, and every table write raises until the metadata ages out (minutes). :func:`track_topics`
adds the topics to the tracked set and waits for their partitions. ``AIOKafkaProducer.client`` and
``AIOKafkaClient.add_topic`` are aiokafka internals (pinned in pyproject.toml); they are used here
only, and tests/integration/test_producer_metadata.py checks them against the real broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer


async def track_topics(producer: AIOKafkaProducer, topics: Iterable[str]) -> None:
    """Keep ``topics`` in the producer's metadata from now on (and wait until their partitions are known)."""
    for topic in topics:
        await producer.client.add_topic(topic)
        await producer.partitions_for(topic)


class ChangelogMetadata:
    """The key-partitioned tables' changelog topics, tracked in the producer's metadata once, before
    the first table write (``ensure_loaded``); ``producer()`` returns the aiokafka producer."""

    def __init__(self, producer: Callable[[], AIOKafkaProducer], tables: Sequence[Any]) -> None:
        self._producer = producer
        self.tables = tables
        self.ready = False

    async def ensure_loaded(self) -> None:
        if not self.ready:
            await track_topics(self._producer(), [table.changelog_topic.get_topic_name() for table in self.tables])
            self.ready = True
