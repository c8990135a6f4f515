"""Batches whose outputs are sent but not yet acknowledged by Kafka.

An agent sends a batch's outputs (streams/outputs.py, ``OutputProducer.send``) and goes on with its next
batch while Kafka acknowledges them; a batch's events are done (``done``, the offset ledger's
streams/delivery.py) only once every output of it was acknowledged, and the commit barrier flushes the
producer before it commits (streams/commit_barrier.py). When an acknowledgement fails, ``failed`` gets
the batch's events (delivery rewinds their partitions to the last done offset and reads them again).
Each agent has at most ``limit`` batches unacknowledged: the next one waits for the oldest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

UNACKED_BATCHES = 4
"""Batches an agent may have sent and not yet had acknowledged."""


class AcksInFlight:
    def __init__(
        self,
        done: Callable[[Sequence[Any]], None],
        failed: Callable[[Sequence[Any]], Awaitable[Any]],
        limit: int = UNACKED_BATCHES,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.done = done
        self.failed = failed
        self.limit = limit
        self._queues: dict[str, deque[asyncio.Future[None]]] = {}

    async def add(self, agent: str, acked: Awaitable[None], events: Sequence[Any]) -> None:
        """Track a batch of ``agent`` whose outputs ``acked`` acknowledges; returns at once unless the
        agent has ``limit`` batches unacknowledged already (then once the oldest is)."""
        queue = self._queues.setdefault(agent, deque())
        queue.append(asyncio.ensure_future(self._finish(acked, events)))
        while queue and (len(queue) > self.limit or queue[0].done()):
            await queue.popleft()

    def unacked(self, agent: str) -> int:
        return sum(1 for task in self._queues.get(agent, ()) if not task.done())

    async def settle(self, timeout_s: float | None = None, agent: str | None = None) -> None:
        """Wait (at most ``timeout_s``) until every batch sent so far (of ``agent``, or of all) is done or
        handed to ``failed``."""
        queues = [self._queues.get(agent, deque())] if agent is not None else list(self._queues.values())
        tasks = [task for queue in queues for task in queue if not task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)

    async def _finish(self, acked: Awaitable[None], events: Sequence[Any]) -> None:
        try:
            await acked
        except Exception:  # a produce Kafka refused: read the batch again, never skip it
            log.exception("the outputs of a batch of %d events were not acknowledged", len(events))
            await self.failed(events)
            return
        self.done(events)
