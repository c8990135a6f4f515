"""The fault drills' harness (issue 12): what every drill on the real stack needs, in one place.

- ``own_topics(settings, prefix, **updates)``: the settings with topics and a consumer group (app id)
  of one drill, so that drills share nothing but the brokers and servers they run on;
- ``event(kind, event_id, **changes)``: a valid event's bytes (the schema's example, changed);
- ``wait_until(predicate, timeout_s, what, worker)``: poll until ``predicate`` holds, failing with the
  worker's log tail; returns the seconds it took;
- ``snapshot(settings, topic)``: every record on a topic at the time of the call, read to the end
  offsets (no idle wait: what a poll loop wants); ``settled(settings, topic)``: the records once the
  topic stayed quiet for a few seconds (what a final "nothing else arrived" assertion wants);
- ``event_ids`` and ``letters_by_position``: the ids on an output topic, the dead letters by the
  (topic, partition, offset) of their input;
- ``running_worker(settings, name)``: a started ``channelpulse worker`` process, stopped on exit;
- ``sigkill(settings, service, ports)``: SIGKILL a service of a stack and wait until its ports close;
- ``write_stand_in_model(repository)``: a test-only ``sentiment`` model (fixed probabilities, an error
  on any text holding ``POISON``, ``max_batch_size`` ``STAND_IN_MAX_BATCH``) that loads in seconds;
- ``load()``: the machine's load average, in words, for the figures a drill prints.

The fixture ``drill_stack`` (tests/integration/conftest.py) is a broker and a Triton serving only the
stand-in, started once per session for the drills that kill a service or need the stand-in.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from signal import SIGKILL

from kafka import KafkaConsumer, TopicPartition

from channelpulse.config import Settings
from channelpulse.infra.stack.process import ServiceProcess, pid_alive
from channelpulse.kafka_security import kafka_python_options
from channelpulse.net import port_is_open
from channelpulse.schemas.events import EXAMPLES, EventKind
from channelpulse.streams.kafka_io import Record, producer, read_topic
from channelpulse.streams.worker_process import WorkerProcess

STAND_IN_MAX_BATCH = 8
POLL_S = 1.0
SETTLE_S = 3.0

STAND_IN_MODEL = '''"""Test-only sentiment stand-in: fixed probabilities, and an error on any text holding POISON."""
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
            texts = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            bad = [t for t in texts if b"POISON" in t]
            if bad:
                message = "ValueError: the drill model cannot score " + repr(bad[0].decode())
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message)))
                continue
            n = len(texts)
            probs = np.tile(np.array([[0.1, 0.2, 0.7]], dtype=np.float32), (n, 1))
            outputs = [pb_utils.Tensor("PROBS", probs), pb_utils.Tensor("EMBEDDING", np.zeros((n, 4), np.float32))]
            responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
'''

STAND_IN_CONFIG = f"""name: "sentiment"
backend: "python"
max_batch_size: {STAND_IN_MAX_BATCH}
input [ {{ name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] }} ]
output [
  {{ name: "PROBS" data_type: TYPE_FP32 dims: [ 3 ] }},
  {{ name: "EMBEDDING" data_type: TYPE_FP32 dims: [ -1 ] }}
]
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
"""


def write_stand_in_model(repository: Path) -> Path:
    """Write the stand-in as version 1 of ``sentiment`` in a Triton model repository; returns it."""
    version = repository / "sentiment" / "1"
    version.mkdir(parents=True)
    (version / "model.py").write_text(STAND_IN_MODEL)
    (version.parent / "config.pbtxt").write_text(STAND_IN_CONFIG)
    return repository


def own_topics(settings: Settings, prefix: str, **updates: object) -> Settings:
    """``settings`` with every topic and the app id (consumer group, changelogs) renamed for one drill."""
    run = uuid.uuid4().hex[:6]
    topics = {f: f"{prefix}{run}.{getattr(settings, f)}" for f in Settings.model_fields if f.startswith("topic_")}
    return settings.model_copy(update={**topics, "app_id": f"{prefix}-{run}", **updates})


def event(kind: EventKind, event_id: str, **changes: object) -> bytes:
    """A valid event of ``kind`` (the schema's example) with ``event_id`` and ``changes``."""
    body: dict[str, object] = {**copy.deepcopy(EXAMPLES[kind]), "event_id": event_id, **changes}
    return json.dumps(body).encode()


def wait_until(
    predicate: Callable[[], bool], timeout_s: float, what: str, worker: WorkerProcess | None = None
) -> float:
    """Poll ``predicate`` every ``POLL_S`` until it holds; the seconds that took. On time-out, fail
    saying ``what`` was awaited, with the tail of ``worker``'s log."""
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    tail = f"; log tail:\n{worker.log_tail()}" if worker is not None else ""
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}{tail}")


