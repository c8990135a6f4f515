"""Fault drills on the real stack (issue 12), each bounded in time and each asserting that every valid
event reaches its output topic and every malformed or unscorable one `deadletter` with its exact bytes:

- a poison record that makes the served model fail, among good ones on the same partition: only it is
  dead-lettered, with the server's error, and the partition carries on (its offsets are committed to
  the end). The model is the harness's test-only stand-in, served by the drills' own Triton
  (``drill_stack``); the same Triton shows a batch size above the model's max_batch_size refused at
  worker start;
- 10,000 malformed records of 20+ kinds among valid ones, on the session's stack and its real models.

Each worker gets its own topics and consumer group (``own_topics``), so the drills share nothing with
other tests but the brokers and servers.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from channelpulse.config import Settings
from channelpulse.schemas.events import EXAMPLES, EventKind
from channelpulse.schemas.validation import Invalid, parse_event
from channelpulse.streams.kafka_io import committed_offsets, ensure_topics, publish
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import (
    STAND_IN_MAX_BATCH,
    event,
    event_ids,
    letters_by_position,
    own_topics,
    running_worker,
    snapshot,
    wait_until,
)


@pytest.mark.timeout(300)
def test_a_batch_size_above_the_model_limit_is_refused_at_start(drill_stack: Settings) -> None:
    worker = WorkerProcess(own_topics(drill_stack, "refuse", batch_max_size=64), name="refused-worker")
    with pytest.raises(RuntimeError, match="exited with 2"):
        worker.start(timeout_s=120)
    log = worker.log_path.read_text()
    assert "CHANNELPULSE_BATCH_MAX_SIZE=64 is above the max_batch_size" in log
    assert f"'sentiment' ({STAND_IN_MAX_BATCH})" in log


@pytest.mark.timeout(300)
def test_a_poison_record_is_dead_lettered_alone_and_the_partition_carries_on(drill_stack: Settings) -> None:
    settings = own_topics(drill_stack, "poison", batch_max_size=STAND_IN_MAX_BATCH, batch_max_wait_ms=50.0)
    ensure_topics(settings)
    n_good = 300
    good = [event(EventKind.REVIEW, f"good-{i}", text=f"fine product number {i}") for i in range(n_good)]
    poison = event(EventKind.REVIEW, "poison-1", text="this text is POISON for the drill model")
    records = [*good[:150], poison, *good[150:]]
    key = b"one-partition"  # all on one partition: the poison sits in the middle of it
    publish(settings, settings.topic_reviews, [(key, value) for value in records])

    started = time.monotonic()
    with running_worker(settings, "poison-worker") as worker:
        wanted = {f"good-{i}" for i in range(n_good)}
        wait_until(lambda: wanted <= set(event_ids(settings, settings.topic_sentiment)), 150,
                   "every good review scored", worker)
        scored_after_s = time.monotonic() - started
        (position, letter), *others = letters_by_position(settings, settle=True).items()
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

    started = time.monotonic()
    with running_worker(settings, "malformed-worker") as worker:
        wait_until(lambda: worker.metric("channelpulse_events_deadlettered_total") >= total_malformed, 180,
                   "every malformed record dead-lettered", worker)
        wanted = {kind: {f"{kind.value}-ok-{n}" for n in range(n_valid_per_kind)} for kind in topics}
        wait_until(
            lambda: all(wanted[k] <= set(event_ids(settings, out)) for k, (_, out) in topics.items()),
            120, "every valid event scored", worker,
        )
        drained_after_s = time.monotonic() - started
        letters = letters_by_position(settings, settle=True)
        bad_values = {topic: set(values) for topic, values in malformed.items()}
        for topic, _ in topics.values():
            for rec in snapshot(settings, topic):
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


def test_drill_model_file_is_test_only() -> None:
    """The poison hook lives in this test only, never in a production model."""
    shipped = Path(__file__).resolve().parents[2] / "models" / "repository"
    assert not any("POISON" in p.read_text() for p in shipped.rglob("model.py"))
