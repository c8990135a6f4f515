"""The worker's periodic jobs that are not delivery's (streams/partition_delivery.py): analytics and
drift ticks, the lake's timed flush, and the lag and commit-age gauges. Faust's timers call them
(streams/app.py, ``make_app``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Protocol

from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.delivery import OffsetLedger
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.outputs import OutputProducer
from channelpulse.streams.pipeline.drift import DriftWatch
from channelpulse.streams.pipeline.records import utcnow


class Ticks:
    """Time passing for the stream-driven parts: analytics windows and drift cooldowns."""

    def __init__(self, settings: Settings, outputs: OutputProducer, drift: DriftWatch) -> None:
        self.settings = settings
        self.outputs = outputs
        self.drift = drift

    async def analytics(self) -> None:
        """Send a tick to every observation partition: quiet channels' windows close on time."""
        tick = json.dumps({"tick": utcnow().isoformat()}).encode()
        for partition in range(self.settings.partitions):
            await self.outputs.send_to(self.settings.topic_observations, tick, partition)

    async def drift_cooldowns(self) -> None:
        """Drift cooldowns end on time even without new windows (a reminder request, if due)."""
        await self.outputs.produce(self.drift.tick())


class LakeFlushTimer:
    """Writes the lake's buffer once it is due (its row count or age: streams/lake/writer.py)."""

    def __init__(self, lake: LakeWriter) -> None:
        self.lake = lake

    async def flush_if_due(self) -> None:
        if self.lake.flush_due():
            self.lake.flush()


class Consumer(Protocol):
    """What the lag needs of Faust's consumer."""

    def assignment(self) -> Collection[TP]: ...

    def highwater(self, tp: TP) -> int | None: ...


class LagReporter:
    """Lag and commit age per assigned input partition (``channelpulse_consumer_lag``,
    ``channelpulse_commit_age_seconds``); partitions this worker lost in a rebalance are dropped."""

    def __init__(
        self,
        input_topics: Collection[str],
        ledger: OffsetLedger[TP],
        next_offset: Mapping[TP, int],
        consumer: Callable[[], Consumer],
    ) -> None:
        self.input_topics = input_topics
        self.ledger = ledger
        self.next_offset = next_offset
        self._consumer = consumer
        self.labels: set[tuple[str, str]] = set()

    async def report(self) -> None:
        consumer = self._consumer()
        reported = set()
        for tp in consumer.assignment():
            if tp.topic not in self.input_topics:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            # guarded topics: from the committed offset, which stops when processing does; the
            # catalog (Faust's acks) from the next offset read
            committed = self.ledger.committed_offset(tp)
            position = committed if committed is not None else self.next_offset.get(tp, 0)
            lag = max(0, highwater - position)
            labels = (tp.topic, str(tp.partition))
            metrics.CONSUMER_LAG.labels(*labels).set(lag)
            metrics.COMMIT_AGE.labels(*labels).set(self.ledger.commit_age(tp) if lag > 0 else 0.0)
            reported.add(labels)
        for labels in self.labels - reported:
            metrics.CONSUMER_LAG.remove(*labels)
            metrics.COMMIT_AGE.remove(*labels)
        self.labels = reported
