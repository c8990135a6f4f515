"""What goes in and out of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from channelpulse.config import Settings


@dataclass(frozen=True)
class RawRecord:
    """One consumed Kafka record, exactly as received."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Emit:
    """One record to produce. ``occurred_at`` (of the input event) feeds the end-to-end latency."""

    topic: str
    key: bytes | None
    value: bytes
    occurred_at: datetime | None = None
    pipeline: str = ""


@dataclass
class BatchResult:
    """Everything a micro-batch produces, in order; ``invalid`` counts the dead-lettered inputs."""

    emits: list[Emit] = field(default_factory=list)
    invalid: int = 0
    valid: int = 0


@dataclass
class Scored:
    """What one pipeline step made of a batch: the records to produce and the rows for the event lake."""

    emits: list[Emit] = field(default_factory=list)
    lake_rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class OutputTopics:
    """The topics the pipeline steps produce to (from :class:`Settings`)."""

    sentiment: str
    recommendations: str
    anomalies: str
    alerts: str
    observations: str

    @classmethod
    def of(cls, settings: Settings) -> OutputTopics:
        return cls(
            sentiment=settings.topic_sentiment,
            recommendations=settings.topic_recommendations,
            anomalies=settings.topic_anomalies,
            alerts=settings.topic_alerts,
            observations=settings.topic_observations,
        )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
