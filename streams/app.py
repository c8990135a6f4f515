"""The Faust application: one agent per input topic, moving bytes between Kafka and the pipeline.

Delivery is at-least-once: an agent takes a micro-batch of events (``take_events``), processes it and
sends every output; it goes on with the next batch while Kafka acknowledges them (at most
``UNACKED_BATCHES`` batches per agent: streams/acks_in_flight.py), and a batch's events are done in the
offset ledger (streams/delivery.py), and later committed, only once each of its outputs was acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import faust
from faust.types import TP, EventT

from channelpulse.config import Settings
from channelpulse.kafka_security import KafkaSecurity
from channelpulse.schemas.events import EventKind
from channelpulse.streams import metrics
from channelpulse.streams.acks_in_flight import AcksInFlight
from channelpulse.streams.batch_consumer import consumer_url, use_inbox
from channelpulse.streams.batch_inbox import BatchInbox
from channelpulse.streams.buffer_clear import on_buffers_cleared
from channelpulse.streams.commit_barrier import CommitBarrier, faust_commit
from channelpulse.streams.delivery import OffsetLedger, Verdict
from channelpulse.streams.kafka_io import committed_offsets, durability_configs, first_offset_from
from channelpulse.streams.lake.commit_hold import LakeCommitHold
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.loop_lag import probe_loops
from channelpulse.streams.outputs import OutputProducer, dead_letter_of
from channelpulse.streams.pipeline.analytics import ChannelAnalytics
from channelpulse.streams.pipeline.drift import DriftWatch, repository_profiles
from channelpulse.streams.pipeline.isolation import process_isolating
from channelpulse.streams.pipeline.processor import Processor, topic_kind
from channelpulse.streams.pipeline.records import BatchResult, Emit, RawRecord
from channelpulse.streams.pipeline.sensor_drift import SensorDriftWatch
from channelpulse.streams.privacy.forget import forget_user_state
from channelpulse.streams.privacy.keys import current_pseudonymizer
from channelpulse.streams.producer_metadata import track_topics
from channelpulse.streams.reread import deliver_rereads
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.table_store import PartitionKeyedTable, store_url
from channelpulse.streams.timers import LagReporter, Ticks

log = logging.getLogger(__name__)

PROCESSING_ATTEMPTS = 3
SETTLE_ACKS_S = 5.0
"""The longest a revocation or shutdown waits for the acknowledgements of batches sent before it commits."""


def make_app(settings: Settings, scorer_factory: Callable[[], Scorer]) -> tuple[faust.App, WorkerRuntime]:
    """Build the worker's Faust app with its agents, tables and timers (and the runtime they share)."""
    # one folder per worker: RocksDB locks its files, so two workers of one host cannot share them (the web
    # port tells the workers of a host apart and stays the same across a restart)
    worker_dir = f"worker-{settings.worker_web_port}"
    datadir = settings.table_dir or settings.state_dir / "faust" / settings.app_id / worker_dir
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        # the guarded topics' records reach their agents a fetched partition at a time (streams/batch_consumer.py)
        broker_consumer=consumer_url(settings.bootstrap_servers),
        broker_credentials=KafkaSecurity.of(settings).faust_credentials(),
        key_serializer="raw",
        value_serializer="raw",
        store=store_url(settings),
        datadir=str(datadir),
        table_standby_replicas=settings.table_standby_replicas,
        broker_session_timeout=settings.consumer_session_timeout_s,
        broker_heartbeat_interval=settings.consumer_heartbeat_interval_s,
        web_enabled=True,
        web_bind=settings.bind_host,
        web_port=settings.worker_web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        stream_buffer_maxsize=4 * settings.batch_max_size,
        table_cleanup_interval=30.0,
        # Do not wait for in-flight batches on shutdown or rebalance: a batch whose scoring is being
        # retried (Triton down) would block forever. Its offsets are not committed, so it is replayed.
        stream_wait_empty=False,
    )
    # Keys are raw bytes (key_type=bytes: the "raw" codec) and values JSON objects (faust's default
    # codec). For user-state and sensor-windows the key is the input record's key (user_id /
    # sensor_id), so with use_partitioner the changelog partition of a key is the partition its
    # events arrive on; channel-analytics is keyed by the observation partition it summarises.
    def table(name: str, use_partitioner: bool) -> dict[str, Any]:
        read = metrics.CHANGELOG_RECORDS_READ.labels(table=name)

        async def count_read(event: EventT) -> None:
            read.inc()

        return dict(
            name=name, key_type=bytes, partitions=settings.partitions, use_partitioner=use_partitioner, default=None,
            extra_topic_configs=durability_configs(settings), on_changelog_event=count_read,
        )

    users = app.Table(**table("user-state", use_partitioner=True))
    sensors = app.Table(**table("sensor-windows", use_partitioner=True))
    # written per observation partition after a micro-batch (no current event): streams/table_store.py
    analytics = app.tables.add(
        PartitionKeyedTable(app, beacon=app.tables.beacon, **table("channel-analytics", use_partitioner=False))
    )
    runtime = WorkerRuntime(app, settings, scorer_factory, users, sensors, analytics)
    use_inbox(app, runtime.inbox)
    for topic_name in (*settings.input_topics, settings.topic_catalog):
        # input events (and observations): offsets committed by the runtime's ledger, not by Faust
        # (streams/delivery.py); the catalog is a compacted table of upserts and keeps Faust's acks
        topic = app.topic(
            topic_name, key_type=bytes, value_type=bytes, partitions=settings.partitions,
            acks=topic_name not in runtime.guarded_topics, config=durability_configs(settings),
        )
        app.agent(topic, name=f"score-{topic_name}")(runtime.agent_for(topic_name))
    # mode's Signal.connect annotation rejects async bound methods, which it supports
    app.on_partitions_revoked.connect(runtime.on_partitions_revoked)  # type: ignore[arg-type]
    app.on_partitions_assigned.connect(runtime.on_partitions_assigned)  # type: ignore[arg-type]
    app.on_before_shutdown.connect(runtime.on_before_shutdown)  # type: ignore[arg-type]
    # Faust empties the agents' buffers when a recovery ends, after the stream partitions were resumed:
    # what was fetched meanwhile is read again (streams/buffer_clear.py)
    on_buffers_cleared(app.flow_control, runtime.on_buffers_cleared)
    app.timer(interval=1.0)(runtime.commit_offsets)
    app.timer(interval=2.0)(runtime.seek_overdue)
    observations = app.topic(
        settings.topic_observations, key_type=bytes, value_type=bytes, partitions=settings.partitions, acks=False,
        config=durability_configs(settings),
    )
    app.agent(observations, name="channel-analytics")(runtime.analytics_agent)
    forget = app.topic(
        settings.topic_privacy_forget, key_type=bytes, value_type=bytes, partitions=settings.partitions,
        config=durability_configs(settings),
    )
    app.agent(forget, name="privacy-forget")(runtime.forget_agent)
    app.timer(interval=5.0)(runtime.lag.report)
    app.task(probe_loops)  # event-loop lag of the main loop and the consumer thread's (streams/loop_lag.py)
    app.timer(interval=settings.analytics_tick_s)(runtime.ticks.analytics)
    app.timer(interval=1.0)(runtime.flush_lake)
    app.timer(interval=settings.drift_tick_s)(runtime.ticks.drift_cooldowns)
    if settings.recommender_refresh_s > 0:  # learning from the stream (streams/recommend_refresh.py)
        # imported here: it brings torch, seconds of start-up a worker that does not learn never needs
        from channelpulse.streams.recommend_refresh import RecommenderRefresher

        refresher = RecommenderRefresher(settings, runtime.lake.flush)
        app.timer(interval=settings.recommender_refresh_s, on_leader=True)(refresher.tick)
        app.on_before_shutdown.connect(refresher.on_before_shutdown)  # type: ignore[arg-type]
    return app, runtime


