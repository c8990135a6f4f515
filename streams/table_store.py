"""Where the worker's tables live (``CHANNELPULSE_TABLE_STORE``), and the one place that extends Faust's
RocksDB store (faust-streaming is pinned for it, pyproject.toml).

Faust's RocksDB store keeps one database per changelog partition and, on a write, picks the database of
the *current event's* partition. Our key-partitioned tables (``use_partitioner=True``: user state and
sensor state) are written after a micro-batch (``take_events``), where Faust sets no current event; their
changelog partition is the producer partitioner's choice for the key. :class:`KeyPartitionedRocksDBStore`
therefore writes such a key into the database of the changelog partition the producer picks for it, the
one recovery replays that partition into. The channel-analytics table (:class:`PartitionKeyedTable`) is
keyed by the number of the observation partition it summarises and also written after a micro-batch:
its changelog record and its database are that partition's.

Faust's ``revoke_partitions`` runs a full ``gc.collect()`` at every rebalance, for every table, even when
it closes no database: it holds the GIL for as long as a collection of the whole heap takes (0.8 s for the
worker's 160,000 objects on 2 loaded cores, three tables: 2.5 s per rebalance), so the consumer thread
sends no heartbeat meanwhile, and with a short session timeout the group drops the worker, which
rebalances again (seen in the join/leave drill: docs/ARCHITECTURE.md, Delivery). The store collects
only when it closed a database (what the collection is for: a closed RocksDB must release its lock),
and the worker freezes its start-up objects out of the collector (streams/worker.py).
"""

from __future__ import annotations

from typing import Any

from faust import Table
from faust.stores import STORES
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, CollectionT

from channelpulse.config import Settings

SCHEME = "channelpulse-rocksdb"
"""The store URL scheme of :class:`KeyPartitionedRocksDBStore` (registered with Faust's store registry)."""


class KeyPartitionedRocksDBStore(RocksDBStore):
    """Faust's RocksDB store, writing a key of a ``use_partitioner`` table into its changelog partition."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        if isinstance(self.table, PartitionKeyedTable):
            partition = self.table.partition_for_key(key)
        elif not self.table.use_partitioner:
            super()._set(key, value)
            return
        else:
            topic = self.table.changelog_topic.get_topic_name()
            partition = self.app.producer.key_partition(topic, key).partition
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    def revoke_partitions(self, table: CollectionT, tps: set[TP]) -> None:
        """Faust's, without its garbage collection when no database of this table is closed."""
        if any(tp.topic in table.changelog_topic.topics and tp.partition in self._dbs for tp in tps):
            super().revoke_partitions(table, tps)


class PartitionKeyedTable(Table):
    """A table whose key is the number of a source partition (``b"3"``), written by the agent that owns
    that partition: the changelog record of a key goes to that partition, and so does its store entry,
    with or without a current event (Faust's own choice for a table without ``use_partitioner``)."""

    def partition_for_key(self, key: Any) -> int:
        return int(key)


# mode's FactoryMapping resolves a URL scheme through its aliases; Faust has no other registration hook
# but setuptools entry points, which an editable checkout would need reinstalling for
STORES.aliases[SCHEME] = f"{__name__}:{KeyPartitionedRocksDBStore.__name__}"


def store_url(settings: Settings) -> str:
    """The Faust store URL of ``settings.table_store``."""
    return f"{SCHEME}://" if settings.table_store == "rocksdb" else "memory://"
