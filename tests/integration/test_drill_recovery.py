"""Recovery drills (issue 12, items 2 and 5) on the drills' own broker and Triton (``drill_stack``), so
that killing them disturbs no other test: a steady stream of reviews through one worker (the same one
for both drills, as a service in production lives through one outage after another) while

- Triton is killed (SIGKILL) mid-stream and started again ``TRITON_DOWN_S`` later;
- the broker is killed (SIGKILL) mid-stream and started again ``BROKER_DOWN_S`` later.

Each drill measures the time from the service being ready again to the worker's first new output
(``channelpulse_events_out_total`` of the sentiment topic, counted once Kafka acknowledged the record),
asserts it within ``RECOVERY_TARGET_S``, and asserts that every event published reaches the sentiment
topic and none is dead-lettered (all are valid: an outage must delay them, never dead-letter them).
The Triton serves the harness's test-only sentiment stand-in (fixed probabilities for these reviews):
it loads in seconds, so the drills measure the worker's recovery, not a model's load time.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator

import pytest

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka, triton
from channelpulse.infra.stack.process import StackError
from channelpulse.schemas.events import EventKind
from channelpulse.streams.kafka_io import ensure_topics
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import (
    STAND_IN_MAX_BATCH,
    Publisher,
    event,
    event_ids,
    load,
    own_topics,
    running_worker,
    settled,
    sigkill,
    wait_until,
)

TRITON_DOWN_S = 30.0
BROKER_DOWN_S = 10.0
RECOVERY_TARGET_S = 10.0
RATE_PER_S = 40.0

def reviews_publisher(settings: Settings, tag: str) -> Publisher:
    """Valid reviews at RATE_PER_S a second."""

    def make(event_id: str) -> tuple[str, bytes, bytes]:
        value = event(EventKind.REVIEW, event_id, text=f"recovered review {event_id}")
        return settings.topic_reviews, event_id.encode(), value

    return Publisher(settings, tag, RATE_PER_S, make)


def first_output_after(worker: WorkerProcess, topic: str, baseline: float, timeout_s: float) -> float:
    """monotonic() of the first scrape showing more outputs on ``topic`` than ``baseline``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.metric("channelpulse_events_out_total", topic=topic) > baseline:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"no output on {topic} within {timeout_s:.0f}s; log tail:\n{worker.log_tail()}")


def assert_every_review_scored_and_none_dead_lettered(
    settings: Settings, reviews: Publisher, worker: WorkerProcess
) -> None:
    wanted = set(reviews.sent)
    wait_until(lambda: wanted <= set(event_ids(settings, settings.topic_sentiment)), 180,
               f"all {len(wanted)} reviews scored", worker)
    letters = [json.loads(r.value or b"{}") for r in settled(settings, settings.topic_deadletter)]
    assert letters == [], f"valid reviews were dead-lettered: {letters[:3]}"


@pytest.fixture(scope="module")
def streaming(drill_stack: Settings) -> Iterator[tuple[Settings, WorkerProcess]]:
    """One worker (topics and consumer group of this module) that both drills put through an outage."""
    settings = own_topics(drill_stack, "recovery", batch_max_size=STAND_IN_MAX_BATCH)
    ensure_topics(settings)
    with running_worker(settings, "recovery-worker") as worker:
        yield settings, worker


def drill(
    streaming: tuple[Settings, WorkerProcess], name: str, down_s: float, kill: Callable[[], None],
    restart: Callable[[], None],
) -> float:
    """Stream reviews, ``kill`` a service mid-stream, ``restart`` it ``down_s`` later; the seconds from it
    being ready again to the first new output. Asserts every review scored, none dead-lettered. A drill
    that fails while the service is down starts it again (the drills share ``drill_stack``)."""
    settings, worker = streaming
    topic = settings.topic_sentiment
    outage = Outage(kill, restart)
    reviews = reviews_publisher(settings, name)
    try:
        before = worker.metric("channelpulse_events_out_total", topic=topic)
        reviews.resume()
        wait_until(lambda: worker.metric("channelpulse_events_out_total", topic=topic) >= before + 100, 180,
                   "the stream flowing", worker)
        keep_publishing = name.startswith("triton")  # the broker being down, the producer pauses
        if not keep_publishing:
            reviews.pause()
        outage.begin()
        time.sleep(min(5.0, down_s / 2))
        stalled_at = worker.metric("channelpulse_events_out_total", topic=topic)
        time.sleep(down_s - min(5.0, down_s / 2))
        baseline = worker.metric("channelpulse_events_out_total", topic=topic)
        assert baseline == stalled_at, "outputs went on while the service was down: the kill missed"
        outage.end()
        ready = time.monotonic()
        if not keep_publishing:
            reviews.resume()
        recovery_s = max(0.0, first_output_after(worker, topic, baseline, 120) - ready)
        time.sleep(3.0)
        reviews.pause()
        assert_every_review_scored_and_none_dead_lettered(settings, reviews, worker)
        print(f"{name} drill: first output {recovery_s:.2f}s after the service was ready again "
              f"({len(reviews.sent)} reviews, down {down_s:.0f}s; {load()})")
        assert recovery_s <= RECOVERY_TARGET_S, f"first output {recovery_s:.1f}s after ready; {load()}"
        return recovery_s
    finally:
        reviews.close()
        outage.close()


class Outage:
    """A service killed (``begin``) and started again (``end``); ``close`` starts it if a failed drill
    left it down."""

    def __init__(self, kill: Callable[[], None], restart: Callable[[], None]) -> None:
        self._kill, self._restart = kill, restart
        self.down = False

    def begin(self) -> None:
        self._kill()
        self.down = True

    def end(self) -> None:
        self._restart()
        self.down = False

    def close(self) -> None:
        if self.down:
            with contextlib.suppress(StackError):
                self.end()


@pytest.mark.timeout(540)
def test_triton_killed_mid_stream_and_back_30s_later(streaming: tuple[Settings, WorkerProcess]) -> None:
    settings, _ = streaming
    ports = (settings.triton_grpc_port, settings.triton_http_port, settings.triton_metrics_port)

    def restart() -> None:
        triton.start(settings)

    drill(streaming, "triton-recovery", TRITON_DOWN_S, kill=lambda: sigkill(settings, "triton", ports), restart=restart)


@pytest.mark.timeout(540)
def test_broker_killed_mid_stream_and_back(streaming: tuple[Settings, WorkerProcess]) -> None:
    settings, _ = streaming
    ports = (settings.kafka_port, settings.kafka_controller_port)

    def restart() -> None:
        kafka.start(settings)

    drill(streaming, "broker-recovery", BROKER_DOWN_S, kill=lambda: sigkill(settings, "kafka", ports), restart=restart)
