"""The pipelines the bench drives and their event sources: realistic events (channelpulse.streams.sample) stamped
with ``occurred_at`` at the moment they are made, i.e. sent."""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from channelpulse.config import Settings
from channelpulse.models.contract import ANOMALY_MODEL, RECOMMENDER_MODEL, SENTIMENT_MODEL
from channelpulse.streams.sample import SampleStream, load_sensor_series, malformed_variants

PIPELINES = ("sentiment", "recommendation", "sensors", "deadletter")
SENSORS = 8


@dataclass(frozen=True)
class PipelineSpec:
    """One path through the worker: the topics its events go to, the topic of its one output per
    event, and the Triton model it needs (None for the validation/dead-letter path)."""

    name: str
    input_topics: tuple[str, ...]
    output_topic: str
    model: str | None
    kinds: tuple[str, ...]  # the worker's `pipeline` label of its batch-size histogram


def pipeline_specs(settings: Settings) -> dict[str, PipelineSpec]:
    s = settings
    return {
        "sentiment": PipelineSpec(
            "sentiment", (s.topic_reviews, s.topic_social), s.topic_sentiment, SENTIMENT_MODEL, ("review", "social")
        ),
        "recommendation": PipelineSpec(
            "recommendation", (s.topic_clicks,), s.topic_recommendations, RECOMMENDER_MODEL, ("click",)
        ),
        "sensors": PipelineSpec("sensors", (s.topic_sensors,), s.topic_anomalies, ANOMALY_MODEL, ("sensor",)),
        # an all-malformed stream: every record is dead-lettered, no model is involved
        "deadletter": PipelineSpec("deadletter", (s.topic_clicks,), s.topic_deadletter, None, ("click",)),
    }


@dataclass(frozen=True)
class Outgoing:
    """One record to send; ``event_id`` is None for malformed records (matched by their offset)."""

    topic: str
    key: bytes | None
    value: bytes
    event_id: str | None


class EventSource(Protocol):
    def make(self, event_id: str) -> Outgoing: ...


class TemplateSource:
    """Cycles through valid event bodies, each sent with a fresh ``event_id`` and ``occurred_at`` = now."""

    def __init__(self, templates: list[tuple[str, bytes | None, dict[str, Any]]]) -> None:
        if not templates:
            raise ValueError("no event templates")
        self.templates = templates
        self.position = 0

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The event bodies in sending order (what the limits score)."""
        return [body for _, _, body in self.templates]

    def make(self, event_id: str) -> Outgoing:
        topic, key, body = self.templates[self.position % len(self.templates)]
        self.position += 1
        event = {**body, "event_id": event_id, "occurred_at": datetime.now(timezone.utc).isoformat()}
        return Outgoing(topic, key, json.dumps(event).encode(), event_id)


class MalformedSource:
    """Malformed records (channelpulse.streams.sample.malformed_variants, each unique), all no larger than
    ``max_bytes`` so that the stream measures validation rather than moving 64 KiB payloads."""

    def __init__(self, topic: str, max_bytes: int, seed: int = 7) -> None:
        self.topic = topic
        self.max_bytes = max_bytes
        self.rng = random.Random(seed)
        self.pending: deque[bytes] = deque()

    def make(self, event_id: str) -> Outgoing:
        while not self.pending:
            now = datetime.now(timezone.utc)
            self.pending.extend(v for v in malformed_variants(self.rng, "click", now) if len(v) <= self.max_bytes)
        return Outgoing(self.topic, None, self.pending.popleft(), None)


def sensor_templates(settings: Settings, sensors: int = SENSORS) -> list[tuple[str, bytes | None, dict[str, Any]]]:
    """Readings of ``sensors`` NAB series, round-robin over the sensors, each series in order."""
    series = load_sensor_series(settings.data_dir, limit=sensors)
    names = sorted(series)
    length = min(len(v) for v in series.values())
    return [
        (
            settings.topic_sensors,
            name.encode(),
            {"channel": "iot:plant-7", "sensor_id": name, "metric": "value", "value": series[name][i]},
        )
        for i in range(length)
        for name in names
    ]


Source = TemplateSource | MalformedSource


def build_sources(settings: Settings, pipelines: list[str], seed: int = 7, samples: int = 6000) -> dict[str, Source]:
    """One event source per pipeline name."""
    specs = pipeline_specs(settings)
    sources: dict[str, Source] = {}
    needs_sample = {"sentiment", "recommendation"} & set(pipelines)
    records = list(SampleStream(settings, seed=seed, malformed_share=0.0).records(samples)) if needs_sample else []
    for name in pipelines:
        spec = specs[name]
        if name == "sensors":
            sources[name] = TemplateSource(sensor_templates(settings))
        elif name == "deadletter":
            sources[name] = MalformedSource(spec.input_topics[0], settings.max_event_bytes, seed)
        else:
            sources[name] = TemplateSource(
                [(r.topic, r.key, json.loads(r.value)) for r in records if r.topic in spec.input_topics]
            )
    return sources
