"""Records read again after a seek back must reach the agents.

Faust's consumer drops a fetched record whose offset is below the last one it delivered on its
partition (``Consumer._drain_messages``: it passes a record only if ``offset >= _read_offset[tp]``).
A seek back (streams/partition_delivery.py, when the ledger finds events skipped) races with that: records
fetched before the seek are still being delivered after it, raise ``_read_offset`` again, and the
records read again from the seek position are then dropped, so the ledger waits for them forever
(seen under load on a slow agent: the partition stalled, seeking back every grace period).

For the guarded topics the ledger already skips what was processed (``DUPLICATE``), so Faust's
filter is not needed there: :func:`deliver_rereads` makes ``_read_offset`` answer ``None`` (no
filter) for them. ``_drain_messages`` binds the map when the fetcher starts, which Faust does after
each assignment's recovery; so it is installed on every assignment, before that. This is the one
place touching ``Consumer._read_offset`` (faust-streaming is pinned; tests/unit/streams/runtime
checks the installed Faust still reads it that way).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from faust.types import TP


class ReadOffsets(defaultdict[TP, "int | None"]):
    """Faust's read offsets, except that partitions of ``unfiltered`` topics read as None."""

    def __init__(self, unfiltered: Iterable[str], current: dict[TP, int | None]) -> None:
        super().__init__(lambda: None, current)
        self.unfiltered = frozenset(unfiltered)

    def __getitem__(self, tp: TP) -> int | None:
        if tp.topic in self.unfiltered:
            return None
        return super().__getitem__(tp)


def deliver_rereads(consumer: Any, topics: Iterable[str]) -> None:
    """Let every fetched record of ``topics`` through Faust's consumer (idempotent)."""
    current = consumer._read_offset
    if not isinstance(current, ReadOffsets):
        consumer._read_offset = ReadOffsets(topics, current)
