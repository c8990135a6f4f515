"""Recovery drills (issue 12, items 2 and 5) on a Kafka broker and a Triton of this module's own, so that
killing them disturbs no other test: a steady stream of reviews through one worker while

- Triton is killed (SIGKILL) mid-stream and started again ``TRITON_DOWN_S`` later;
- the broker is killed (SIGKILL) mid-stream and started again ``BROKER_DOWN_S`` later.

Each drill measures the time from the service being ready again to the worker's first new output
(``channelpulse_events_out_total`` of the sentiment topic, counted once Kafka acknowledged the record),
asserts it within ``RECOVERY_TARGET_S``, and asserts that every event published reaches the sentiment
topic and none is dead-lettered (all are valid: an outage must delay them, never dead-letter them).
The Triton serves a test-only sentiment stand-in (fixed probabilities): it loads in seconds, so the
drills measure the worker's recovery, not a model's load time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from signal import SIGKILL

import pytest

from channelpulse.config import Settings
from channelpulse.net import free_port, port_is_open
from infra.stack import kafka, triton
from infra.stack.process import ServiceProcess, pid_alive
from schemas.events import EventKind
from streams.kafka_io import ensure_topics, producer, read_topic
from streams.worker_process import WorkerProcess
from tests.integration.test_drills import event, event_ids, own_topics, wait_until

TRITON_DOWN_S = 30.0
BROKER_DOWN_S = 10.0
RECOVERY_TARGET_S = 10.0
RATE_PER_S = 40.0

STAND_IN_MODEL = '''"""Test-only sentiment stand-in: fixed probabilities for every text."""
import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            n = len(pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1))
            probs = np.tile(np.array([[0.1, 0.2, 0.7]], dtype=np.float32), (n, 1))
            outputs = [pb_utils.Tensor("PROBS", probs), pb_utils.Tensor("EMBEDDING", np.zeros((n, 4), np.float32))]
            responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
'''

STAND_IN_CONFIG = """name: "sentiment"
backend: "python"
max_batch_size: 64
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]
output [
  { name: "PROBS" data_type: TYPE_FP32 dims: [ 3 ] },
  { name: "EMBEDDING" data_type: TYPE_FP32 dims: [ -1 ] }
]
instance_group [ { count: 1 kind: KIND_CPU } ]
"""


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a broker and a Triton (serving only the stand-in) started for this module."""
    root = tmp_path_factory.mktemp("recovery")
    version = root / "repository" / "sentiment" / "1"
    version.mkdir(parents=True)
    (version / "model.py").write_text(STAND_IN_MODEL)
    (version.parent / "config.pbtxt").write_text(STAND_IN_CONFIG)
    settings = Settings(
        state_dir=root / "state",
        model_repository_source=root / "repository",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        triton_http_port=free_port(),
        triton_grpc_port=free_port(),
        triton_metrics_port=free_port(),
        prometheus_port=free_port(),
        recommender_refresh_s=0.0,
    )
    broker = kafka.start(settings)
    server = None
    try:
        server = triton.start(settings)
        yield settings
    finally:
        if server is not None:
            server.stop()
        broker.stop()


def sigkill(settings: Settings, service: str, ports: tuple[int, ...]) -> None:
    """SIGKILL a service of the stack (its whole process group) and wait until its ports are closed."""
    proc = ServiceProcess(service, settings.state_dir / "run")
    pid = proc.pid()
    assert pid is not None, f"{service} is not running"
    os.killpg(pid, SIGKILL)
    deadline = time.monotonic() + 30
    while pid_alive(pid) or any(port_is_open(settings.bind_host, p) for p in ports):
        assert time.monotonic() < deadline, f"{service} still alive 30 s after SIGKILL"
        time.sleep(0.1)


