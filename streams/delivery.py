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
  skipped (``DUPLICATE``);
- an event past the next offset (``GAP``) means either that events were skipped on the way or
  that the offsets in between hold no record (compaction, transaction markers, retention). The
  caller looks at the log: if the first record from the next offset on is this event, it calls
  ``step_over`` and the event is processed; otherwise it seeks the partition back (``seeking``)
  and later events are skipped (``WAIT``) until the missing ones arrive; after ``grace_s`` without
  them the ledger answers ``GAP`` again, and ``overdue`` lists the partition for another seek;
- only offsets whose outputs Kafka acknowledged (``done``) are ever committed (``to_commit``);
- when processing a batch fails after its events were admitted, ``rewind`` hands the partition
  out again from ``done`` (the caller seeks back there), so ``done`` keeps moving and commits go on;
- ``commit_age`` is how long the committed offset has not moved (the caller reports it while the
  partition has lag).

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
    GAP = "gap"  # past the next offset: look at the log, then step over or seek back
    WAIT = "wait"  # a seek back is under way: skip it, it will come again
    NOT_ASSIGNED = "not-assigned"  # another worker owns the partition now: skip it


@dataclass
class _Partition:
    done: int  # every offset below it is processed and its outputs acknowledged
    admitted: int  # the next offset to hand out for processing
    committed: int
    committed_at: float  # when ``committed`` last moved (or the partition was assigned)
    sought: int | None = None  # the offset a seek back is under way to
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
    def __init__(self, grace_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_s = grace_s
        self.clock = clock
        self._parts: dict[P, _Partition] = {}

    def assign(self, starts: Mapping[P, int]) -> None:
        """Partitions newly owned, each with the offset to start from (the committed one). Every
        rebalance revokes all partitions first (``revoke``), so a partition kept through one starts
        again from what was committed on revocation."""
        now = self.clock()
        for tp, start in starts.items():
            self._parts[tp] = _Partition(done=start, admitted=start, committed=start, committed_at=now)

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
            if part.sought == part.admitted and self.clock() - part.sought_at < self.grace_s:
                return Verdict.WAIT
            return Verdict.GAP
        part.admitted = offset + 1
        part.sought = None
        return Verdict.PROCESS

    def seeking(self, tp: P) -> int:
        """The caller seeks ``tp`` back to the next offset (returned); skip events past it meanwhile."""
        part = self._parts[tp]
        part.sought, part.sought_at = part.admitted, self.clock()
        return part.admitted

    def overdue(self) -> list[P]:
        """Partitions sought back more than ``grace_s`` ago whose missing events have not come: the
        caller seeks them again (``seeking``), even if no later event arrives to notice it."""
        now = self.clock()
        return [
            tp for tp, p in self._parts.items()
            if p.sought == p.admitted and now - p.sought_at >= self.grace_s
        ]

    def step_over(self, tp: P, offset: int) -> None:
        """The log holds no record between the next offset and ``offset``: go on from ``offset``."""
        part = self._parts[tp]
        if offset <= part.admitted:
            return
        log.info("%s: offsets %d..%d hold no record; going on from %d", tp, part.admitted, offset - 1, offset)
        part.holes[part.admitted] = offset
        part.admitted = offset
        part.sought = None
        part.advance()

    def done(self, tp: P, offset: int) -> None:
        """The event at ``offset`` is processed and its outputs acknowledged by Kafka."""
        part = self._parts.get(tp)
        if part is not None and offset >= part.done:
            part.finished.add(offset)
            part.advance()

    def rewind(self, tp: P) -> int | None:
        """Processing of admitted events failed: hand ``tp`` out again from ``done`` (returned; None
        when not assigned). Events already done after a gap are forgotten and processed again."""
        part = self._parts.get(tp)
        if part is None:
            return None
        part.admitted = part.done
        part.finished.clear()
        part.holes.clear()
        part.sought = None
        return part.done

    def committed_offset(self, tp: P) -> int | None:
        part = self._parts.get(tp)
        return None if part is None else part.committed

    def commit_age(self, tp: P) -> float:
        """Seconds since ``tp``'s committed offset last moved (0 when not assigned)."""
        part = self._parts.get(tp)
        return 0.0 if part is None else self.clock() - part.committed_at

    def to_commit(self) -> dict[P, int]:
        """Offsets to commit now: each partition's ``done`` where it moved since the last commit."""
        return {tp: p.done for tp, p in self._parts.items() if p.done > p.committed}

    def committed(self, offsets: Mapping[P, int]) -> None:
        for tp, offset in offsets.items():
            part = self._parts.get(tp)
            if part is not None and offset > part.committed:
                part.committed, part.committed_at = offset, self.clock()
