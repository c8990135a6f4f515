"""Fault drills on the real stack (issue 12), each bounded in time and each asserting that every valid
event reaches its output topic and every malformed or unscorable one `deadletter` with its exact bytes:

- a poison record that makes the served model fail, among good ones on the same partition: only it is
  dead-lettered, with the server's error, and the partition carries on (its offsets are committed to
  the end). The model is a test-only entry of a Triton model repository in the test's tmp dir, served
  by a Triton of its own; the same Triton shows a batch size above the model's max_batch_size refused
  at worker start;
- 10,000 malformed records of 20+ kinds among valid ones.

Each worker gets its own topics and consumer group, so the drills share nothing with other tests but
the stack.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from channelpulse.config import Settings
from infra.stack import triton
from infra.stack.process import free_port
from schemas.events import EXAMPLES, EventKind
from schemas.validation import Invalid, parse_event
from streams.kafka_io import committed_offsets, ensure_topics, publish, read_topic
from streams.worker_process import WorkerProcess

DRILL_MODEL = '''"""Test-only sentiment stand-in: fixed probabilities, and an error on any text holding POISON."""
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

DRILL_CONFIG = """name: "sentiment"
backend: "python"
max_batch_size: 8
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]
output [
  { name: "PROBS" data_type: TYPE_FP32 dims: [ 3 ] },
  { name: "EMBEDDING" data_type: TYPE_FP32 dims: [ -1 ] }
]
instance_group [ { count: 1 kind: KIND_CPU } ]
"""


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


def event(kind: EventKind, event_id: str, **changes: object) -> bytes:
    body = copy.deepcopy(EXAMPLES[kind])
    body.update(event_id=event_id, **changes)
    return json.dumps(body).encode()


def letters_by_position(settings: Settings) -> dict[tuple[str, int, int], dict[str, object]]:
    return {
        (str(d["source_topic"]), int(d["partition"]), int(d["offset"])): d  # type: ignore[call-overload]
        for d in (json.loads(r.value or b"{}") for r in read_topic(settings, settings.topic_deadletter,
                                                                     idle_timeout_s=3))
    }


def event_ids(settings: Settings, topic: str) -> list[str]:
    return [json.loads(r.value or b"{}")["event_id"] for r in read_topic(settings, topic, idle_timeout_s=3)]


@pytest.fixture(scope="module")
def drill_triton(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A Triton of its own serving only the test-only sentiment model (settings for a worker using it)."""
    root = tmp_path_factory.mktemp("drill-triton")
    version = root / "repository" / "sentiment" / "1"
    version.mkdir(parents=True)
    (version / "model.py").write_text(DRILL_MODEL)
    (version.parent / "config.pbtxt").write_text(DRILL_CONFIG)
    settings = stack.model_copy(
        update={
            "state_dir": root / "state",
            "model_repository_source": root / "repository",
            "triton_http_port": free_port(),
            "triton_grpc_port": free_port(),
            "triton_metrics_port": free_port(),
        }
    )
    proc = triton.start(settings)
    try:
        yield settings
    finally:
        proc.stop()


@pytest.mark.timeout(300)
def test_a_batch_size_above_the_model_limit_is_refused_at_start(drill_triton: Settings) -> None:
    worker = WorkerProcess(own_topics(drill_triton, "refuse", batch_max_size=64), name="refused-worker")
    with pytest.raises(RuntimeError, match="exited with 2"):
        worker.start(timeout_s=120)
    log = worker.log_path.read_text()
    assert "CHANNELPULSE_BATCH_MAX_SIZE=64 is above the max_batch_size" in log and "'sentiment' (8)" in log