class Reviews:
    """Publishes valid reviews at a steady rate from a thread until paused; remembers every id sent."""

    def __init__(self, settings: Settings, tag: str) -> None:
        self.settings = settings
        self.tag = tag
        self.sent: list[str] = []
        self._run = threading.Event()
        self._stop = threading.Event()
        self._sending = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def resume(self) -> None:
        self._run.set()

    def pause(self) -> None:
        """Stop publishing; returns once every record sent so far is acknowledged."""
        self._run.clear()
        with self._sending:
            pass

    def close(self) -> None:
        self._stop.set()
        self._run.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        prod = producer(self.settings)
        try:
            while not self._stop.is_set():
                if not self._run.wait(timeout=0.2):
                    continue
                with self._sending:
                    if not self._run.is_set():
                        continue
                    event_id = f"{self.tag}-{len(self.sent)}"
                    value = event(EventKind.REVIEW, event_id, text=f"recovered review {event_id}")
                    prod.send(self.settings.topic_reviews, key=event_id.encode(), value=value).get(timeout=60)
                    self.sent.append(event_id)
                time.sleep(1.0 / RATE_PER_S)
        finally:
            prod.close()


def first_output_after(worker: WorkerProcess, topic: str, baseline: float, timeout_s: float) -> float:
    """monotonic() of the first scrape showing more outputs on ``topic`` than ``baseline``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.metric("channelpulse_events_out_total", topic=topic) > baseline:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"no output on {topic} within {timeout_s:.0f}s; log tail:\n{worker.log_tail()}")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def assert_every_review_scored_and_none_dead_lettered(
    settings: Settings, reviews: Reviews, worker: WorkerProcess
) -> None:
    wanted = set(reviews.sent)
    wait_until(lambda: wanted <= set(event_ids(settings, settings.topic_sentiment)), 180,
               f"all {len(wanted)} reviews scored", worker)
    letters = [json.loads(r.value or b"{}") for r in read_topic(settings, settings.topic_deadletter, idle_timeout_s=3)]
    assert letters == [], f"valid reviews were dead-lettered: {letters[:3]}"


def drill(
    settings: Settings, name: str, down_s: float, kill: Callable[[], None], restart: Callable[[], None]
) -> float:
    """Stream reviews, ``kill`` a service mid-stream, ``restart`` it ``down_s`` later; the seconds from it
    being ready again to the first new output. Asserts every review scored, none dead-lettered."""
    ensure_topics(settings)
    worker = WorkerProcess(settings, name=f"{name}-worker")
    worker.start()
    reviews = Reviews(settings, name)
    try:
        reviews.resume()
        topic = settings.topic_sentiment
        wait_until(lambda: worker.metric("channelpulse_events_out_total", topic=topic) >= 100, 180,
                   "the stream flowing", worker)
        keep_publishing = name.startswith("triton")  # the broker being down, the producer pauses
        if not keep_publishing:
            reviews.pause()
        kill()
        time.sleep(min(5.0, down_s / 2))
        stalled_at = worker.metric("channelpulse_events_out_total", topic=topic)
        time.sleep(down_s - min(5.0, down_s / 2))
        baseline = worker.metric("channelpulse_events_out_total", topic=topic)
        assert baseline == stalled_at, "outputs went on while the service was down: the kill missed"
        restart()
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
        worker.stop()


@pytest.mark.timeout(540)
def test_triton_killed_mid_stream_and_back_30s_later(own_stack: Settings) -> None:
    settings = own_topics(own_stack, "triton-recovery")
    ports = (settings.triton_grpc_port, settings.triton_http_port, settings.triton_metrics_port)

    def restart() -> None:
        triton.start(settings)

    drill(settings, "triton-recovery", TRITON_DOWN_S, kill=lambda: sigkill(settings, "triton", ports), restart=restart)


@pytest.mark.timeout(540)
def test_broker_killed_mid_stream_and_back(own_stack: Settings) -> None:
    settings = own_topics(own_stack, "broker-recovery")
    ports = (settings.kafka_port, settings.kafka_controller_port)

    def restart() -> None:
        kafka.start(settings)

    drill(settings, "broker-recovery", BROKER_DOWN_S, kill=lambda: sigkill(settings, "kafka", ports), restart=restart)
