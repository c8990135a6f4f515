"""Delivery on the in-memory transport (no broker: tests/unit/streams/fakes.py): a newly owned partition
starts at the group's commit or the earliest offset; a gap over offsets without records is stepped over,
one over records is sought back, and sought again once overdue; a failed batch is read again from done
(not the catalog's); a failed seek is logged, not raised; commits only move forward."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams import metrics
from channelpulse.streams.delivery import Verdict
from tests.unit.streams.fakes import Event, InMemoryWorker, event, no_sleep


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InMemoryWorker:
    monkeypatch.setattr("channelpulse.streams.partition_delivery.asyncio.sleep", no_sleep)
    return InMemoryWorker(Settings(state_dir=tmp_path))


def clicks(worker: InMemoryWorker, partition: int, offsets: range | list[int]) -> list[Event]:
    return [event(worker.settings.topic_clicks, partition, o, b"{}") for o in offsets]


def skipped(topic: str, reason: Verdict) -> float:
    return (
        metrics.REGISTRY.get_sample_value("channelpulse_events_skipped_total", {"topic": topic, "reason": reason.value})
        or 0.0
    )


async def test_a_newly_owned_partition_starts_at_the_groups_commit_or_the_earliest_offset(
    worker: InMemoryWorker,
) -> None:
    topic = worker.settings.topic_clicks
    committed, fresh, elsewhere = TP(topic, 0), TP(topic, 1), TP(topic, 2)
    worker.consumer.assigned.update({committed, fresh})  # partition 2 is another worker's
    worker.partition_log.commits[committed] = 5
    worker.consumer.earliest[fresh] = 3
    not_assigned = skipped(topic, Verdict.NOT_ASSIGNED)
    duplicates = skipped(topic, Verdict.DUPLICATE)

    kept = await worker.delivery.admit(clicks(worker, 0, range(4, 7)) + clicks(worker, 1, [3]) + clicks(worker, 2, [0]))

    assert [(e.message.partition, e.message.offset) for e in kept] == [(0, 5), (0, 6), (1, 3)]
    assert worker.delivery.ledger.assigned() == {committed, fresh}
    assert worker.delivery.ledger.next_offset(elsewhere) is None
    assert skipped(topic, Verdict.NOT_ASSIGNED) - not_assigned == 1
    assert skipped(topic, Verdict.DUPLICATE) - duplicates == 1  # offset 4: before the commit
    assert worker.consumer.seeks == []


async def test_a_gap_over_offsets_without_records_is_stepped_over(worker: InMemoryWorker) -> None:
    tp = TP(worker.settings.topic_clicks, 0)
    worker.own(tp, start=0)
    worker.partition_log.records[tp] = [0, 1, 5, 6]  # 2-4 compacted away (or transaction markers)

    kept = await worker.delivery.admit(clicks(worker, 0, [0, 1, 5, 6]))

    assert [e.message.offset for e in kept] == [0, 1, 5, 6]
    assert worker.partition_log.lookups == [(tp, 2)]
    assert worker.consumer.seeks == []
    for offset in (0, 1, 5, 6):
        worker.delivery.ledger.done(tp, offset)
    assert worker.delivery.ledger.to_commit() == {tp: 7}  # the empty stretch does not hold the commit back


async def test_a_gap_over_records_seeks_back_and_seeks_again_when_they_do_not_come(worker: InMemoryWorker) -> None:
    tp = TP(worker.settings.topic_clicks, 0)
    now = [100.0]
    worker.delivery.ledger.clock = lambda: now[0]
    worker.own(tp, start=0)
    worker.partition_log.records[tp] = [0, 1, 2, 3, 4]  # offsets 2 and 3 exist: the consumer skipped them

    kept = await worker.delivery.admit(clicks(worker, 0, [0, 1, 4]))
    assert [e.message.offset for e in kept] == [0, 1]
    assert worker.consumer.seeks == [{tp: 2}]
    assert await worker.delivery.admit(clicks(worker, 0, [4])) == []  # waiting for 2: skipped, it comes again

    await worker.delivery.seek_overdue()
    assert worker.consumer.seeks == [{tp: 2}]  # within the grace period
    now[0] += worker.delivery.ledger.grace_s
    await worker.delivery.seek_overdue()
    assert worker.consumer.seeks == [{tp: 2}, {tp: 2}]

    kept = await worker.delivery.admit(clicks(worker, 0, [2, 3, 4]))  # what the seek brings
    assert [e.message.offset for e in kept] == [2, 3, 4]


async def test_a_failed_seek_back_is_logged_and_the_partition_sought_again_later(worker: InMemoryWorker) -> None:
    tp = TP(worker.settings.topic_clicks, 0)
    now = [100.0]
    worker.delivery.ledger.clock = lambda: now[0]
    worker.own(tp, start=0)
    worker.partition_log.records[tp] = [0, 1, 2]
    worker.consumer.failing_seeks = 1  # revoked meanwhile, say

    assert await worker.delivery.admit(clicks(worker, 0, [2])) == []
    assert worker.consumer.seeks == []
    now[0] += worker.delivery.ledger.grace_s
    await worker.delivery.seek_overdue()
    assert worker.consumer.seeks == [{tp: 0}]


async def test_a_failed_batch_is_read_again_from_done_but_the_catalog_is_left_to_faust(
    worker: InMemoryWorker,
) -> None:
    tp = TP(worker.settings.topic_clicks, 0)
    worker.own(tp, start=0)
    batch = clicks(worker, 0, range(4))
    await worker.delivery.admit(batch)
    worker.delivery.mark_done(batch[:2])

    assert await worker.delivery.resume_from_done(batch) is True
    assert worker.consumer.seeks == [{tp: 2}]
    assert worker.delivery.ledger.next_offset(tp) == 2

    catalog = [event(worker.settings.topic_catalog, 0, 0, b"{}")]
    assert await worker.delivery.resume_from_done(catalog) is False
    assert worker.consumer.seeks == [{tp: 2}]


async def test_commits_move_only_forward_and_a_revoked_partition_is_committed_then_forgotten(
    worker: InMemoryWorker,
) -> None:
    tp, other = TP(worker.settings.topic_clicks, 0), TP(worker.settings.topic_clicks, 1)
    worker.own(tp, start=3)
    worker.own(other, start=0)
    await worker.delivery.commit_offsets()
    assert worker.committed == {}  # nothing done past the start

    batch = clicks(worker, 0, range(3, 6))
    worker.delivery.mark_done(await worker.delivery.admit(batch))
    await worker.delivery.commit_offsets()
    assert worker.committed == {tp: 6}
    assert worker.producer.log == ["flush", "commit"]
    await worker.delivery.commit_offsets()
    assert worker.producer.log == ["flush", "commit"]  # nothing new: no commit

    await worker.delivery.on_partitions_revoked(None, {tp})
    assert worker.delivery.ledger.assigned() == {other}