@pytest.mark.timeout(300)
def test_a_poison_record_is_dead_lettered_alone_and_the_partition_carries_on(drill_triton: Settings) -> None:
    settings = own_topics(drill_triton, "poison", batch_max_size=8, batch_max_wait_ms=50.0)
    ensure_topics(settings)
    n_good = 300
    good = [event(EventKind.REVIEW, f"good-{i}", text=f"fine product number {i}") for i in range(n_good)]
    poison = event(EventKind.REVIEW, "poison-1", text="this text is POISON for the drill model")
    records = [*good[:150], poison, *good[150:]]
    key = b"one-partition"  # all on one partition: the poison sits in the middle of it
    publish(settings, settings.topic_reviews, [(key, value) for value in records])

    worker = WorkerProcess(settings, name="poison-worker")
    started = time.monotonic()
    worker.start()
    try:
        wanted = {f"good-{i}" for i in range(n_good)}
        wait_until(lambda: wanted <= set(event_ids(settings, settings.topic_sentiment)), 150,
                   "every good review scored", worker)
        scored_after_s = time.monotonic() - started
        (position, letter), *others = letters_by_position(settings).items()
        assert others == [], f"only the poison is dead-lettered, got {len(others) + 1} letters"
        assert base64.b64decode(str(letter["raw"])) == poison
        assert "the drill model cannot score" in str(letter["error"]) and "'sentiment'" in str(letter["error"])
        topic, partition, offset = position
        assert (topic, offset) == (settings.topic_reviews, 150)
        assert "poison-1" not in event_ids(settings, settings.topic_sentiment)

        def committed_to_the_end() -> bool:
            done = committed_offsets(settings, settings.app_id, [(topic, partition)])
            return done.get((topic, partition)) == len(records)

        wait_until(committed_to_the_end, 30, "the partition's offsets committed to its end", worker)
        assert worker.metric("channelpulse_scoring_isolated_total") == 1.0
        print(f"poison drill: every good review scored {scored_after_s:.1f}s after the worker start")
    finally:
        worker.stop()


def malformed_kinds(kind: EventKind, tag: str) -> dict[str, bytes]:
    """Payloads of ``kind`` that must be dead-lettered, each wrong in its own way (``tag`` makes most unique)."""
    ok = EXAMPLES[kind]
    text_field = "text" if "text" in ok else None
    variants = {
        "empty": b"",
        "whitespace": b"   \n\t ",
        "not-json": f"not json at all {tag}".encode(),
        "truncated-json": event(kind, tag)[:-7],
        "json-array": json.dumps([tag, 1]).encode(),
        "json-string": json.dumps(tag).encode(),
        "json-number": b"42",
        "json-null": b"null",
        "json-true": b"true",
        "bad-utf8": event(kind, tag).replace(b'"channel": "', b'"channel": "\xff\xfe'),
        "bom": b"\xef\xbb\xbf" + event(kind, tag),
        "missing-event-id": json.dumps({k: v for k, v in ok.items() if k != "event_id"} | {"channel": tag}).encode(),
        "only-event-id": json.dumps({"event_id": tag}).encode(),
        "empty-object": b"{}",
        "naive-timestamp": event(kind, tag, occurred_at="2026-01-01T00:00:00"),
        "unparseable-timestamp": event(kind, tag, occurred_at="yesterday at noon"),
        "numeric-timestamp": event(kind, tag, occurred_at=1_700_000_000),
        "event-id-number": event(kind, tag).replace(f"\"event_id\": \"{tag}\"".encode(), b"\"event_id\": 12345"),
        "channel-empty": event(kind, tag, channel=""),
        "channel-object": event(kind, tag, channel={"name": tag}),
        "oversized": event(kind, tag, channel="web", **({text_field: "x" * 70_000} if text_field else
                                                         {"pad": "x" * 70_000})),
        "nested-garbage": json.dumps({"event_id": tag, "data": {"a": [1, {"b": None}]}}).encode(),
    }
    if kind is EventKind.CLICK:
        variants |= {"bad-action": event(kind, tag, action="teleport"), "user-id-number": event(kind, tag, user_id=7)}
    elif kind is EventKind.SENSOR:
        variants |= {
            "nan-value": event(kind, tag).replace(b'"value": 71.25', b'"value": NaN'),
            "infinite-value": event(kind, tag).replace(b'"value": 71.25', b'"value": Infinity'),
            "value-string": event(kind, tag, value="high"),
        }
    else:
        variants |= {"text-empty": event(kind, tag, text=""), "text-number": event(kind, tag, text=5)}
        if kind is EventKind.REVIEW:
            variants["rating-out-of-range"] = event(kind, tag, rating=11)
    return variants


