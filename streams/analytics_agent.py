"""The channel-analytics agent: micro-batches of observations applied to per-partition states
(streams/pipeline/analytics.py) kept in the channel-analytics table (streams/table_store.py), their
windows produced (streams/outputs.py), the observations admitted and done through delivery
(streams/partition_delivery.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import faust
from faust.types import EventT

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.batch_inbox import BatchSource, taken_events
from channelpulse.streams.outputs import OutputProducer, dead_letter_of
from channelpulse.streams.partition_delivery import PartitionDelivery
from channelpulse.streams.pipeline.analytics import ChannelAnalytics
from channelpulse.streams.pipeline.records import Emit

log = logging.getLogger(__name__)


class AnalyticsAgent:
    """The agent of the observations topic; ``table`` holds each observation partition's state."""

    def __init__(
        self,
        settings: Settings,
        table: Any,
        delivery: PartitionDelivery,
        outputs: OutputProducer,
        batches: BatchSource | None = None,
    ) -> None:
        self.settings = settings
        self.table = table
        self.delivery = delivery
        self.outputs = outputs
        # in a worker, from the inbox the observations are fetched into (streams/batch_inbox.py)
        self.batches = batches or taken_events(settings.batch_max_size, settings.batch_max_wait_ms / 1000.0)

    async def agent(self, stream: faust.StreamT) -> AsyncIterator[None]:
        """Micro-batches of observations: per observation partition one state read and one state write
        a batch (the table writes it to that partition's changelog: streams/table_store.py)."""
        async for events in self.batches(stream, self.settings.topic_observations):
            try:
                admitted = await self.delivery.admit(events)
                if admitted:
                    await self.analyse(admitted)
            except Exception:  # a failed produce: read the observations again, never skip them
                log.exception("an observation batch failed after it was admitted")
                await self.delivery.resume_from_done(events)
            yield None

    async def analyse(self, events: Sequence[EventT]) -> None:
        """Apply a batch of observations to their partitions' states. A partition's outputs are produced
        before its state is stored: a crash in between applies its observations again to the state
        before them (outputs may repeat), and once stored the state skips them
        (streams/pipeline/analytics.py)."""
        by_partition: dict[int, list[EventT]] = {}
        for event in events:
            by_partition.setdefault(event.message.partition, []).append(event)
        for partition, part_events in by_partition.items():
            key = str(partition).encode()
            stored = self.table.get(key)
            state, emits = self._analytics_step(stored, [e.message for e in part_events])
            await self.outputs.produce(emits)
            self.table[key] = state.to_dict()
            self.delivery.mark_done(part_events)

    def _analytics_step(
        self, stored: dict[str, Any] | None, messages: Sequence[Any]
    ) -> tuple[ChannelAnalytics, list[Emit]]:
        """The partition state after ``messages`` and what to produce; a malformed observation (written by
        a worker, so a bug) is dead-lettered, visibly, and leaves the state as it was before it."""

        def load(value: dict[str, Any] | None) -> ChannelAnalytics:
            return ChannelAnalytics.from_dict(value) if value else ChannelAnalytics.new(self.settings)

        state = load(stored)
        before = (state.windows.late_dropped, state.duplicates, state.evicted)
        records = [(m.offset, m.value or b"") for m in messages]
        try:
            emits = state.step(records, self.settings)
        except (ValueError, KeyError, TypeError):  # find the malformed ones: one observation at a time
            state, emits = load(stored), []
            for message, record in zip(messages, records, strict=True):
                snapshot = state.to_dict()
                try:
                    emits += state.step([record], self.settings)
                except (ValueError, KeyError, TypeError) as exc:
                    state = ChannelAnalytics.from_dict(snapshot)
                    emits.append(dead_letter_of(message, f"malformed observation: {exc!r}", self.settings))
        metrics.ANALYTICS_LATE.inc(state.windows.late_dropped - before[0])
        metrics.ANALYTICS_DUPLICATES.inc(state.duplicates - before[1])
        metrics.ANALYTICS_EVICTED.inc(state.evicted - before[2])
        return state, emits
