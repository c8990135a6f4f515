from __future__ import annotations

from channelpulse.bench.namespace import TOPIC_FIELDS, bench_settings, run_id, topic_prefix
from channelpulse.config import Settings


def test_every_topic_and_the_group_are_private_to_the_run() -> None:
    base = Settings()
    bench = bench_settings(base, "abc")
    assert "topic_deadletter" in TOPIC_FIELDS and "topic_sentiment" in TOPIC_FIELDS
    for name in TOPIC_FIELDS:
        assert getattr(bench, name) == topic_prefix("abc") + getattr(base, name)
    assert bench.app_id == f"{base.app_id}-bench-abc"
    assert set(bench.all_topics).isdisjoint(base.all_topics)
    assert bench.kafka_port == base.kafka_port


def test_run_ids_are_short_and_lowercase() -> None:
    rid = run_id()
    assert 5 <= len(rid) <= 8 and rid.isalnum() and rid == rid.lower()
