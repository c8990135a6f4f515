"""The worker's tables on the configured store: RocksDB (the default) keeps a key-partitioned table's key in
the database of its changelog partition, and what it wrote is there when the store is opened again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faust.stores.memory import Store as MemoryStore
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.table_store import KeyPartitionedRocksDBStore
from tests.unit.streams.fakes import FakeScorer


def worker_tables(settings: Settings) -> tuple[Any, Any]:
    from channelpulse.streams.app import make_app

    app, runtime = make_app(settings, FakeScorer)
    return app, runtime


def test_the_default_store_is_rocksdb_under_the_state_dir(tmp_path: Path) -> None:
    app, runtime = worker_tables(Settings(state_dir=tmp_path))
    for table in (runtime.users, runtime.sensors, runtime.analytics):
        assert isinstance(table.data, KeyPartitionedRocksDBStore)
        assert table.data.path.is_relative_to(tmp_path / "faust")
    assert app.conf.table_standby_replicas == 1


def test_two_workers_of_one_host_keep_their_tables_apart(tmp_path: Path) -> None:
    """RocksDB locks its files: a second worker of the same app on the host (another web port) must not
    open the first one's databases; a restart (same port) opens its own again."""
    _, first = worker_tables(Settings(state_dir=tmp_path, worker_web_port=7001))
    _, second = worker_tables(Settings(state_dir=tmp_path, worker_web_port=7002))
    _, restarted = worker_tables(Settings(state_dir=tmp_path, worker_web_port=7001))
    assert first.users.data.path != second.users.data.path
    assert restarted.users.data.path == first.users.data.path


def test_memory_standbys_and_the_folder_are_settings(tmp_path: Path) -> None:
    app, runtime = worker_tables(Settings(state_dir=tmp_path, table_store="memory", table_standby_replicas=2))
    assert isinstance(runtime.users.data, MemoryStore)
    assert app.conf.table_standby_replicas == 2
    _, runtime = worker_tables(Settings(state_dir=tmp_path, table_dir=tmp_path / "worker-2"))
    assert runtime.users.data.path.is_relative_to(tmp_path / "worker-2")


def test_the_session_timeout_and_a_heartbeat_within_it_reach_the_consumer_group(tmp_path: Path) -> None:
    app, _ = worker_tables(
        Settings(state_dir=tmp_path, consumer_session_timeout_s=9.0, consumer_heartbeat_interval_s=1.5)
    )
    assert app.conf.broker_session_timeout == 9.0
    assert app.conf.broker_heartbeat_interval == 1.5
    with pytest.raises(ValueError, match="at most a third"):
        Settings(state_dir=tmp_path, consumer_session_timeout_s=6.0, consumer_heartbeat_interval_s=2.5)


def test_a_key_partitioned_key_goes_to_its_changelog_partition_and_survives_reopening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(state_dir=tmp_path)
    app, runtime = worker_tables(settings)
    changelog = runtime.users.changelog_topic.get_topic_name()
    partition_of = {b"user-a": 2, b"user-b": 0}
    # the producer's partitioner needs a broker's metadata; here it answers from the map
    monkeypatch.setattr(app.producer, "key_partition", lambda topic, key: TP(topic, partition_of[key]))
    store = runtime.users.data
    store[b"user-a"] = {"history": ["i1"]}
    store[b"user-b"] = {"history": ["i2"]}
    assert store._db_for_partition(2).get(b"user-a") is not None
    assert store._db_for_partition(0).get(b"user-a") is None
    assert store._db_for_partition(0).get(b"user-b") is not None
    assert store.partition_path(2).exists()
    store.set_persisted_offset(TP(changelog, 2), 41)
    for db in store._dbs.values():
        db.close()  # what the process exiting does: a restarted worker opens the files again
    _, again = worker_tables(settings)
    reopened = again.users.data
    reopened._db_for_partition(2)  # what assigning the partition opens
    assert reopened[b"user-a"] == {"history": ["i1"]}
    assert reopened.persisted_offset(TP(changelog, 2)) == 41  # recovery reads the changelog from 42 on


def test_a_rebalance_collects_garbage_only_where_it_closes_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faust's store runs a full gc.collect() (holding the GIL, so no heartbeat) for every table at every
    rebalance; ours only when the rebalance closes one of the table's databases, which it still closes."""
    import faust.stores.rocksdb

    _, runtime = worker_tables(Settings(state_dir=tmp_path))
    collections: list[int] = []
    monkeypatch.setattr(faust.stores.rocksdb.gc, "collect", lambda *a: collections.append(1) or 0)
    store = runtime.users.data
    changelog = runtime.users.changelog_topic.get_topic_name()
    store._db_for_partition(1)
    other = runtime.sensors.changelog_topic.get_topic_name()
    store.revoke_partitions(runtime.users, {TP(other, 1), TP(changelog, 3)})  # another table's; one never opened
    assert collections == [] and 1 in store._dbs
    store.revoke_partitions(runtime.users, {TP(changelog, 1)})
    assert collections == [1] and 1 not in store._dbs


def test_the_analytics_table_writes_a_partitions_state_to_that_partition_without_a_current_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its key is the observation partition it summarises; the agent writes it after a micro-batch, where
    Faust has no current event: the store entry and the changelog record still go to that partition."""
    _, runtime = worker_tables(Settings(state_dir=tmp_path))
    sent: list[tuple[int | None, bytes]] = []

    def send_soon(**kwargs: Any) -> Any:
        sent.append((kwargs["partition"], kwargs["key"]))

        class Sent:
            class message:  # what on_key_set reads of Faust's FutureMessage
                partition = kwargs["partition"]

        return Sent

    monkeypatch.setattr(runtime.analytics.changelog_topic, "send_soon", send_soon)
    runtime.analytics[b"3"] = {"next_offset": 7}
    store = runtime.analytics.data
    assert store._db_for_partition(3).get(b"3") is not None
    assert store._db_for_partition(0).get(b"3") is None
    assert sent == [(3, b"3")]
    assert runtime.analytics[b"3"] == {"next_offset": 7}
