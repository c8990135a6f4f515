"""One recommender refresh (models/recommend/refresh.py) on the clicks the workers filed in the event
lake and the catalog read from its compacted topic: the child-process side of
streams/recommend_refresh.py. It fits and evaluates with torch (the `channelpulse[train]` extra), so
only that child imports this module, never the worker itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from channelpulse.config import Settings
from channelpulse.kafka_security import kafka_python_options
from channelpulse.models.contract import RECOMMENDER_MODEL
from channelpulse.models.recommend.embedding_cache import CachedEmbedder
from channelpulse.models.recommend.recommender import ScoringParams
from channelpulse.models.recommend.refresh import RefreshParams, refresh
from channelpulse.models.recommend.text_neighbours import item_text, shared_embedder
from channelpulse.models.recommend.training import TrainParams
from channelpulse.streams.lake.reader import read_lake
from channelpulse.streams.live_registry import registry_for

CLICK_COLUMNS = ("user_id", "item_id", "action", "occurred_at", "session_id", "lake_ts")
CATALOG_FIELDS = ("item_id", "title", "description", "categories")

# Learning parameters, chosen on the tuning part of the UCI replay (docs/models.md, Recommendations).
TRAIN_PARAMS = TrainParams(
    window=20,
    backward=1.0,
    distance_decay=0.95,
    half_life_days=60.0,
    scoring=ScoringParams(recency_decay=1.0, popularity_prior=0.3),
)


def refresh_params(settings: Settings) -> RefreshParams:
    return RefreshParams(
        train=TRAIN_PARAMS,
        max_history=settings.recommendation_history,
        k=settings.recommendation_k,
        gate_cases=settings.recommender_gate_cases,
        min_gate_cases=settings.recommender_min_gate_cases,
        tolerance=settings.recommender_gate_tolerance,
    )


def read_catalog(settings: Settings, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """The catalog now: the latest record of each key of the compacted catalog topic, read up to the
    end offsets it had when called; a null value (tombstone) deletes the item; undecodable records
    are skipped (the worker dead-letters them)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None,
        **kafka_python_options(settings),
    )
    items: dict[bytes, dict[str, Any] | None] = {}
    try:
        partitions = consumer.partitions_for_topic(settings.topic_catalog) or set()
        tps = [TopicPartition(settings.topic_catalog, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        pending = {tp for tp in tps if consumer.position(tp) < ends[tp]}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for tp, messages in consumer.poll(timeout_ms=500).items():
                for msg in messages:
                    if msg.offset < ends[tp]:
                        items[msg.key or b""] = _catalog_item(msg.value)
                if consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        if pending:
            raise TimeoutError(f"catalog not read to its end within {timeout_s:g}s: {sorted(map(str, pending))}")
    finally:
        consumer.close()
    return [item for item in items.values() if item is not None]


def _catalog_item(value: bytes | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("item_id") or not data.get("title"):
        return None
    return {k: data[k] for k in CATALOG_FIELDS if k in data}


def read_clicks(settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """The newest clicks of the lookback filed in the lake, oldest first."""
    end = now or datetime.now(timezone.utc)
    frame = read_lake(settings.lake_root, "click", start=end - timedelta(days=settings.recommender_lookback_days))
    if frame.is_empty():
        return []
    frame = frame.select([c for c in CLICK_COLUMNS if c in frame.columns]).tail(settings.recommender_max_clicks)
    return frame.to_dicts()


def embeddings_file(settings: Settings) -> Path:
    """Where the catalog texts' embeddings are kept between refreshes."""
    return settings.state_dir / "recommender" / "text_embeddings.npz"


def refresh_once(settings: Settings) -> dict[str, Any]:
    """One refresh against the live repository and Triton; returns the outcome as a dict."""
    registry = registry_for(settings)
    catalog = read_catalog(settings)
    embed, text_state = None, {}
    if settings.recommender_text:
        # the encoder is loaded only when there is something new to encode
        embed = CachedEmbedder(lambda texts: shared_embedder()(texts), embeddings_file(settings), cached_only=True)
        texts = [item_text(item) for item in catalog]
        left = embed.prefetch(texts, settings.recommender_text_budget)
        text_state = {"texts_placed": len(set(texts)) - left}
    outcome = refresh(
        read_clicks(settings), catalog, registry, RECOMMENDER_MODEL, refresh_params(settings),
        embed=embed, work_dir=settings.state_dir, text_state=text_state,
    )
    return asdict(outcome)
