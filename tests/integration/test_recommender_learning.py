"""The recommender learns from the stream on the real stack, with no training command.

The stack starts serving version 1 (learned offline on the synthetic catalog). The test deletes
that catalog (tombstones), publishes the UCI Online Retail catalog and the purchases of its first
three months in time order, less each evaluated user's last order. Once the leader worker's refresh
has promoted a version learned from at least 80 % of them, one ``view`` of each evaluated user's latest item
(their state does not change) asks for recommendations, and those must hit the held-out order
more often than popularity does on the same users: the hits must reach the count that a
popularity-rate coin would reach with probability at most 1 % (one-sided exact binomial bound).
No recommended item may be one of the deleted ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from kafka import KafkaConsumer, TopicPartition
from scipy.stats import binom

from channelpulse.config import Settings
from channelpulse.models.contract import RECOMMENDER_MODEL
from channelpulse.models.recommend.baselines import PopularityRanker
from channelpulse.models.recommend.cooccurrence import item_mass
from channelpulse.models.recommend.refresh import SOURCE
from channelpulse.models.recommend.replay import BasketCase, basket_metrics, leave_last_basket_out
from channelpulse.models.recommend.retail import load_retail
from channelpulse.models.recommend.sequences import event_time, user_steps
from channelpulse.models.recommend.synthetic import (
    SAMPLE_EVENTS,
    SAMPLE_ITEMS,
    SAMPLE_SEED,
    SAMPLE_USERS,
    generate_clicks,
)
from channelpulse.models.registry import ModelRegistry, ModelRepository
from channelpulse.streams.kafka_io import ensure_topics, publish
from channelpulse.streams.live_registry import registry_for
from channelpulse.streams.worker_process import WorkerProcess

END = "2011-03-01"  # purchases before this (65,312 events, 606 evaluated users)
CONFIDENCE = 0.99
LEARNED_SHARE = 0.8  # the served version must have learned from at least this share of the clicks
K = 10


@pytest.fixture(scope="module")
def learning(stack: Settings, data_dir: Path) -> Iterator[Settings]:
    # catalog text off: the sentence encoder would cost minutes of CPU for 3,659 new items on a busy
    # 2-core machine (the text path is covered by tests/unit/models/recommend/test_recommend_refresh.py)
    settings = stack.model_copy(
        update={
            "recommender_refresh_s": 10.0,
            "recommender_gate_tolerance": 0.05,
            "recommender_text": False,
            "recommendation_k": K,
        }
    )
    ensure_topics(settings)
    registry = registry_for(settings)
    yield settings
    registry.promote(RECOMMENDER_MODEL, 1, note="test_recommender_learning: back to the shipped version")


def served_meta(settings: Settings) -> dict[str, object]:
    registry = ModelRegistry(ModelRepository(settings.model_repository))
    version = registry.served_version(RECOMMENDER_MODEL)
    return next((v.meta for v in registry.list(RECOMMENDER_MODEL)[RECOMMENDER_MODEL] if v.version == version), {})


def recommendations_for(settings: Settings, wanted: set[str], publish_probes: object, timeout_s: float) -> dict:
    """Publish the probes (a callable) and collect the recommendation of each wanted event id."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None)
    try:
        tps = [TopicPartition(settings.topic_recommendations, p)
               for p in sorted(consumer.partitions_for_topic(settings.topic_recommendations) or set())]
        consumer.assign(tps)
        consumer.seek_to_end(*tps)
        for tp in tps:
            consumer.position(tp)
        publish_probes()  # type: ignore[operator]
        found: dict[str, list[str]] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=1000).values():
                for msg in messages:
                    rec = json.loads(msg.value)
                    if rec["event_id"] in wanted:
                        found[rec["event_id"]] = [i["item_id"] for i in rec["items"]]
        return found
    finally:
        consumer.close()


