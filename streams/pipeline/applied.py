"""Replay marks on per-key table state: which input a stored value already holds.

A keyed state (a user's history, a sensor's detector) is stored before its input offset is committed,
so a worker that crashes in between reads those inputs again. The stored value therefore also holds
``applied``: the partition and the next input offset of the last event it took in. An event of that
partition below the mark was applied already and must not change the state again; an event from
another partition (a producer that keyed it differently) is taken as new.

A replayed event still writes its key's stored value again, unchanged: with a durable local store
(RocksDB, streams/table_store.py) a crash after the local write but before its changelog record reached
the broker leaves the local value ahead of the changelog, and the replay is what puts it there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channelpulse.streams.pipeline.records import RawRecord

APPLIED = "applied"
"""The key of the replay mark, ``[partition, next offset]``, in a stored table value."""

Mark = list[int] | None


def mark_of(stored: Mapping[str, Any] | None) -> Mark:
    """The replay mark of a stored table value (None: no mark, nothing is a replay)."""
    return None if stored is None else stored.get(APPLIED)


def replayed(record: RawRecord, mark: Mark) -> bool:
    """Whether ``record`` was already applied to the state that carries ``mark``."""
    return mark is not None and record.partition == mark[0] and record.offset < mark[1]


def marked(value: dict[str, Any], last: RawRecord) -> dict[str, Any]:
    """``value`` with the mark of having applied every input up to and including ``last``."""
    return {**value, APPLIED: [last.partition, last.offset + 1]}
