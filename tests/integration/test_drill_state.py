"""Fault drill on the real stack (issue 12): the table state after a SIGKILL of the worker mid-stream is
a clean run's. The same events go through two workers, each with topics and a consumer group of its own:
one runs undisturbed, the other is killed (SIGKILL) while it works through them and restarted. The
tables are read back from their changelog topics (the last record per key, what a restarted worker
restores) and compared: the users' histories and purchases, and the channel analytics' counts (published
windows plus the windows still open), which must also equal the events published per channel and kind.

The analytics window is chosen so long that every event falls in one window that stays open through the
drill: the counts do not depend on when ticks close windows, only on what was counted.
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from channelpulse.config import Settings
from streams.kafka_io import ensure_topics, publish, read_topic
from streams.sample import SampleRecord, SampleStream
from streams.worker_process import WorkerProcess

N_EVENTS = 2_000
COUNT_KEYS = {"click": "clicks", "review": "reviews", "social": "social", "sensor": "sensors"}


def own_topics(settings: Settings, prefix: str, **updates: object) -> Settings:
    run = uuid.uuid4().hex[:6]
    topics = {f: f"{prefix}{run}.{getattr(settings, f)}" for f in Settings.model_fields if f.startswith("topic_")}
    return settings.model_copy(update={**topics, "app_id": f"{prefix}-{run}", **updates})


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(2.0)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}; log tail:\n{worker.log_tail()}")


def window_holding(first: datetime, last: datetime) -> float:
    """A window length (s) whose epoch-aligned window holds ``first`` .. ``last`` and ends hours later."""
    t0, t1 = first.timestamp(), last.timestamp()
    for length in (1_000_000.0 + 7_200.0 * j for j in range(1000)):
        start = t0 - t0 % length
        if t1 < start + length - 7_200.0:
            return length
    raise AssertionError("no window length found")


def table(settings: Settings, name: str) -> dict[bytes, Any]:
    """The last value per key on a table's changelog (deleted keys left out)."""
    state: dict[bytes, Any] = {}
    for record in read_topic(settings, f"{settings.app_id}-{name}-changelog", idle_timeout_s=5):
        if record.key is None:
            continue
        if record.value is None:
            state.pop(record.key, None)
        else:
            state[record.key] = json.loads(record.value)
    return state


def analytics_counts(settings: Settings) -> Counter[tuple[str, str]]:
    """(channel, count key) -> observations counted: in published windows (each window once: a replay
    may publish one again) and in the windows still open."""
    counts: Counter[tuple[str, str]] = Counter()
    published = {}
    for record in read_topic(settings, settings.topic_analytics, idle_timeout_s=3):
        window = json.loads(record.value or b"{}")
        published[(window["channel"], window["window_start"], window["window_end"])] = window["counts"]
    for (channel, _, _), window_counts in published.items():
        counts.update({(channel, k): n for k, n in window_counts.items() if n})
    for state in table(settings, "channel-analytics").values():
        for channel, windows in state["windows"]["open"].items():
            for tally in windows.values():
                counts.update({(channel, COUNT_KEYS[k]): n for k, n in tally["counts"].items() if n})
    return counts


def run(settings: Settings, records: list[SampleRecord], catalog: list[SampleRecord], name: str, kill: bool,
        expected: Counter[tuple[str, str]]) -> tuple[dict[bytes, Any], Counter[tuple[str, str]]]:
    """Publish ``records`` for a worker of its own, (killing it once mid-stream), wait until the analytics
    counted every event; the user-state table and the analytics counts."""
    ensure_topics(settings)
    publish(settings, settings.topic_catalog, [(r.key, r.value) for r in catalog])
    for topic in sorted({r.topic for r in records}):
        publish(settings, topic, [(r.key, r.value) for r in records if r.topic == topic])
    worker = WorkerProcess(settings, name=name)
    worker.start()
    try:
        if kill:
            wait_until(lambda: worker.metric("channelpulse_events_out_total") > N_EVENTS // 3, 300,
                       "a third of the outputs", worker)
            worker.kill(signal.SIGKILL)
            worker.start()
        wait_until(lambda: analytics_counts(settings) == expected, 400, "every event counted once", worker)
        if kill:
            print(f"state drill: analytics duplicates skipped after the restart: "
                  f"{worker.metric('channelpulse_analytics_duplicates_total'):.0f}")
        return table(settings, "user-state"), analytics_counts(settings)
    finally:
        worker.stop()


@pytest.mark.timeout(1200)
def test_table_state_after_a_sigkill_is_a_clean_runs(stack: Settings) -> None:
    sample = SampleStream(stack, seed=23, malformed_share=0.0, surge=None)
    catalog = sample.catalog_records()
    records = list(sample.records(N_EVENTS))
    bodies = [json.loads(r.value) for r in records]
    times = [datetime.fromisoformat(b["occurred_at"]) for b in bodies]
    length = window_holding(min(times), max(times))
    kinds = {stack.topic_clicks: "click", stack.topic_reviews: "review", stack.topic_social: "social",
             stack.topic_sensors: "sensor"}
    expected = Counter((b["channel"], COUNT_KEYS[kinds[r.topic]]) for r, b in zip(records, bodies, strict=True))
    updates = {"analytics_window_s": length, "batch_max_size": 32}

    def renamed(settings: Settings, rows: list[SampleRecord]) -> list[SampleRecord]:
        by_topic = {getattr(stack, f): getattr(settings, f) for f in Settings.model_fields if f.startswith("topic_")}
        return [SampleRecord(by_topic[r.topic], r.key, r.value, r.valid, r.event_id) for r in rows]

    clean = own_topics(stack, "state-clean", **updates)
    clean_users, clean_counts = run(clean, renamed(clean, records), renamed(clean, catalog), "clean-worker",
                                    kill=False, expected=expected)
    killed = own_topics(stack, "state-kill", **updates)
    killed_users, killed_counts = run(killed, renamed(killed, records), renamed(killed, catalog), "killed-worker",
                                      kill=True, expected=expected)

    assert killed_counts == clean_counts == expected
    assert len(clean_users) == len({r.key for r in records if r.topic == stack.topic_clicks})
    assert killed_users == clean_users  # histories and purchases, user by user

