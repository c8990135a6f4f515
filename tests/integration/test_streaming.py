"""The streaming core on the real stack: every input accounted for, through a SIGKILL of the worker,
and Prometheus (scraping the live worker) counting exactly what was published."""

from __future__ import annotations

import base64
import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pytest

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import Record, ensure_topics, publish, read_topic
from channelpulse.streams.sample import SampleRecord, SampleStream
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import snapshot
from tests.integration.promql import query, wait_for_query

N_EVENTS = 10_000


def settled_for_3s(settings: Settings, topic: str) -> Iterable[Record]:
    """The records on ``topic`` once it stayed quiet for 3 s: what an assertion reads."""
    return read_topic(settings, topic, idle_timeout_s=3)


def outputs_by_event(
    settings: Settings, topics: list[str], read: Callable[[Settings, str], Iterable[Record]] = settled_for_3s
) -> dict[str, set[str]]:
    """event_id -> the output topics it appears on, each topic read with ``read`` (a poll reads
    ``snapshot``: the records up to the end offsets now, no idle wait)."""
    seen: dict[str, set[str]] = {}
    for topic in topics:
        for rec in read(settings, topic):
            seen.setdefault(json.loads(rec.value or b"{}")["event_id"], set()).add(topic)
    return seen


def expected_topic(settings: Settings, record: SampleRecord) -> str:
    return {
        settings.topic_clicks: settings.topic_recommendations,
        settings.topic_reviews: settings.topic_sentiment,
        settings.topic_social: settings.topic_sentiment,
        settings.topic_sensors: settings.topic_anomalies,
    }[record.topic]


def deadletters(settings: Settings) -> list[dict[str, object]]:
    return [
        json.loads(r.value or b"{}")
        for r in read_topic(settings, settings.topic_deadletter, idle_timeout_s=3)
    ]


def wait_until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(2.0)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def worker(stack: Settings) -> Iterator[WorkerProcess]:
    ensure_topics(stack)
    proc = WorkerProcess(stack, name="worker")
    yield proc
    proc.stop()


@pytest.mark.timeout(1800)
def test_every_event_is_accounted_for_through_a_sigkill(stack: Settings, worker: WorkerProcess) -> None:
    sample = SampleStream(stack, seed=11, malformed_share=0.07)
    catalog = sample.catalog_records()
    records = list(sample.records(N_EVENTS))
    valid = [r for r in records if r.valid]
    invalid = [r for r in records if not r.valid]
    assert len(invalid) >= 0.05 * N_EVENTS
    assert len({r.value for r in invalid}) == len(invalid)
    kinds = Counter(r.topic for r in valid)
    assert len(kinds) == 4

    for topic in {r.topic for r in catalog}:
        publish(stack, topic, [(r.key, r.value) for r in catalog if r.topic == topic])
    half = len(records) // 2
    for topic in set(r.topic for r in records):
        publish(stack, topic, [(r.key, r.value) for r in records[:half] if r.topic == topic])

    worker.start()
    # Kill the worker hard once it has produced part of the first half, then restart it.
    wait_until(lambda: worker.metric("channelpulse_events_out_total") > 500, 240, "the first outputs")
    worker.kill(signal.SIGKILL)
    for topic in set(r.topic for r in records):
        publish(stack, topic, [(r.key, r.value) for r in records[half:] if r.topic == topic])
    worker.start()

    out_topics = [stack.topic_sentiment, stack.topic_recommendations, stack.topic_anomalies]
    wanted = {r.event_id for r in valid}
    try:
        wait_until(
            lambda: wanted <= set(outputs_by_event(stack, out_topics, snapshot)), 1500, "every valid event scored"
        )
    except AssertionError as exc:
        missing = wanted - set(outputs_by_event(stack, out_topics, snapshot))
        by_topic = Counter(r.topic for r in valid if r.event_id in missing)
        raise AssertionError(
            f"{exc}: {len(missing)} of {len(wanted)} unscored, by input topic {dict(by_topic)}; "
            f"worker running: {worker.running()}; log tail:\n{worker.log_tail()}"
        ) from exc

    seen = outputs_by_event(stack, out_topics)
    for r in valid:
        assert seen[r.event_id] == {expected_topic(stack, r)}, r.event_id

    letters = deadletters(stack)
    by_raw = {base64.b64decode(str(d["raw"])): d for d in letters}
    for r in invalid:
        assert r.value in by_raw, f"not dead-lettered: {r.value[:80]!r}"
        letter = by_raw[r.value]
        assert letter["source_topic"] == r.topic
        assert isinstance(letter["error"], str) and len(letter["error"]) > 10
    # nothing valid was dead-lettered
    assert not {base64.b64decode(str(d["raw"])) for d in letters} & {r.value for r in valid}


def test_prometheus_counts_match_what_was_published(stack: Settings, worker: WorkerProcess) -> None:
    if not worker.running():
        worker.start()
    wait_for_query(stack, 'up{job="channelpulse-workers"}', lambda v: v >= 1.0)
    # let the worker drain whatever is left from the previous test before taking the baseline
    wait_until(lambda: worker.metric_stable("channelpulse_events_in_total", 4.0), 300, "a quiet worker")
    time.sleep(3 * stack.prometheus_scrape_interval_s)
    metric_in = "sum(channelpulse_events_in_total)"
    metric_dl = "sum(channelpulse_events_deadlettered_total)"
    metric_out = f'sum(channelpulse_events_out_total{{topic="{stack.topic_sentiment}"}})'
    before = {m: query(stack, m) or 0.0 for m in (metric_in, metric_dl, metric_out)}

    sample = SampleStream(stack, seed=23, malformed_share=0.06)
    records = list(sample.records(1_000))
    for topic in set(r.topic for r in records):
        publish(stack, topic, [(r.key, r.value) for r in records if r.topic == topic])
    n_invalid = sum(not r.valid for r in records)
    n_text = sum(r.valid and r.topic in (stack.topic_reviews, stack.topic_social) for r in records)

    assert (
        wait_for_query(stack, metric_in, lambda v: v - before[metric_in] >= 1000, 240)
        == before[metric_in] + 1000
    )
    assert wait_for_query(stack, metric_dl, lambda v: v - before[metric_dl] >= n_invalid, 60) == (
        before[metric_dl] + n_invalid
    )
    assert wait_for_query(stack, metric_out, lambda v: v - before[metric_out] >= n_text, 120) == (
        before[metric_out] + n_text
    )
