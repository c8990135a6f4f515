"""Commits held back until the lake has the rows of the events below them.

The processing steps buffer lake rows in the :class:`~channelpulse.streams.lake.writer.LakeWriter`, which writes them
in batches (``CHANNELPULSE_LAKE_FLUSH_ROWS`` / ``_SECONDS``). An input offset may be committed only once
the rows of every event below it are on disk; otherwise a crash after the commit loses them (the
events are not read again). The scoring agents record, for each processed batch that buffered rows, the
batch's first offset per partition and the lake generation its rows belong to (``hold``); ``cap``
lowers the offsets to commit to the first event of a generation not yet durable. Knows nothing of
Kafka: partitions are any hashable, offsets and generations ints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


class LakeCommitHold(Generic[P]):
    def __init__(self) -> None:
        self._held: dict[P, deque[tuple[int, int]]] = {}  # (first offset, generation), in offset order

    def hold(self, tp: P, first_offset: int, generation: int) -> None:
        """Events of ``tp`` from ``first_offset`` on have rows in lake generation ``generation`` (or earlier)."""
        self._held.setdefault(tp, deque()).append((first_offset, generation))

    def cap(self, offsets: Mapping[P, int], durable_generation: int) -> dict[P, int]:
        """``offsets`` lowered, per partition, to the first event whose lake rows are not durable yet
        (generations below ``durable_generation`` are)."""
        capped = dict(offsets)
        for tp in list(self._held):
            held = self._held[tp]
            while held and held[0][1] < durable_generation:
                held.popleft()
            if not held:
                del self._held[tp]
            elif tp in capped:
                capped[tp] = min(capped[tp], held[0][0])
        return capped

    def revoke(self, tps: Iterable[P]) -> None:
        for tp in tps:
            self._held.pop(tp, None)
