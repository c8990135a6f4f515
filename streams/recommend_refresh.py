"""The recommender learns from the stream: the leader worker's timer runs one refresh
(streams/recommend_learning.py) every ``CHANNELPULSE_RECOMMENDER_REFRESH_S`` seconds on the clicks
the workers filed in the event lake and the catalog read from its compacted topic.

A refresh runs in a child process (spawned once, niced), so fitting never holds the worker's
event loop or its GIL; the worker only flushes its lake buffer first and logs the outcome. Fitting
needs torch (the `channelpulse[train]` extra); a worker installed without it serves the current
version and says once that it does not learn.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any

from channelpulse.config import Settings

log = logging.getLogger(__name__)

REFRESH_NICE = 5


def refresh_in_child(settings: Settings) -> dict[str, Any]:
    """What the child process runs; the learning code (and torch) is imported there only."""
    from channelpulse.streams.recommend_learning import refresh_once

    return refresh_once(settings)


class RecommenderRefresher:
    """The worker side: ``tick()`` (a leader-only Faust timer) flushes the lake, runs
    :func:`refresh_in_child` in the child process and logs what it did; shutdown terminates the child.
    Without torch installed it never starts the child: it logs once that this worker does not learn."""

    def __init__(self, settings: Settings, flush_lake: Callable[[], object]) -> None:
        self.settings = settings
        self.flush_lake = flush_lake
        self._pool: Pool | None = None
        self.last: dict[str, Any] | None = None
        self.can_learn = importlib.util.find_spec("torch") is not None
        if not self.can_learn:
            log.warning(
                "recommender learning is off in this worker: fitting needs torch (pip install 'channelpulse[train]'); "
                "CHANNELPULSE_RECOMMENDER_REFRESH_S=0 turns it off explicitly"
            )

    def pool(self) -> Pool:
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(1, initializer=os.nice, initargs=(REFRESH_NICE,))
        return self._pool

    async def tick(self) -> None:
        if not self.can_learn:
            return
        self.flush_lake()
        pool = self.pool()
        try:
            self.last = await asyncio.to_thread(pool.apply, refresh_in_child, (self.settings,))
        except Exception:  # a failed refresh leaves the serving version; the next tick tries again
            log.exception("recommender refresh failed")
            return
        print(
            f"[worker] recommender refresh: {self.last['action']} ({self.last['detail']}); "
            f"serving version {self.last['version']} ({self.last['seconds']:.1f}s)",
            flush=True,
        )

    async def on_before_shutdown(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
