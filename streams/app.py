"""The Faust application: the worker's app, tables, topics, agents, timers and signals, wired to the
parts that do the work.

Delivery is at-least-once: an agent takes a micro-batch of events (an input topic's fetched a partition at a
time into streams/batch_inbox.py, the catalog's from ``take_events``), processes it and
sends every output (streams/scoring_agents.py); it goes on with the next batch while Kafka acknowledges
them (at most ``UNACKED_BATCHES`` batches per agent: streams/acks_in_flight.py), and a batch's events are
done in the offset ledger (streams/delivery.py, used through streams/partition_delivery.py), and later
committed, only once each of its outputs was acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import EventT

from channelpulse.config import Settings
from channelpulse.kafka_security import KafkaSecurity
from channelpulse.streams import metrics
from channelpulse.streams.accumulator_append import BatchAppender
from channelpulse.streams.analytics_agent import AnalyticsAgent
from channelpulse.streams.batch_consumer import consumer_url, use_inbox
from channelpulse.streams.batch_inbox import BatchInbox
from channelpulse.streams.buffer_clear import on_buffers_cleared
from channelpulse.streams.commit_barrier import CommitBarrier, faust_commit
from channelpulse.streams.forget_agent import ForgetAgent
from channelpulse.streams.kafka_io import durability_configs
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.loop_lag import probe_loops
from channelpulse.streams.outputs import OutputProducer
from channelpulse.streams.partition_delivery import PartitionDelivery
from channelpulse.streams.partition_log import KafkaPartitionLog
from channelpulse.streams.pipeline.drift import DriftWatch, repository_profiles
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.pipeline.sensor_drift import SensorDriftWatch
from channelpulse.streams.privacy.keys import current_pseudonymizer
from channelpulse.streams.producer_metadata import ChangelogMetadata
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.scoring_agents import ScoringAgents
from channelpulse.streams.table_store import PartitionKeyedTable, store_url
from channelpulse.streams.timers import LagReporter, LakeFlushTimer, Ticks


@dataclass(frozen=True)
class WorkerParts:
    """What ``make_app`` wired into the app: its tables and the parts its agents, timers and signals call."""

    users: Any
    sensors: Any
    analytics: Any
    lake: LakeWriter
    delivery: PartitionDelivery
    inbox: BatchInbox
    scoring: ScoringAgents
    analytics_agent: AnalyticsAgent
    forget: ForgetAgent
    ticks: Ticks
    lag: LagReporter


def make_app(settings: Settings, scorer_factory: Callable[[], Scorer]) -> tuple[faust.App, WorkerParts]:
    """Build the worker's Faust app with its agents, tables and timers (and the parts they call)."""
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
    lake = LakeWriter(
        settings.lake_root,
        flush_rows=settings.lake_flush_rows,
        flush_seconds=settings.lake_flush_seconds,
        retention_days=settings.lake_retention_days,
        pseudonymize=current_pseudonymizer(settings).row,
    )
    drift = DriftWatch(settings, repository_profiles(settings.model_repository))

    def new_processor() -> Processor:  # on the first batch, in the worker's event loop
        return Processor(
            settings, scorer_factory(), users, sensors, drift=drift, lake=lake,
            sensor_drift=SensorDriftWatch(settings),
        )

    # the app's producer and consumer through the app: Faust creates them on first use
    barrier = CommitBarrier(lambda: app.producer.flush(), faust_commit(app))
    delivery = PartitionDelivery(settings, lambda: app.consumer, KafkaPartitionLog(settings), barrier, lake)
    # a batch's outputs appended to the accumulator of Faust's aiokafka producer (streams/accumulator_append.py)
    appender = BatchAppender(lambda: app.producer)
    outputs = OutputProducer(lambda: appender)
    inbox = BatchInbox(app.flow_control, settings.batch_max_size)
    use_inbox(app, inbox)
    batches = inbox.source(delivery.guarded_topics, settings.batch_max_size, settings.batch_max_wait_ms / 1000.0)
    metadata = ChangelogMetadata(appender.aiokafka_producer, (users, sensors))
    scoring = ScoringAgents(settings, new_processor, delivery, outputs, lake, metadata, batches)
    parts = WorkerParts(
        users=users,
        sensors=sensors,
        analytics=analytics,
        lake=lake,
        delivery=delivery,
        inbox=inbox,
        scoring=scoring,
        analytics_agent=AnalyticsAgent(settings, analytics, delivery, outputs, batches),
        forget=ForgetAgent(users, metadata),
        ticks=Ticks(settings, outputs, drift),
        lag=LagReporter(
            frozenset((*settings.input_topics, settings.topic_catalog)), delivery.ledger, scoring.next_offset,
            lambda: app.consumer,
        ),
    )
    for topic_name in (*settings.input_topics, settings.topic_catalog):
        # input events (and observations): offsets committed by delivery's ledger, not by Faust
        # (streams/partition_delivery.py); the catalog is a compacted table of upserts and keeps Faust's acks
        topic = app.topic(
            topic_name, key_type=bytes, value_type=bytes, partitions=settings.partitions,
            acks=topic_name not in delivery.guarded_topics, config=durability_configs(settings),
        )
        app.agent(topic, name=f"score-{topic_name}")(scoring.agent_for(topic_name))
    # mode's Signal.connect annotation rejects async bound methods, which it supports
    app.on_partitions_revoked.connect(delivery.on_partitions_revoked)  # type: ignore[arg-type]
    app.on_before_shutdown.connect(delivery.on_before_shutdown)  # type: ignore[arg-type]
    # Faust empties the agents' buffers when a recovery ends, after the stream partitions were resumed:
    # what was fetched meanwhile is read again (streams/buffer_clear.py)
    on_buffers_cleared(app.flow_control, delivery.on_buffers_cleared)
    app.timer(interval=1.0)(delivery.commit_offsets)
    app.timer(interval=2.0)(delivery.seek_overdue)
    observations = app.topic(
        settings.topic_observations, key_type=bytes, value_type=bytes, partitions=settings.partitions, acks=False,
        config=durability_configs(settings),
    )
    app.agent(observations, name="channel-analytics")(parts.analytics_agent.agent)
    forget = app.topic(
        settings.topic_privacy_forget, key_type=bytes, value_type=bytes, partitions=settings.partitions,
        config=durability_configs(settings),
    )
    app.agent(forget, name="privacy-forget")(parts.forget.agent)
    app.timer(interval=5.0)(parts.lag.report)
    app.task(probe_loops)  # event-loop lag of the main loop and the consumer thread's (streams/loop_lag.py)
    app.timer(interval=settings.analytics_tick_s)(parts.ticks.analytics)
    app.timer(interval=1.0)(LakeFlushTimer(lake).flush_if_due)
    app.timer(interval=settings.drift_tick_s)(parts.ticks.drift_cooldowns)
    if settings.recommender_refresh_s > 0:  # learning from the stream (streams/recommend_refresh.py)
        # imported here: it brings torch, seconds of start-up a worker that does not learn never needs
        from channelpulse.streams.recommend_refresh import RecommenderRefresher

        refresher = RecommenderRefresher(settings, lake.flush)
        app.timer(interval=settings.recommender_refresh_s, on_leader=True)(refresher.tick)
        app.on_before_shutdown.connect(refresher.on_before_shutdown)  # type: ignore[arg-type]
    return app, parts
