"""Fault drill on the real stack (issue 12): the table state after a SIGKILL of the worker mid-stream is
a clean run's. The same events go through two workers, each with topics and a consumer group of its own:
one runs undisturbed, the other is killed (SIGKILL) while it works through them and restarted. The
tables are read back from their changelog topics (the last record per key, what a restarted worker
restores) and compared: the users' histories and purchases, the sensors' state (the anomaly detector's
state row, bit for bit, its episode tracker and the replay mark), and the channel analytics' counts
(published windows plus the windows still open), which must also equal the events published per channel
and kind.

The analytics window is chosen so long that every event falls in one window that stays open through the
drill: the counts do not depend on when ticks close windows, only on what was counted.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import Record, ensure_topics, publish
from channelpulse.streams.sample import SampleRecord, SampleStream
from tests.integration.drills import own_topics, running_worker, settled, snapshot, wait_until

Read = Callable[[Settings, str], list[Record]]

N_EVENTS = 2_000
COUNT_KEYS = {"click": "clicks", "review": "reviews", "social": "social", "sensor": "sensors"}


def window_holding(first: datetime, last: datetime) -> float:
    """A window length (s) whose epoch-aligned window holds ``first`` .. ``last`` and ends hours later."""
    t0, t1 = first.timestamp(), last.timestamp()
    for length in (1_000_000.0 + 7_200.0 * j for j in range(1000)):
        start = t0 - t0 % length
        if t1 < start + length - 7_200.0:
            return length
    raise AssertionError("no window length found")


def table(settings: Settings, name: str, read: Read = settled) -> dict[bytes, Any]:
    """The last value per key on a table's changelog (deleted keys left out), read with ``read``."""
    state: dict[bytes, Any] = {}
    for record in read(settings, f"{settings.app_id}-{name}-changelog"):
        if record.key is None:
            continue
        if record.value is None:
            state.pop(record.key, None)
        else:
            state[record.key] = json.loads(record.value)
    return state


def analytics_counts(settings: Settings, read: Read = settled) -> Counter[tuple[str, str]]:
    """(channel, count key) -> observations counted: in published windows (each window once: a replay
    may publish one again) and in the windows still open; topics read with ``read``."""
    counts: Counter[tuple[str, str]] = Counter()
    published = {}
    for record in read(settings, settings.topic_analytics):
        window = json.loads(record.value or b"{}")
        published[(window["channel"], window["window_start"], window["window_end"])] = window["counts"]
    for (channel, _, _), window_counts in published.items():
        counts.update({(channel, k): n for k, n in window_counts.items() if n})
    for state in table(settings, "channel-analytics", read).values():
        for channel, windows in state["windows"]["open"].items():
            for tally in windows.values():
                counts.update({(channel, COUNT_KEYS[k]): n for k, n in tally["counts"].items() if n})
    return counts


def published(settings: Settings, records: list[SampleRecord], catalog: list[SampleRecord]) -> Settings:
    """Publish the catalog and ``records`` on ``settings``' own topics; returns ``settings``."""
    ensure_topics(settings)
    publish(settings, settings.topic_catalog, [(r.key, r.value) for r in catalog])
    for topic in sorted({r.topic for r in records}):
        publish(settings, topic, [(r.key, r.value) for r in records if r.topic == topic])
    return settings


Tables = tuple[dict[bytes, Any], dict[bytes, Any], Counter[tuple[str, str]]]


def final_tables(settings: Settings) -> Tables:
    """The user-state and sensor-windows tables and the analytics counts, read once the topics stayed
    quiet for 5 s."""

    def read(s: Settings, topic: str) -> list[Record]:
        return settled(s, topic, idle_s=5.0)

    users, sensors = (table(settings, name, read) for name in ("user-state", "sensor-windows"))
    return users, sensors, analytics_counts(settings, read)


def differing(killed: dict[bytes, Any], clean: dict[bytes, Any]) -> list[str]:
    """The keys whose value differs between the runs (at most 5, with both values shortened)."""
    keys = sorted(k for k in killed.keys() | clean.keys() if killed.get(k) != clean.get(k))
    return [f"{k!r}: killed {str(killed.get(k))[:160]} clean {str(clean.get(k))[:160]}" for k in keys[:5]]


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

    # the two runs side by side: each has its own topics and consumer group, so neither disturbs the other
    runs = [own_topics(stack, prefix, **updates) for prefix in ("state-clean", "state-kill")]
    clean, killed = (published(s, renamed(s, records), renamed(s, catalog)) for s in runs)
    with running_worker(clean, "clean-worker") as clean_worker, running_worker(killed, "killed-worker") as worker:
        wait_until(lambda: worker.metric("channelpulse_events_out_total") > N_EVENTS // 3, 300,
                   "a third of the outputs", worker)
        worker.kill(signal.SIGKILL)
        worker.start()
        restarted = time.monotonic()
        wait_until(lambda: analytics_counts(killed, snapshot) == expected, 400, "every event counted once", worker)
        print(f"state drill: every event counted {time.monotonic() - restarted:.1f}s after the restart; analytics "
              f"duplicates skipped: {worker.metric('channelpulse_analytics_duplicates_total'):.0f}")
        wait_until(lambda: analytics_counts(clean, snapshot) == expected, 400, "every event counted once (clean)",
                   clean_worker)
        killed_users, killed_sensors, killed_counts = final_tables(killed)
        clean_users, clean_sensors, clean_counts = final_tables(clean)

    assert killed_counts == clean_counts == expected
    assert len(clean_users) == len({r.key for r in records if r.topic == stack.topic_clicks})
    assert killed_users == clean_users, differing(killed_users, clean_users)  # histories and purchases
    assert len(clean_sensors) == len({r.key for r in records if r.topic == stack.topic_sensors})
    assert all(s["state"] for s in clean_sensors.values())  # every sensor's detector learned something
    # detector rows (base64 of the float64 bytes: bit for bit), episodes and replay marks, sensor by sensor
    assert killed_sensors == clean_sensors, differing(killed_sensors, clean_sensors)

