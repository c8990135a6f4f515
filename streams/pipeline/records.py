"""What goes in and out of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