@pytest.mark.timeout(420)
def test_ten_thousand_malformed_records_of_twenty_kinds_among_valid_ones(stack: Settings) -> None:
    settings = own_topics(stack, "malformed")
    ensure_topics(settings)
    topics = {
        EventKind.CLICK: (settings.topic_clicks, settings.topic_recommendations),
        EventKind.REVIEW: (settings.topic_reviews, settings.topic_sentiment),
        EventKind.SOCIAL: (settings.topic_social, settings.topic_sentiment),
        EventKind.SENSOR: (settings.topic_sensors, settings.topic_anomalies),
    }
    n_malformed, n_valid_per_kind = 10_000, 100
    malformed: dict[str, list[bytes]] = {topic: [] for topic, _ in topics.values()}
    kinds_seen: set[str] = set()
    i = 0
    while sum(map(len, malformed.values())) < n_malformed:
        for kind, (topic, _) in topics.items():
            for name, value in malformed_kinds(kind, f"m{i}").items():
                parsed = parse_event(kind, value, settings.max_event_bytes)
                assert isinstance(parsed, Invalid), f"{kind.value} {name} is not malformed"
                malformed[topic].append(value)
                kinds_seen.add(name)
            i += 1
    assert len(kinds_seen) >= 20
    valid = {kind: [event(kind, f"{kind.value}-ok-{n}") for n in range(n_valid_per_kind)] for kind in topics}
    for kind, (topic, _) in topics.items():
        mixed = malformed[topic][:]
        for n, value in enumerate(valid[kind]):  # spread the valid ones through the malformed ones
            mixed.insert(n * len(mixed) // n_valid_per_kind, value)
        publish(settings, topic, [(None, value) for value in mixed])
    total_malformed = sum(map(len, malformed.values()))
    assert total_malformed >= n_malformed

    worker = WorkerProcess(settings, name="malformed-worker")
    started = time.monotonic()
    worker.start()
    try:
        wait_until(lambda: worker.metric("channelpulse_events_deadlettered_total") >= total_malformed, 180,
                   "every malformed record dead-lettered", worker)
        wanted = {kind: {f"{kind.value}-ok-{n}" for n in range(n_valid_per_kind)} for kind in topics}
        wait_until(
            lambda: all(wanted[k] <= set(event_ids(settings, out)) for k, (_, out) in topics.items()),
            120, "every valid event scored", worker,
        )
        drained_after_s = time.monotonic() - started
        letters = letters_by_position(settings)
        bad_values = {topic: set(values) for topic, values in malformed.items()}
        for topic, _ in topics.values():
            for rec in read_topic(settings, topic, idle_timeout_s=3):
                letter = letters.get((topic, rec.partition, rec.offset))
                if rec.value in bad_values[topic]:
                    assert letter is not None, f"{topic}[{rec.partition}]@{rec.offset} not dead-lettered"
                    assert base64.b64decode(str(letter["raw"])) == (rec.value or b"")
                    assert len(str(letter["error"])) > 10
                else:
                    assert letter is None, f"a valid event was dead-lettered: {letter}"
        assert len(letters) == total_malformed
        print(f"malformed drill: {total_malformed} malformed ({len(kinds_seen)} kinds) and "
              f"{4 * n_valid_per_kind} valid records handled {drained_after_s:.1f}s after the worker start")
    finally:
        worker.stop()


def test_drill_model_file_is_test_only() -> None:
    """The poison hook lives in this test only, never in a production model."""
    shipped = Path(__file__).resolve().parents[2] / "models" / "repository"
    assert not any("POISON" in p.read_text() for p in shipped.rglob("model.py"))
