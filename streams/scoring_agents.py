"""The scoring agents: one per input topic (and the catalog), each taking micro-batches of events
(an input topic's fetched into streams/batch_inbox.py, the catalog's from ``take_events``), admitting
them through delivery (streams/partition_delivery.py), processing them (streams/pipeline/) and sending
every output (streams/outputs.py); a batch's events are done once Kafka acknowledged its outputs
(streams/acks_in_flight.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import faust
from faust.types import TP, EventT

from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind
from channelpulse.streams import metrics
from channelpulse.streams.batch_inbox import BatchSource, taken_events
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.outputs import OutputProducer, dead_letter_of
from channelpulse.streams.partition_delivery import PartitionDelivery
from channelpulse.streams.pipeline.isolation import process_isolating
from channelpulse.streams.pipeline.processor import Processor, topic_kind
from channelpulse.streams.pipeline.records import BatchResult, RawRecord
from channelpulse.streams.producer_metadata import ChangelogMetadata

log = logging.getLogger(__name__)

PROCESSING_ATTEMPTS = 3


def first_offsets(events: Sequence[EventT]) -> dict[TP, int]:
    """The first offset of each partition among ``events``."""
    first: dict[TP, int] = {}
    for e in events:
        first.setdefault(e.message.tp, e.message.offset)
    return first


class ScoringAgents:
    """The agents of the input topics and the catalog, sharing one processor (created on the first
    batch, in the worker's event loop)."""

    def __init__(
        self,
        settings: Settings,
        processor: Callable[[], Processor],
        delivery: PartitionDelivery,
        outputs: OutputProducer,
        lake: LakeWriter,
        metadata: ChangelogMetadata,
        batches: BatchSource | None = None,
    ) -> None:
        self.settings = settings
        # the guarded topics' from the inbox their records are fetched into (streams/batch_inbox.py)
        self.batches = batches or taken_events(settings.batch_max_size, settings.batch_max_wait_ms / 1000.0)
        self._new_processor = processor
        self._processor: Processor | None = None
        self.delivery = delivery
        self.outputs = outputs
        self.lake = lake
        self.metadata = metadata
        self.next_offset: dict[TP, int] = {}

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = self._new_processor()
        return self._processor

    def agent_for(self, topic_name: str) -> Callable[[faust.StreamT], AsyncIterator[None]]:
        kind = topic_kind(self.settings, topic_name)

        async def agent(stream: faust.StreamT) -> AsyncIterator[None]:
            async for events in self.batches(stream, topic_name):
                try:
                    await self.handle_batch(kind, events)
                except Exception:  # e.g. a produce Kafka refused: read the batch again, never skip it
                    log.exception("a %s batch failed after it was admitted", kind.value)
                    if not await self.delivery.resume_from_done(events):
                        raise  # the catalog (Faust's acks): Faust restarts the agent, as before
                yield None
            await self.delivery.acks.settle(agent=topic_name)

        agent.__name__ = f"score_{kind.value}"
        return agent

    async def handle_batch(self, kind: EventKind, events: Sequence[EventT]) -> None:
        await self.metadata.ensure_loaded()
        guarded = events[0].message.topic in self.delivery.guarded_topics
        if guarded:
            events = await self.delivery.admit(events)
            if not events:
                return
        records = [
            RawRecord(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.message.value)
            for e in events
        ]
        metrics.EVENTS_IN.labels(topic=records[0].topic).inc(len(records))
        metrics.BATCH_SIZE.labels(pipeline=kind.value).observe(len(records))
        buffered_before = self.lake.rows_buffered_total
        result = await self.process_safely(kind, records)
        if guarded and self.lake.rows_buffered_total > buffered_before:
            # the batch's lake rows are in the current generation (or an earlier one, flushed meanwhile)
            generation = self.lake.generation
            for tp, first in first_offsets(events).items():
                self.delivery.lake_hold.hold(tp, first, generation)
        acked = await self.outputs.send(result.emits)
        metrics.EVENTS_DEADLETTERED.labels(topic=records[0].topic).inc(result.invalid)
        for e in events:
            self.next_offset[e.message.tp] = e.message.offset + 1
        if guarded:  # done once acknowledged; the next batch need not wait for that
            await self.delivery.acks.add(records[0].topic, acked, events)
        else:  # the catalog: Faust acks its events once the agent goes on
            await acked

    async def process_safely(self, kind: EventKind, records: list[RawRecord]) -> BatchResult:
        """Process a batch; if processing itself keeps failing (a bug, not bad input), dead-letter the
        records with the error rather than lose them or stall the partition forever."""
        for attempt in range(1, PROCESSING_ATTEMPTS + 1):
            try:
                return await process_isolating(self.processor, kind, records)
            except Exception as exc:  # any bug must not lose events or stop the agent
                log.exception("processing a %s batch failed (attempt %d)", kind.value, attempt)
                last = exc
                await asyncio.sleep(0.5 * attempt)
        result = BatchResult()
        for r in records:
            result.emits.append(dead_letter_of(r, f"processing failed: {last!r}", self.settings))
            result.invalid += 1
        return result
