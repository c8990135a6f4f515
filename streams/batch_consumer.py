"""The worker's Kafka consumer: Faust's aiokafka consumer, handing the guarded topics' records to the
agents a fetched partition at a time (streams/batch_inbox.py), and the one place that overrides Faust's
consumer internals (faust-streaming is pinned for it, pyproject.toml).

Why: Faust's fetcher (``Consumer._drain_messages``) delivers each record on its own through
``wait_first(callback(message), suspend_flow.wait())`` (per record two tasks, the stop and crash
waiters, an ``asyncio.wait``), the conductor's lock and the channel's queue, then the stream's
processors; that per-record machinery was about half of the worker's busy time in the profile
(docs/benchmarks.md). The guarded topics (inputs and observations) use none of Faust's acks
(``acks=False``; the ledger commits their offsets), so :class:`BatchConsumer` takes their records out of
each fetched record map (``_wait_next_records``, the step ``getmany`` calls before it yields records one
by one) and hands each partition's records to the inbox in one step; Faust's own loop goes on with what
is left (the catalog, erasure requests, the tables' changelogs) exactly as before.

What Faust's loop does per record and this does per fetched partition, as the pinned version does:
records of a partition that is neither active nor buffered are dropped (``getmany``: a partition paused
meanwhile, e.g. for a table recovery, is read again from its position when resumed); nothing is
delivered once the flow is suspended or the consumer generation changed since the fetch (a rebalance:
the partitions start again from the committed offsets, the ledger's); the delivery is abandoned when the
flow is suspended while it waits (``wait_first`` with ``suspend_flow``); the partition's end offset is
tracked for Faust's monitor. Not repeated: the read-offset filter of ``_drain_messages``, which drops a
record below the last one delivered on its partition, so that records read again after a seek back
raced with those fetched before it and were dropped (a partition stalled, seeking back every grace
period); the ledger skips what it processed already (``DUPLICATE``). tests/unit/streams/runtime/test_batch_consumer.py
runs this against the installed Faust.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.consumer import RecordMap
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport
from faust.types import TP

from channelpulse.streams.batch_inbox import BatchInbox, events_of

SCHEME = "channelpulse-kafka"
"""The broker URL scheme of :class:`BatchTransport` (registered with Faust's transport registry)."""

_INBOX = "_channelpulse_batch_inbox"


def use_inbox(app: Any, inbox: BatchInbox) -> None:
    """Let the consumer of ``app`` hand the records of the topics ``inbox`` handles to it."""
    setattr(app, _INBOX, inbox)


def consumer_url(bootstrap_servers: str) -> str:
    """The ``broker_consumer`` URL that makes Faust create a :class:`BatchConsumer`."""
    return f"{SCHEME}://{bootstrap_servers}"


class BatchConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer; the records of the inbox's topics go to the inbox, a partition at a time."""

    async def _wait_next_records(self, timeout: float) -> tuple[RecordMap | None, set[TP] | None]:
        records, active = await super()._wait_next_records(timeout)
        inbox: BatchInbox | None = getattr(self.app, _INBOX, None)
        if not records or inbox is None:
            return records, active
        batched = {tp: r for tp, r in records.items() if inbox.handles(tp.topic)}
        if not batched:
            return records, active
        rest = {tp: r for tp, r in records.items() if tp not in batched}
        if not self.should_stop:
            await self.wait_first(self._deliver(inbox, batched, active), self.suspend_flow.wait())
        return rest, active

    async def _deliver(self, inbox: BatchInbox, batched: Mapping[TP, list[Any]], active: set[TP] | None) -> None:
        app = self.app
        generation = app.consumer_generation_id
        to_message = self._to_message
        for tp, records in batched.items():
            if not self.flow_active or app.consumer_generation_id != generation:
                return
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue
            app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            await app.producer.buffer.wait_until_ebb()  # as Faust's conductor, per delivery
            events = events_of(app, [to_message(tp, r) for r in records])
            # the map's keys are aiokafka's TopicPartition; the fetch switches take Faust's TP only
            await inbox.deliver(TP(tp.topic, tp.partition), events, self)


class BatchTransport(AIOKafkaTransport):
    """Faust's aiokafka transport with :class:`BatchConsumer` as its consumer."""

    Consumer = BatchConsumer


TRANSPORTS.aliases[SCHEME] = f"{__name__}:{BatchTransport.__name__}"
