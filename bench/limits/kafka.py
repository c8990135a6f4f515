"""(c) A bare aiokafka consume-then-produce loop: the ceiling of the validation/dead-letter path.

It drains a backlog of the same records the path gets, the way an agent does: take up to
``batch_max_size`` records (waiting at most ``batch_max_wait_ms``), produce each raw value to an
output topic, wait for every acknowledgement, take the next batch. No parsing, no validation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from channelpulse.bench.loadgen import LoadGenerator, producer_for
from channelpulse.bench.namespace import create_topics
from channelpulse.bench.stats import steady_rate
from channelpulse.bench.workload import EventSource, Outgoing
from channelpulse.config import Settings
from channelpulse.kafka_security import aiokafka_options


async def measure_bare_loop(
    settings: Settings, source: EventSource, n: int, in_topic: str, out_topic: str, timeout_s: float
) -> dict[str, Any]:
    """Publish ``n`` records of ``source`` to ``in_topic``, then time the loop draining them."""
    await asyncio.to_thread(create_topics, settings, [in_topic, out_topic])
    producer = producer_for(settings, linger_ms=0)
    await producer.start()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False,
        **aiokafka_options(settings),
    )
    await consumer.start()
    try:
        await LoadGenerator(producer, _Retarget(source, in_topic), "bare").burst(n)
        partitions = await producer.partitions_for(in_topic)
        tps = [TopicPartition(in_topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        done = 0
        start = time.monotonic()
        samples = [(start, 0.0)]
        while done < n and time.monotonic() - start < timeout_s:
            batches = await consumer.getmany(
                *tps, timeout_ms=int(settings.batch_max_wait_ms), max_records=settings.batch_max_size
            )
            futures = [
                await producer.send(out_topic, record.value, key=record.key)
                for records in batches.values()
                for record in records
            ]
            await asyncio.gather(*futures)
            done += len(futures)
            samples.append((time.monotonic(), float(done)))
    finally:
        await consumer.stop()
        await producer.stop()
    elapsed = samples[-1][0] - start
    return {
        "events": n,
        "completed": done,
        "seconds": round(elapsed, 3),
        "events_per_s": steady_rate(samples, n),
        "batch_size": settings.batch_max_size,
    }


class _Retarget:
    """A source whose records go to another topic."""

    def __init__(self, source: EventSource, topic: str) -> None:
        self.source = source
        self.topic = topic

    def make(self, event_id: str) -> Outgoing:
        return dataclasses.replace(self.source.make(event_id), topic=self.topic)
