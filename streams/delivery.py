"""The worker's own at-least-once bookkeeping for the input topics: which events to process, and
which offsets are safe to commit.

Why not Faust's: Faust commits an offset once the event is "acked", and it acks more than what an
agent finished. Across a rebalance it acks (and commits) events fetched under the previous
generation that no agent saw; it fills offset gaps in what it read as if they were acked; and it
can drop events it already read once, never delivering them again. Each of these lost events in
our SIGKILL test. So the input topics are declared with ``acks=False`` (Faust neither tracks nor
commits them) and this ledger decides instead, one partition at a time:

- it starts at the group's committed offset (or the partition's earliest one) when the partition
  is assigned;
- an event is processed only when it is the next offset (``PROCESS``); one already processed is
  skipped (``DUPLICATE``); one past the next offset means events were skipped on the way: the
  caller seeks the partition back to the next offset (``SEEK``) and the events after it are
  skipped until the missing ones arrive (``WAIT``);
- an offset that never arrives although the partition was sought back to it ``max_seeks`` times,
  ``grace_s`` apart, is missing from the log itself (a compacted or transactional topic): the
  ledger steps over it (``PROCESS`` of the next one) and counts the offsets in ``skipped_offsets``;
- only offsets whose outputs Kafka acknowledged (``done``) are ever committed (``to_commit``).

It knows nothing of Kafka clients: partitions are any hashable, offsets ints, time a clock.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P", bound=Hashable)  # a partition


class Verdict(enum.Enum):
    PROCESS = "process"
    DUPLICATE = "duplicate"  # processed already: skip
    SEEK = "seek"  # events before this one were skipped: seek back to ``next_offset`` and skip it
    WAIT = "wait"  # a seek back is under way: skip it, it will come again
    NOT_ASSIGNED = "not-assigned"  # another worker owns the partition now: skip it


@dataclass
class _Partition:
    done: int  # every offset below it is processed and its outputs acknowledged
    admitted: int  # the next offset to hand out for processing
    committed: int
    seek_target: int | None = None
    seeks: int = 0
    sought_at: float = 0.0
    holes: dict[int, int] = field(default_factory=dict)  # first missing offset -> the one after
    finished: set[int] = field(default_factory=set)  # done, but after an offset that is not

    def advance(self) -> None:
        while True:
            if self.done in self.holes:
                self.done = self.holes.pop(self.done)
            elif self.done in self.finished:
                self.finished.remove(self.done)
                self.done += 1
            else:
                return


class OffsetLedger(Generic[P]):
    def __init__(self, grace_s: float = 5.0, max_seeks: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_s = grace_s
        self.max_seeks = max_seeks
        self.clock = clock
        self._parts: dict[P, _Partition] = {}
        self.skipped_offsets = 0

    def assign(self, starts: Mapping[P, int]) -> None:
        """Partitions (re)assigned, each with the offset to start from (the committed one). A
        partition this ledger kept through the rebalance keeps its own, newer, position."""
        for tp, start in starts.items():
            part = self._parts.get(tp)
            if part is None:
                self._parts[tp] = _Partition(done=start, admitted=start, committed=start)
            else:
                # events handed out but not finished before the rebalance come again: process them
                part.admitted = part.done
                part.seek_target, part.seeks = None, 0

    def revoke(self, tps: Iterable[P]) -> None:
        for tp in tps:
            self._parts.pop(tp, None)

    def assigned(self) -> set[P]:
        return set(self._parts)

    def next_offset(self, tp: P) -> int | None:
        """The next offset to process on ``tp`` (None when not assigned)."""
        part = self._parts.get(tp)
        return None if part is None else part.admitted

    def admit(self, tp: P, offset: int) -> Verdict:
        """Decide about the event at ``offset``; call in the order events arrive."""
        part = self._parts.get(tp)
        if part is None:
            return Verdict.NOT_ASSIGNED
        if offset < part.admitted:
            return Verdict.DUPLICATE
        if offset > part.admitted:
            return self._ahead(tp, part, offset)
        part.admitted = offset + 1
        part.seek_target, part.seeks = None, 0
        return Verdict.PROCESS

    def _ahead(self, tp: P, part: _Partition, offset: int) -> Verdict:
        now = self.clock()
        if part.seek_target != part.admitted:
            part.seek_target, part.seeks, part.sought_at = part.admitted, 1, now
            return Verdict.SEEK
        if now - part.sought_at < self.grace_s:
            return Verdict.WAIT
        if part.seeks < self.max_seeks:
            part.seeks += 1
            part.sought_at = now
            return Verdict.SEEK
        missing = offset - part.admitted
        log.warning(
            "%s: offsets %d..%d never arrived after %d seeks; they are not in the log (compaction or "
            "transaction markers): going on from %d",
            tp, part.admitted, offset - 1, part.seeks, offset,
        )
        self.skipped_offsets += missing
        part.holes[part.admitted] = offset
        part.advance()
        part.admitted = offset + 1
        part.seek_target, part.seeks = None, 0
        return Verdict.PROCESS

    def done(self, tp: P, offset: int) -> None:
        """The event at ``offset`` is processed and its outputs acknowledged by Kafka."""
        part = self._parts.get(tp)
        if part is not None and offset >= part.done:
            part.finished.add(offset)
            part.advance()

    def to_commit(self) -> dict[P, int]:
        """Offsets to commit now: each partition's ``done`` where it moved since the last commit."""
        return {tp: p.done for tp, p in self._parts.items() if p.done > p.committed}

    def committed(self, offsets: Mapping[P, int]) -> None:
        for tp, offset in offsets.items():
            part = self._parts.get(tp)
            if part is not None:
                part.committed = max(part.committed, offset)
