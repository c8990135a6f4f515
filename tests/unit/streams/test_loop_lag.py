"""Event-loop lag: a probe records how long its loop was held, on the main loop and on a loop running
in another thread (Faust's consumer thread, whose private attribute is checked against the installed
Faust)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import faust
import pytest
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from channelpulse.streams import metrics
from channelpulse.streams.loop_lag import LoopLagProbe, consumer_thread_loop, probe_loops

pytestmark = pytest.mark.unit


def lag_count(loop: str, le: str) -> float:
    """Observations of the loop's lag at most ``le`` seconds (the histogram's bucket)."""
    value = metrics.REGISTRY.get_sample_value("channelpulse_event_loop_lag_seconds_bucket", {"loop": loop, "le": le})
    return value or 0.0


def test_a_blocked_loop_shows_as_lag() -> None:
    probe = LoopLagProbe("test-blocked", interval_s=0.02)

    async def main() -> None:
        task = asyncio.ensure_future(probe.run())
        await asyncio.sleep(0.1)  # a few quiet intervals
        time.sleep(0.6)  # a synchronous call holding the loop
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(main())
    assert 0.5 <= probe.longest_s < 2.0
    assert (
        metrics.REGISTRY.get_sample_value("channelpulse_event_loop_lag_max_seconds", {"loop": "test-blocked"})
        == probe.longest_s
    )
    total = lag_count("test-blocked", "+Inf")
    assert total >= 5
    assert total - lag_count("test-blocked", "0.5") == 1  # one sleep ended that late, the others on time


def test_a_quiet_loop_shows_no_lag() -> None:
    probe = LoopLagProbe("test-quiet", interval_s=0.02)

    async def main() -> None:
        task = asyncio.ensure_future(probe.run())
        await asyncio.sleep(0.3)
        task.cancel()

    asyncio.run(main())
    assert lag_count("test-quiet", "+Inf") >= 5
    assert probe.longest_s < 0.25


def test_the_consumer_thread_loop_is_probed_once_it_runs() -> None:
    thread_loop = asyncio.new_event_loop()
    runner = threading.Thread(target=thread_loop.run_forever, daemon=True)
    app = SimpleNamespace(consumer=SimpleNamespace(_thread=SimpleNamespace(thread_loop=thread_loop)))
    before = lag_count("consumer", "+Inf")

    async def main() -> None:
        task = asyncio.ensure_future(probe_loops(app, poll_s=0.05))
        await asyncio.sleep(0.2)
        assert lag_count("consumer", "+Inf") == before  # the thread's loop does not run yet
        runner.start()
        await asyncio.sleep(1.0)
        task.cancel()

    try:
        asyncio.run(main())
        assert lag_count("consumer", "+Inf") > before
    finally:
        time.sleep(0.2)  # the probe's cancellation reaches the thread's loop
        thread_loop.call_soon_threadsafe(thread_loop.stop)
        runner.join(timeout=5)
        thread_loop.close()


def test_faust_consumer_thread_has_the_loop_the_probe_reads() -> None:
    app = faust.App("loop-lag-test", broker="kafka://localhost:1")
    thread = AIOKafkaConsumerThread(app.consumer)
    assert isinstance(thread.thread_loop, asyncio.AbstractEventLoop)
    assert hasattr(app.consumer, "_thread")  # the consumer delegates to that thread
    assert consumer_thread_loop(app) is None  # created, not running: nothing to probe yet
    thread.thread_loop.close()
