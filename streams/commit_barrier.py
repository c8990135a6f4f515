"""The commit barrier: input offsets are committed only after the producer flushed everything the
events below them sent (outputs, dead letters, and the table changelog records Faust sends with
``send_soon``), as Faust's own commit does (``Consumer._commit_offsets``: ``producer.flush()``, then
``_commit``). A failed commit is retried, and never fatal: a rebalance answers ``False`` (the new
owner of the partitions reads them again from the last commit); any other error is retried with
backoff here and, if it persists, on the next commit (the offsets stay pending in the ledger).

:func:`faust_commit` is the one place that touches Faust's private consumer API (pinned in
pyproject.toml; tests/unit/streams/test_commit_barrier.py checks it against the installed Faust).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from faust.types import TP

from channelpulse.streams import metrics

log = logging.getLogger(__name__)

Commit = Callable[[Mapping[TP, int]], Awaitable[Mapping[TP, int]]]
"""Commits offsets; returns those committed (none when the group rebalanced meanwhile, only the
partitions still owned otherwise); raises on any other error."""

REBALANCE_ERRORS = (CommitFailedError, RebalanceInProgressError, IllegalGenerationError, UnknownMemberIdError)


class CommitBarrier:
    """Flush, then commit; retry a failed commit ``attempts`` times with exponential backoff."""

    def __init__(
        self,
        flush: Callable[[], Awaitable[None]],
        commit: Commit,
        attempts: int = 3,
        first_delay_s: float = 0.2,
    ) -> None:
        self.flush = flush
        self.commit_offsets = commit
        self.attempts = attempts
        self.first_delay_s = first_delay_s

    async def commit(self, offsets: Mapping[TP, int]) -> Mapping[TP, int]:
        """The offsets committed (empty when none could be: the caller keeps them pending)."""
        delay = self.first_delay_s
        for attempt in range(1, self.attempts + 1):
            try:
                await self.flush()
                committed = await self.commit_offsets(offsets)
                if not committed:
                    metrics.COMMIT_ERRORS.labels(reason="rebalance").inc()
                return committed
            except Exception as exc:  # broker down, coordinator moving, a producer error: try again
                metrics.COMMIT_ERRORS.labels(reason="error").inc()
                log.warning("commit of %d partitions failed (attempt %d/%d): %r", len(offsets), attempt,
                            self.attempts, exc)
                if attempt < self.attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
        return {}


def faust_commit(app: Any) -> Commit:
    """Commit offsets through the aiokafka consumer of ``app`` (it runs in Faust's consumer thread),
    without Faust's ``_commit``, which crashes the worker on any error but a rebalance."""

    async def commit(offsets: Mapping[TP, int]) -> Mapping[TP, int]:
        thread = app.consumer._thread  # faust.transport.drivers.aiokafka.AIOKafkaConsumerThread
        committed: Mapping[TP, int] = await thread.call_thread(_commit_in_consumer_thread, thread, offsets)
        return committed

    return commit


async def _commit_in_consumer_thread(thread: Any, offsets: Mapping[TP, int]) -> Mapping[TP, int]:
    assignment = thread.assignment()
    owned = {tp: offset for tp, offset in offsets.items() if tp in assignment}
    if not owned:
        return {}
    consumer = thread._ensure_consumer()
    try:
        await consumer.commit(
            {TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "") for tp, offset in owned.items()}
        )
    except REBALANCE_ERRORS as exc:
        log.info("commit skipped, the group rebalanced: %r", exc)
        return {}
    # what Faust's _commit records: its livelock detector warns about partitions not committed for long
    thread.tp_last_committed_at.update({tp: time.monotonic() for tp in owned})
    return owned
