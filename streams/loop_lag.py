"""Event-loop lag: how late a periodic task wakes up on an asyncio loop, i.e. how long something held
that loop (a synchronous call, a CPU-bound step) or the process waited for a CPU.

A worker runs two loops that matter for the consumer group: its main loop (agents, timers, the
producer) and the loop of Faust's consumer thread, where aiokafka sends the group heartbeats. A
heartbeat is late by at least that loop's lag, so a member dropped for a missed session timeout
shows up here first (``channelpulse_event_loop_lag_seconds{loop="consumer"}``).

:func:`consumer_thread_loop` reads Faust's consumer thread (``app.consumer._thread``, a mode
``ServiceThread`` with its ``thread_loop``): Faust's private API, pinned with faust-streaming in
pyproject.toml and checked against the installed Faust in tests/unit/streams/test_loop_lag.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channelpulse.streams import metrics

log = logging.getLogger(__name__)

INTERVAL_S = 0.25
"""How often a probe wakes up (its resolution; the cost is one timer callback per interval)."""

REPORT_S = 1.0
"""A lag at least this long is also logged (a warning names the loop and the seconds)."""


class LoopLagProbe:
    """Sleeps ``interval_s`` again and again on the loop it runs on, and records how much later
    than asked each sleep ended (``channelpulse_event_loop_lag_seconds``, the longest in
    ``channelpulse_event_loop_lag_max_seconds``)."""

    def __init__(self, loop_name: str, interval_s: float = INTERVAL_S) -> None:
        self.loop_name = loop_name
        self.interval_s = interval_s
        self.longest_s = 0.0
        self._histogram = metrics.EVENT_LOOP_LAG.labels(loop=loop_name)
        self._longest = metrics.EVENT_LOOP_LAG_MAX.labels(loop=loop_name)

    def record(self, lag_s: float) -> None:
        self._histogram.observe(lag_s)
        if lag_s > self.longest_s:
            self.longest_s = lag_s
            self._longest.set(lag_s)
        if lag_s >= REPORT_S:
            log.warning("event loop %r was held for %.2fs", self.loop_name, lag_s)

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.record(max(0.0, loop.time() - asked))


def consumer_thread_loop(app: Any) -> asyncio.AbstractEventLoop | None:
    """The running event loop of ``app``'s consumer thread (where aiokafka heartbeats), or None while
    Faust has not started it."""
    thread = getattr(app.consumer, "_thread", None)
    loop: asyncio.AbstractEventLoop | None = getattr(thread, "thread_loop", None)
    return loop if loop is not None and loop.is_running() else None


async def probe_loops(app: Any, poll_s: float = 1.0) -> None:
    """Probe the calling (main) loop, and the consumer thread's loop once it runs (a Faust app task:
    it runs for the life of the worker)."""
    main = asyncio.ensure_future(LoopLagProbe("main").run())
    try:
        while (loop := consumer_thread_loop(app)) is None:
            await asyncio.sleep(poll_s)
        consumer = asyncio.run_coroutine_threadsafe(LoopLagProbe("consumer").run(), loop)
        try:
            await main
        finally:
            consumer.cancel()
    finally:
        main.cancel()