def wait_for_learning(settings: Settings, clicks: int, worker: WorkerProcess, timeout_s: float) -> dict[str, object]:
    """Until the served version was learned from the stream, from at least ``clicks`` clicks (the
    newest few orders may wait for the next refresh: the gate needs 30 new ones)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meta = served_meta(settings)
        inputs = meta.get("inputs")
        if meta.get("source") == SOURCE and isinstance(inputs, dict) and inputs.get("clicks", 0) >= clicks:
            return meta
        assert worker.running(), f"worker exited; log tail:\n{worker.log_tail()}"
        time.sleep(2.0)
    raise AssertionError(
        f"no version learned from {clicks} clicks within {timeout_s:.0f}s; served: {served_meta(settings)}"
        f"\nworker log tail:\n{worker.log_tail(40)}"
    )


@pytest.mark.timeout(2400)
def test_recommendations_learned_from_the_stream_beat_popularity(learning: Settings, data_dir: Path) -> None:
    started = time.monotonic()
    settings = learning
    catalog, events = load_retail(data_dir / "clicks" / "uci_online_retail")
    events = [e for e in events if e["occurred_at"] < END]
    past, cases = leave_last_basket_out(events, settings.recommendation_history)
    past.sort(key=event_time)
    old_catalog, _ = generate_clicks(SAMPLE_USERS, SAMPLE_ITEMS, SAMPLE_EVENTS, SAMPLE_SEED)
    deleted = {str(item["item_id"]) for item in old_catalog}
    assert not deleted & {str(item["item_id"]) for item in catalog}

    worker = WorkerProcess(settings, name="recommender-learning")
    worker.start()
    try:
        publish(settings, settings.topic_catalog, [(i.encode(), None) for i in sorted(deleted)])  # type: ignore[misc]
        publish(settings, settings.topic_catalog, [(i["item_id"].encode(), json.dumps(i).encode()) for i in catalog])
        publish(settings, settings.topic_clicks, [(e["user_id"].encode(), json.dumps(e).encode()) for e in past])
        meta = wait_for_learning(settings, int(LEARNED_SHARE * len(past)), worker, timeout_s=1500)

        def probe(case: BasketCase) -> dict[str, object]:
            last = case.history[-1]
            return {"event_id": f"probe-{case.user_id}", "occurred_at": END + "T00:00:00+00:00", "channel": "web",
                    "user_id": case.user_id, "item_id": last, "action": "view"}

        probes = [probe(c) for c in cases]
        recs = recommendations_for(
            settings, {str(p["event_id"]) for p in probes},
            lambda: publish(settings, settings.topic_clicks,
                            [(str(p["user_id"]).encode(), json.dumps(p).encode()) for p in probes]),
            timeout_s=120,
        )
    finally:
        worker.stop()
    assert len(recs) == len(cases), f"{len(recs)} of {len(cases)} probes answered"
    ranked = [recs[f"probe-{c.user_id}"] for c in cases]
    targets = [c.targets for c in cases]
    model = basket_metrics(ranked, targets, K)

    ids = [str(i["item_id"]) for i in catalog]
    mass = item_mass(user_steps(past, {item: n for n, item in enumerate(ids)}), len(ids))
    popular = PopularityRanker(ids, (mass / mass.max()).astype(np.float32))
    pop_lists = popular.recommend([c.history for c in cases], [set(c.exclude) for c in cases], K)
    baseline = basket_metrics([[i for i, _ in r] for r in pop_lists], targets, K)
    n = len(cases)
    hits = round(model["hr"] * n)
    # the fewest hits a recommender with popularity's hit rate reaches with probability <= 1 %
    threshold = int(binom.isf(1 - CONFIDENCE, n, baseline["hr"])) + 1
    print(
        f"\n{n} users; learned version {meta.get('version')} ({meta.get('gate', {})}); HR@{K} {model['hr']:.4f} "
        f"({hits} hits) vs popularity {baseline['hr']:.4f}; threshold {threshold} hits "
        f"({threshold / n:.4f}); {time.monotonic() - started:.0f}s"
    )
    assert not {i for r in ranked for i in r} & deleted, "a deleted catalog item was recommended"
    assert hits >= threshold, f"HR@{K} {model['hr']:.4f} not above popularity {baseline['hr']:.4f} at {CONFIDENCE}"
