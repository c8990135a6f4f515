"""One entry point for every input kind: ``await processor.process(kind, records)``."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from channelpulse.config import Settings
from schemas.events import EventKind
from streams.kafka_io import INTERNAL_TOPICS
from streams.pipeline.observations import observation
from streams.pipeline.records import BatchResult, RawRecord
from streams.pipeline.sentiment import score_texts
from streams.pipeline.validate import split_valid
from streams.scoring.base import Scorer
from streams.scoring.retry import until_scored

OBSERVATIONS_TOPIC = INTERNAL_TOPICS[0]
State = MutableMapping[Any, Any]


class Processor:
    """Validates, scores and turns a micro-batch of one input kind into records to produce.

    ``users`` and ``sensors`` hold per-key state (a Faust table in the worker, a dict in tests).
    """

    def __init__(self, settings: Settings, scorer: Scorer, users: State, sensors: State) -> None:
        self.settings = settings
        self.scorer = scorer
        self.users = users
        self.sensors = sensors

    def kind_of(self, topic: str) -> EventKind:
        s = self.settings
        return {
            s.topic_clicks: EventKind.CLICK,
            s.topic_reviews: EventKind.REVIEW,
            s.topic_social: EventKind.SOCIAL,
            s.topic_sensors: EventKind.SENSOR,
            s.topic_catalog: EventKind.CATALOG,
        }[topic]

    async def process(self, kind: EventKind, records: Sequence[RawRecord]) -> BatchResult:
        result = BatchResult()
        if kind is EventKind.CATALOG:
            # a null value on the compacted catalog is a deletion (tombstone), not an invalid event
            tombstones = [r for r in records if r.value is None]
            result.valid += len(tombstones)
            records = [r for r in records if r.value is not None]
        valid = split_valid(
            kind, records, self.settings.topic_deadletter, self.settings.max_event_bytes, result
        )
        if not valid:
            return result
        if kind in (EventKind.REVIEW, EventKind.SOCIAL):
            scored, _batch = await until_scored(
                lambda: score_texts(valid, self.scorer, self.settings.topic_sentiment), "sentiment batch"
            )
            for (emit, score), (_, event) in zip(scored, valid, strict=True):
                result.emits.append(emit)
                result.emits.append(
                    observation(
                        OBSERVATIONS_TOPIC,
                        event.channel,
                        kind.value,
                        event.occurred_at,
                        label=score.label,
                        score=score.score,
                    )
                )
        elif kind is EventKind.CLICK:
            from streams.pipeline.clicks import recommend_clicks

            result.emits.extend(await recommend_clicks(valid, self))
            for _, event in valid:
                result.emits.append(
                    observation(
                        OBSERVATIONS_TOPIC, event.channel, kind.value, event.occurred_at, action=event.action
                    )
                )
        elif kind is EventKind.SENSOR:
            from streams.pipeline.sensors import score_sensors

            result.emits.extend(await score_sensors(valid, self))
            for _, event in valid:
                result.emits.append(
                    observation(OBSERVATIONS_TOPIC, event.channel, kind.value, event.occurred_at)
                )
        return result
