"""The offset ledger's use by the agents (streams/delivery.py): which events of a batch to process,
closing gaps and seeking back, reading again what Faust dropped from the agents' buffers, marking
done what Kafka acknowledged, committing behind the producer's flush (streams/commit_barrier.py)
and the lake's writes (streams/lake/commit_hold.py), and the rebalance and shutdown callbacks.

It takes the consumer and the log through small protocols (:class:`Consumer`, :class:`PartitionLog`:
streams/partition_log.py is Kafka's) and the commit barrier, not the Faust app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from faust.types import TP, EventT

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.acks_in_flight import AcksInFlight
from channelpulse.streams.commit_barrier import CommitBarrier
from channelpulse.streams.delivery import OffsetLedger, Verdict
from channelpulse.streams.lake.commit_hold import LakeCommitHold
from channelpulse.streams.lake.writer import LakeWriter

log = logging.getLogger(__name__)

SETTLE_ACKS_S = 5.0
"""The longest a revocation or shutdown waits for the acknowledgements of batches sent before it commits."""


class Consumer(Protocol):
    """What delivery uses of Faust's consumer."""

    def assignment(self) -> set[TP]: ...

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None: ...

    async def earliest_offsets(self, *partitions: TP) -> Mapping[TP, int]: ...


class PartitionLog(Protocol):
    """What delivery looks up beside the consumer; both calls block (delivery runs them in an executor)."""

    def committed(self, tps: Collection[TP]) -> Mapping[TP, int]:
        """The group's committed offset of each of ``tps`` that has one."""
        ...

    def first_offset_from(self, tp: TP, offset: int) -> int | None:
        """The offset of the first record at or after ``offset`` in the partition's log (None: none yet)."""
        ...


class PartitionDelivery:
    """At-least-once delivery of the guarded topics (the input topics and the observations), one
    partition at a time, through the offset ledger."""

    def __init__(
        self,
        settings: Settings,
        consumer: Callable[[], Consumer],
        partition_log: PartitionLog,
        barrier: CommitBarrier,
        lake: LakeWriter,
    ) -> None:
        self.settings = settings
        self._consumer = consumer  # Faust creates its consumer on first use
        self.partition_log = partition_log
        self.barrier = barrier
        self.lake = lake
        self.guarded_topics = frozenset((*settings.input_topics, settings.topic_observations))
        self.ledger: OffsetLedger[TP] = OffsetLedger()
        self.lake_hold: LakeCommitHold[TP] = LakeCommitHold()
        self.acks = AcksInFlight(self.mark_done, self.resume_from_done)
        self.pending_rereads: set[asyncio.Task[None]] = set()

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

    async def admit(self, events: Sequence[EventT]) -> list[EventT]:
        """The events of a batch the ledger lets through (streams/delivery.py); where an event comes
        past the next offset, looks at the log and steps over an empty stretch or seeks back."""
        new = {e.message.tp for e in events} - self.ledger.assigned()
        if new:  # the consumer's assignment is a set built per call: only asked for when needed
            owned = new & self._consumer().assignment()
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
        first = await loop.run_in_executor(None, self.partition_log.first_offset_from, tp, expected)
        if first is not None and first >= offset:
            self.ledger.step_over(tp, offset)  # no record in between: compaction, markers, retention
            return self.ledger.admit(tp, offset)
        log.warning("%s: offset %d came before %d, which is in the log: reading again from it", tp, offset, expected)
        await self.seek_back(tp)
        return Verdict.GAP

    async def seek_back(self, tp: TP) -> None:
        target = self.ledger.seeking(tp)
        try:
            await self._consumer().seek_wait({tp: target})
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
            owned = {tp for tp in self._consumer().assignment() if tp.topic in self.guarded_topics}
            new = owned - self.ledger.assigned()
            if new:
                await self.assign(new)
            targets = {tp: o for tp in sorted(owned) if (o := self.ledger.next_offset(tp)) is not None}
            if targets:
                await self._consumer().seek_wait(targets)
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
        starts = dict(await loop.run_in_executor(None, self.partition_log.committed, tps))
        missing = tps - set(starts)
        if missing:
            starts.update(await self._consumer().earliest_offsets(*missing))
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
        await self.commit_all()
        self.ledger.revoke(args[0])
        self.lake_hold.revoke(args[0])

    async def on_before_shutdown(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        await self.commit_all()
