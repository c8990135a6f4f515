"""What the channel analytics consume: one small record per scored event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

Kind = Literal["click", "review", "social", "sensor"]
KINDS: tuple[Kind, ...] = ("click", "review", "social", "sensor")
ACTIONS = ("view", "click", "add_to_cart", "purchase")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Observation:
    """One event as the analytics see it: its channel, kind and event time, plus what the kind carries.

    Clicks carry ``action``; reviews and social posts carry their scored sentiment (``label`` and a
    polarity ``score`` in [-1, 1]); sensor readings carry nothing else. Build them with the class
    methods, which check that.
    """

    channel: str
    kind: Kind
    occurred_at: datetime
    action: str | None = None
    label: str | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must carry a timezone")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if (self.kind == "click") != (self.action is not None) or (
            self.action is not None and self.action not in ACTIONS
        ):
            raise ValueError(f"a click needs an action in {ACTIONS}, other kinds none")
        has_sentiment = self.kind in ("review", "social")
        if has_sentiment != (self.label is not None and self.score is not None):
            raise ValueError("reviews and social posts need a sentiment label and score, other kinds none")
        if self.label is not None and self.label not in SENTIMENT_LABELS:
            raise ValueError(f"unknown sentiment label {self.label!r}")
        if self.score is not None and not -1.0 <= self.score <= 1.0:
            raise ValueError("sentiment score must lie in [-1, 1]")

    @classmethod
    def click(cls, channel: str, occurred_at: datetime, action: str) -> Observation:
        return cls(channel, "click", occurred_at, action=action)

    @classmethod
    def sentiment(
        cls, channel: str, occurred_at: datetime, source: Literal["review", "social"], label: str, score: float
    ) -> Observation:
        return cls(channel, source, occurred_at, label=label, score=score)

    @classmethod
    def sensor(cls, channel: str, occurred_at: datetime) -> Observation:
        return cls(channel, "sensor", occurred_at)

    @property
    def epoch_us(self) -> int:
        """Event time as integer microseconds since the Unix epoch."""
        return epoch_us(self.occurred_at)


def epoch_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact window arithmetic)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the datetime must carry a timezone")
    delta = moment.astimezone(timezone.utc) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