def snapshot(settings: Settings, topic: str) -> list[Record]:
    """Every record on ``topic`` up to its end offsets at the time of the call (empty if it has none)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings),
        enable_auto_commit=False, group_id=None,
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = {tp: end for tp, end in consumer.end_offsets(tps).items() if end > 0} if tps else {}
        if not ends:  # no such topic yet (a changelog before its first write), or nothing on it
            return []
        consumer.assign(list(ends))
        consumer.seek_to_beginning(*ends)
        records: list[Record] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            assert time.monotonic() < deadline, f"{topic}: could not read to its end offsets {ends} in 60 s"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(Record(m.topic, m.partition, m.offset, m.key, m.value, m.timestamp) for m in batch)
        return [r for r in records if r.offset < ends[TopicPartition(r.topic, r.partition)]]
    finally:
        consumer.close()


def settled(settings: Settings, topic: str, idle_s: float = SETTLE_S) -> list[Record]:
    """Every record on ``topic`` once no new one arrived for ``idle_s`` (empty if there is no such topic)."""
    records = snapshot(settings, topic)
    if not records:
        time.sleep(idle_s)  # nothing yet: give a late record as long to arrive as a quiet topic gets
        if not snapshot(settings, topic):
            return []
    return list(read_topic(settings, topic, idle_timeout_s=idle_s))


def event_ids(settings: Settings, topic: str) -> list[str]:
    """The ``event_id`` of every output on ``topic`` now."""
    return [json.loads(r.value or b"{}")["event_id"] for r in snapshot(settings, topic)]


def letters_by_position(settings: Settings, *, settle: bool = False) -> dict[tuple[str, int, int], dict[str, object]]:
    """The dead letters by their input's (topic, partition, offset); ``settle``: read as ``settled``."""
    records = (settled if settle else snapshot)(settings, settings.topic_deadletter)
    letters = (json.loads(r.value or b"{}") for r in records)
    return {(str(d["source_topic"]), int(d["partition"]), int(d["offset"])): d for d in letters}


@contextmanager
def running_worker(settings: Settings, name: str, start_timeout_s: float = 180.0) -> Iterator[WorkerProcess]:
    """A started worker on ``settings`` (log: ``<state_dir>/run/<name>.log``), stopped (SIGTERM) on exit."""
    worker = WorkerProcess(settings, name=name)
    worker.start(timeout_s=start_timeout_s)
    try:
        yield worker
    finally:
        worker.stop()


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


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


Made = tuple[str, bytes, bytes]
"""What a :class:`Publisher` sends: topic, key, value."""


class Publisher:
    """Publishes ``make(event_id)`` at ``rate`` a second from a thread while resumed; ``sent`` maps each
    event id to (time() it was sent, its partition). The drill's own producer reconnects within 0.5 s
    (kafka-python's backoff grows to 30 s): after a broker outage the drill measures the worker, not it."""

    def __init__(self, settings: Settings, tag: str, rate: float, make: Callable[[str], Made]) -> None:
        self.settings, self.tag, self.rate, self.make = settings, tag, rate, make
        self.sent: dict[str, tuple[float, int]] = {}
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
        prod = producer(self.settings, reconnect_backoff_max_ms=500)
        try:
            while not self._stop.is_set():
                if not self._run.wait(timeout=0.2):
                    continue
                with self._sending:
                    if not self._run.is_set():
                        continue
                    event_id = f"{self.tag}-{len(self.sent)}"
                    topic, key, value = self.make(event_id)
                    at = time.time()
                    meta = prod.send(topic, key=key, value=value).get(timeout=60)
                    self.sent[event_id] = (at, meta.partition)
                time.sleep(1.0 / self.rate)
        finally:
            prod.close()
