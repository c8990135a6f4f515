"""One entry point for every input kind: ``await processor.process(kind, records)``."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.pipeline.clicks import recommend_clicks
from channelpulse.streams.pipeline.drift import DriftWatch
from channelpulse.streams.pipeline.records import BatchResult, OutputTopics, RawRecord, Scored
from channelpulse.streams.pipeline.sensor_drift import SensorDriftWatch
from channelpulse.streams.pipeline.sensors import score_sensors
from channelpulse.streams.pipeline.sentiment import score_texts
from channelpulse.streams.pipeline.validate import split_valid
from channelpulse.streams.scoring.base import Scorer

State = MutableMapping[Any, Any]


class Processor:
    """Validates, scores and turns a micro-batch of one input kind into records to produce.

    ``users`` and ``sensors`` hold per-key state (a Faust table in the worker, a dict in tests).
    """

    def __init__(
        self,
        settings: Settings,
        scorer: Scorer,
        users: State,
        sensors: State,
        drift: DriftWatch | None = None,
        lake: LakeWriter | None = None,
        sensor_drift: SensorDriftWatch | None = None,
    ) -> None:
        self.settings = settings
        self.scorer = scorer
        self.users = users
        self.sensors = sensors
        self.drift = drift
        self.lake = lake
        self.sensor_drift = sensor_drift
        self.topics = OutputTopics.of(settings)

    def to_lake(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """File scored events in the event lake (when there is one): the retrainer's training data."""
        if self.lake is not None and rows:
            self.lake.extend(kind, rows)

    async def score(self, kind: EventKind, valid: Sequence[tuple[RawRecord, Any]]) -> Scored:
        """The pipeline step of ``kind``, given what it needs."""
        settings = self.settings
        if kind in (EventKind.REVIEW, EventKind.SOCIAL):
            return await score_texts(kind, valid, self.scorer, self.topics, self.drift)
        if kind is EventKind.CLICK:
            return await recommend_clicks(
                valid, self.users, self.scorer, self.topics, settings.recommendation_k, settings.recommendation_history
            )
        if kind is EventKind.SENSOR:
            return await score_sensors(
                valid, self.sensors, self.scorer, self.topics, settings.anomaly_cooldown, self.sensor_drift
            )
        return Scored(lake_rows=[event.model_dump(mode="json") for _, event in valid])

    async def process(self, kind: EventKind, records: Sequence[RawRecord]) -> BatchResult:
        result = BatchResult()
        if kind is EventKind.CATALOG:
            # a null value on the compacted catalog is a deletion (tombstone), not an invalid event
            tombstones = [r for r in records if r.value is None]
            result.valid += len(tombstones)
            records = [r for r in records if r.value is not None]
        valid = split_valid(kind, records, self.settings.topic_deadletter, self.settings.max_event_bytes, result)
        if not valid:
            return result
        scored = await self.score(kind, valid)
        result.emits.extend(scored.emits)
        self.to_lake(kind.value, scored.lake_rows)
        return result


def topic_kind(settings: Settings, topic: str) -> EventKind:
    """The kind of event an input topic (or the catalog) carries."""
    return {
        settings.topic_clicks: EventKind.CLICK,
        settings.topic_reviews: EventKind.REVIEW,
        settings.topic_social: EventKind.SOCIAL,
        settings.topic_sensors: EventKind.SENSOR,
        settings.topic_catalog: EventKind.CATALOG,
    }[topic]