def first_offsets(events: Sequence[EventT]) -> dict[TP, int]:
    """The first offset of each partition among ``events``."""
    first: dict[TP, int] = {}
    for e in events:
        first.setdefault(e.message.tp, e.message.offset)
    return first


class WorkerRuntime:
    """What the agents share: the processor (created in the worker's event loop) and offsets seen."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        scorer_factory: Callable[[], Scorer],
        users: Any,
        sensors: Any,
        analytics: Any,
    ) -> None:
        self.app = app
        self.settings = settings
        self.scorer_factory = scorer_factory
        self.users = users
        self.sensors = sensors
        self.analytics = analytics
        self.lake = LakeWriter(
            settings.lake_root,
            flush_rows=settings.lake_flush_rows,
            flush_seconds=settings.lake_flush_seconds,
            retention_days=settings.lake_retention_days,
            pseudonymize=current_pseudonymizer(settings).row,
        )
        self.drift = DriftWatch(settings, repository_profiles(settings.model_repository))
        self._processor: Processor | None = None
        self._metadata_ready = False
        self.pending_rereads: set[asyncio.Task[None]] = set()
        self.next_offset: dict[TP, int] = {}
        self.guarded_topics = frozenset((*settings.input_topics, settings.topic_observations))
        self.ledger: OffsetLedger[TP] = OffsetLedger()
        self.inbox = BatchInbox(app.flow_control, settings.batch_max_size)
        self.lake_hold: LakeCommitHold[TP] = LakeCommitHold()
        self.acks = AcksInFlight(self.mark_done, self.resume_from_done)
        self.barrier = CommitBarrier(lambda: self.app.producer.flush(), faust_commit(app))
        # the app's producer and consumer through self.app: Faust creates them on first use
        self.outputs = OutputProducer(lambda: self.app.producer)
        self.ticks = Ticks(settings, self.outputs, self.drift)
        self.lag = LagReporter(
            frozenset((*settings.input_topics, settings.topic_catalog)), self.ledger, self.next_offset,
            lambda: self.app.consumer,
        )

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = Processor(
                self.settings,
                self.scorer_factory(),
                self.users,
                self.sensors,
                drift=self.drift,
                lake=self.lake,
                sensor_drift=SensorDriftWatch(self.settings),
            )
        return self._processor

    def agent_for(self, topic_name: str) -> Callable[[faust.StreamT], AsyncIterator[None]]:
        kind = topic_kind(self.settings, topic_name)

        async def agent(stream: faust.StreamT) -> AsyncIterator[None]:
            async for events in self.batches(stream, topic_name):
                try:
                    await self.handle_batch(kind, events)
                except Exception:  # e.g. a produce Kafka refused: read the batch again, never skip it
                    log.exception("a %s batch failed after it was admitted", kind.value)
                    if not await self.resume_from_done(events):
                        raise  # the catalog (Faust's acks): Faust restarts the agent, as before
                yield None
            await self.acks.settle(agent=topic_name)

        agent.__name__ = f"score_{kind.value}"
        return agent

    def batches(self, stream: faust.StreamT, topic_name: str) -> AsyncIterator[Sequence[EventT]]:
        """The micro-batches an agent of ``topic_name`` takes: a guarded topic's from the inbox its records
        are fetched into (streams/batch_inbox.py), the catalog's from Faust's ``take_events`` (its acks)."""
        max_size = self.settings.batch_max_size
        within = self.settings.batch_max_wait_ms / 1000.0
        if topic_name in self.guarded_topics:
            return self.inbox.take(stream, topic_name, max_size, within)
        # take_events exists on faust-streaming's Stream but is missing from StreamT
        return stream.take_events(max_size, within=within)  # type: ignore[attr-defined]

    async def analytics_agent(self, stream: faust.StreamT) -> AsyncIterator[None]:
        """Micro-batches of observations: per observation partition one state read and one state write
        a batch (the table writes it to that partition's changelog: streams/table_store.py)."""
        async for events in self.batches(stream, self.settings.topic_observations):
            try:
                admitted = await self.admit(events)
                if admitted:
                    await self.analyse(admitted)
            except Exception:  # a failed produce: read the observations again, never skip them
                log.exception("an observation batch failed after it was admitted")
                await self.resume_from_done(events)
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
            stored = self.analytics.get(key)
            state, emits = self._analytics_step(stored, [e.message for e in part_events])
            await self.outputs.produce(emits)
            self.analytics[key] = state.to_dict()
            for event in part_events:
                self.ledger.done(event.message.tp, event.message.offset)

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

    async def forget_agent(self, stream: faust.StreamT) -> AsyncIterator[None]:
        """Erasure requests (streams/privacy/forget.py): delete the user's state; the changelog gets
        the tombstone."""
        async for event in stream.events():
            if event.message.key:
                if not self._metadata_ready:
                    await self.load_changelog_metadata()
                deleted = forget_user_state(self.users, event.message.key)
                log.info("privacy: erasure request applied, user state %s", "deleted" if deleted else "absent")
            yield None

    def mark_done(self, events: Sequence[EventT]) -> None:
        for e in events:
            self.ledger.done(e.message.tp, e.message.offset)

    async def resume_from_done(self, events: Sequence[EventT]) -> bool:
        """Processing admitted events failed: rewind their partitions to the last done offset and
        seek there, so they are processed again and the ledger's commits go on. False when the
        events are not the ledger's (the catalog)."""
        if events[0].message.topic not in self.guarded_topics:
            return False
        metrics.AGENT_RESUMES.labels(topic=events[0].message.topic).inc()
        await asyncio.sleep(1.0)  # a failing broker or producer: do not spin
        for tp in {e.message.tp for e in events}:
            if self.ledger.rewind(tp) is not None:
                await self.seek_back(tp)
        return True

    async def flush_lake(self) -> None:
        if self.lake.flush_due():
            self.lake.flush()

    async def load_changelog_metadata(self) -> None:
        """The key-partitioned tables ask the producer which partition a key's changelog record goes
        to; aiokafka answers only for topics in its metadata, so track them before the first write
        (streams/producer_metadata.py)."""
        producer = self.app.producer._ensure_producer()  # type: ignore[attr-defined]  # no public accessor
        await track_topics(producer, [table.changelog_topic.get_topic_name() for table in (self.users, self.sensors)])
        self._metadata_ready = True

    async def handle_batch(self, kind: EventKind, events: Sequence[EventT]) -> None:
        if not self._metadata_ready:
            await self.load_changelog_metadata()
        guarded = events[0].message.topic in self.guarded_topics
        if guarded:
            events = await self.admit(events)
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
                self.lake_hold.hold(tp, first, generation)
        acked = await self.outputs.send(result.emits)
        metrics.EVENTS_DEADLETTERED.labels(topic=records[0].topic).inc(result.invalid)
        for e in events:
            self.next_offset[e.message.tp] = e.message.offset + 1
        if guarded:  # done once acknowledged; the next batch need not wait for that
            await self.acks.add(records[0].topic, acked, events)
        else:  # the catalog: Faust acks its events once the agent goes on
            await acked

    async def admit(self, events: Sequence[EventT]) -> list[EventT]:
        """The events of a batch the ledger lets through (streams/delivery.py); where an event comes
        past the next offset, looks at the log and steps over an empty stretch or seeks back."""
        new = {e.message.tp for e in events} - self.ledger.assigned()
        if new:  # the consumer's assignment is a set built per call: only asked for when needed
            owned = new & self.app.consumer.assignment()
            if owned:
                await self.assign(owned)
        kept: list[EventT] = []
        for e in events:
            tp, offset = e.message.tp, e.message.offset
            verdict = self.ledger.admit(tp, offset)
            if verdict is Verdict.GAP:
                verdict = await self.close_gap(tp, offset)
            if verdict is Verdict.PROCESS:
                kept.append(e)
            else:
                metrics.EVENTS_SKIPPED.labels(topic=tp.topic, reason=verdict.value).inc()
        return kept

    async def close_gap(self, tp: TP, offset: int) -> Verdict:
        expected = self.ledger.next_offset(tp) or 0
        loop = asyncio.get_running_loop()
        first = await loop.run_in_executor(None, first_offset_from, self.settings, tp.topic, tp.partition, expected)
        if first is not None and first >= offset:
            self.ledger.step_over(tp, offset)  # no record in between: compaction, markers, retention
            return self.ledger.admit(tp, offset)
        log.warning("%s: offset %d came before %d, which is in the log: reading again from it", tp, offset, expected)
        await self.seek_back(tp)
        return Verdict.GAP

    async def seek_back(self, tp: TP) -> None:
        target = self.ledger.seeking(tp)
        try:
            await self.app.consumer.seek_wait({tp: target})
        except Exception:  # the partition was revoked meanwhile: its new owner reads it
            log.warning("%s: seek back to %d failed", tp, target, exc_info=True)

    def on_buffers_cleared(self) -> None:
        """Faust emptied the agents' buffers with the flow active (the end of a recovery): read again,
        in the event loop, what they held (streams/buffer_clear.py)."""
        task = asyncio.get_running_loop().create_task(self.read_cleared_again())
        self.pending_rereads.add(task)
        task.add_done_callback(self.pending_rereads.discard)

    async def read_cleared_again(self) -> None:
        """Seek every owned guarded partition to the next offset the ledger hands out (a partition it
        does not hold yet: where it starts it, the group's commit). Events in flight are not read twice:
        taken ones are past that offset, and any the consumer delivers from before the seek are checked
        against the log as a gap or skipped as duplicates."""
        try:
            owned = {tp for tp in self.app.consumer.assignment() if tp.topic in self.guarded_topics}
            new = owned - self.ledger.assigned()
            if new:
                await self.assign(new)
            targets = {tp: o for tp in sorted(owned) if (o := self.ledger.next_offset(tp)) is not None}
            if targets:
                await self.app.consumer.seek_wait(targets)
                metrics.BUFFER_REREADS.inc(len(targets))
        except Exception:  # revoked meanwhile (the new owner reads them from the commit), or the broker away
            log.warning("reading again the partitions whose buffered events were dropped failed", exc_info=True)

    async def seek_overdue(self) -> None:
        """Seek again where a seek back brought nothing within the ledger's grace period."""
        for tp in self.ledger.overdue():
            log.warning("%s: still waiting for offset %s; seeking back again", tp, self.ledger.next_offset(tp))
            await self.seek_back(tp)

    async def assign(self, tps: set[TP]) -> None:
        """Start the ledger on newly owned partitions: at the group's committed offset, or at the
        partition's earliest one when the group never committed there."""
        loop = asyncio.get_running_loop()
        starts: dict[TP, int] = {
            TP(topic, partition): offset
            for (topic, partition), offset in (
                await loop.run_in_executor(None, committed_offsets, self.settings, self.settings.app_id, tps)
            ).items()
        }
        missing = tps - set(starts)
        if missing:
            starts.update(await self.app.consumer.earliest_offsets(*missing))
        # a partition another caller started meanwhile (an agent's first batch) keeps its state
        self.ledger.assign({tp: o for tp, o in starts.items() if tp not in self.ledger.assigned()})

    async def commit_offsets(self) -> None:
        """Commit what the ledger says is done and the lake holds the rows of (every second), behind
        the producer's flush (streams/commit_barrier.py)."""
        done = self.lake_hold.cap(self.ledger.to_commit(), self.lake.durable_generation)
        offsets = {tp: o for tp, o in done.items() if o > (self.ledger.committed_offset(tp) or 0)}
        if offsets:
            self.ledger.committed(await self.barrier.commit(offsets))

    async def commit_all(self) -> None:
        """Write the lake's buffer, then commit everything done (on revocation, at shutdown) once the
        batches sent are acknowledged (waiting at most SETTLE_ACKS_S); if the lake cannot be written,
        only what it holds is committed (the rest is read again)."""
        await self.acks.settle(timeout_s=SETTLE_ACKS_S)
        try:
            self.lake.flush()
        except Exception:
            log.exception("lake: writing the buffered rows failed; their events' offsets stay uncommitted")
        await self.commit_offsets()

    async def on_partitions_revoked(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        """Faust signal (sender, revoked): commit, then forget the revoked partitions."""
        deliver_rereads(self.app.consumer, self.guarded_topics)  # the fetcher is stopped now
        await self.commit_all()
        self.ledger.revoke(args[0])
        self.lake_hold.revoke(args[0])

    async def on_partitions_assigned(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        """Faust signal (sender, assigned): before the fetcher starts again, let events read again
        after a seek back through (streams/reread.py)."""
        deliver_rereads(self.app.consumer, self.guarded_topics)

    async def on_before_shutdown(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        await self.commit_all()

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
