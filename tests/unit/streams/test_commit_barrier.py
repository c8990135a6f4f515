"""The commit barrier: the producer is flushed before offsets are committed, a failed commit is
retried and never fatal, and the private Faust API it wraps is the one the installed Faust has."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import faust
from aiokafka.errors import KafkaConnectionError
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from channelpulse.streams import metrics
from channelpulse.streams.commit_barrier import CommitBarrier, _commit_in_consumer_thread, faust_commit

P0, P1 = TP("events.clicks", 0), TP("events.clicks", 1)


class FakeKafka:
    """Records flushes and commits in order; the first ``fail`` commits raise."""

    def __init__(self, fail: int = 0, rebalanced: bool = False) -> None:
        self.log: list[str] = []
        self.fail = fail
        self.rebalanced = rebalanced
        self.flush_fails = False

    async def flush(self) -> None:
        if self.flush_fails:
            raise RuntimeError("producer broken")
        self.log.append("flush")

    async def commit(self, offsets: Mapping[TP, int]) -> Mapping[TP, int]:
        if self.fail > 0:
            self.fail -= 1
            self.log.append("commit-error")
            raise KafkaConnectionError("broker went away")
        if self.rebalanced:
            return {}
        self.log.append(f"commit {sorted(offsets.values())}")
        return dict(offsets)


def errors(reason: str) -> float:
    return metrics.REGISTRY.get_sample_value("channelpulse_commit_errors_total", {"reason": reason}) or 0.0


async def test_the_producer_is_flushed_before_the_offsets_are_committed() -> None:
    kafka = FakeKafka()
    barrier = CommitBarrier(kafka.flush, kafka.commit, first_delay_s=0.001)
    assert await barrier.commit({P0: 5, P1: 7}) == {P0: 5, P1: 7}
    assert kafka.log == ["flush", "commit [5, 7]"]


async def test_a_commit_error_is_retried_not_fatal() -> None:
    kafka = FakeKafka(fail=2)
    before = errors("error")
    barrier = CommitBarrier(kafka.flush, kafka.commit, attempts=3, first_delay_s=0.001)
    assert await barrier.commit({P0: 5}) == {P0: 5}
    assert kafka.log == ["flush", "commit-error", "flush", "commit-error", "flush", "commit [5]"]
    assert errors("error") - before == 2


async def test_a_commit_that_keeps_failing_leaves_the_offsets_pending() -> None:
    kafka = FakeKafka(fail=10)
    barrier = CommitBarrier(kafka.flush, kafka.commit, attempts=3, first_delay_s=0.001)
    assert await barrier.commit({P0: 5}) == {}  # nothing raised: the next commit tries again
    kafka.fail = 0
    assert await barrier.commit({P0: 5}) == {P0: 5}


async def test_nothing_is_committed_when_the_flush_fails() -> None:
    kafka = FakeKafka()
    kafka.flush_fails = True
    barrier = CommitBarrier(kafka.flush, kafka.commit, attempts=2, first_delay_s=0.001)
    assert await barrier.commit({P0: 5}) == {}
    assert kafka.log == []


async def test_a_rebalance_commits_nothing_and_is_not_retried() -> None:
    kafka = FakeKafka(rebalanced=True)
    before = errors("rebalance")
    barrier = CommitBarrier(kafka.flush, kafka.commit, first_delay_s=0.001)
    assert await barrier.commit({P0: 5}) == {}
    assert kafka.log == ["flush"]
    assert errors("rebalance") - before == 1


class FakeAioConsumer:
    def __init__(self) -> None:
        self.committed: dict[object, int] = {}

    async def commit(self, offsets: Mapping[object, object]) -> None:
        self.committed.update({tp: meta.offset for tp, meta in offsets.items()})  # type: ignore[attr-defined]


class FakeConsumerThread:
    """What _commit_in_consumer_thread uses of AIOKafkaConsumerThread."""

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.consumer = FakeAioConsumer()
        self.tp_last_committed_at: dict[TP, float] = {}

    def assignment(self) -> set[TP]:
        return self.assigned

    def _ensure_consumer(self) -> FakeAioConsumer:
        return self.consumer


async def test_only_partitions_still_assigned_are_committed() -> None:
    thread = FakeConsumerThread({P0})
    assert await _commit_in_consumer_thread(thread, {P0: 3, P1: 9}) == {P0: 3}
    assert [(tp.topic, tp.partition, off) for tp, off in thread.consumer.committed.items()] == [
        ("events.clicks", 0, 3)
    ]
    assert set(thread.tp_last_committed_at) == {P0}


def test_the_private_faust_api_the_barrier_uses_is_there() -> None:
    """faust-streaming is pinned; this fails on a Faust whose consumer thread changed shape."""
    for name in ("call_thread", "assignment", "_ensure_consumer"):
        assert callable(getattr(AIOKafkaConsumerThread, name)), name
    app = faust.App("barrier-api-check", broker="kafka://127.0.0.1:1", web_enabled=False)
    thread = app.consumer._thread  # type: ignore[attr-defined]
    assert isinstance(thread, AIOKafkaConsumerThread)
    assert isinstance(thread.tp_last_committed_at, dict)
    assert "producer.flush()" in inspect.getsource(type(app.consumer)._commit_offsets)  # the barrier we copy
    assert callable(faust_commit(app))
