"""The output records ChannelPulse publishes: one pydantic model per output topic.

Outputs are built by our own code, so they are frozen and FORBID unknown fields (a misspelt
keyword raises instead of vanishing); numbers must be finite; timestamps must carry a timezone and
are written as RFC 3339 (``...Z`` for UTC). Serialise them with :func:`channelpulse.schemas.validation.encode`
and key them with :func:`channelpulse.schemas.validation.output_key`.

Default topics: sentiment ``scores.sentiment``, recommendations ``scores.recommendations``,
anomalies ``scores.anomalies``, channel windows ``analytics.channels``, alerts ``alerts``,
dead letters ``deadletter`` (names from :class:`channelpulse.config.Settings`).
"""

from __future__ import annotations

import base64
import enum
from datetime import datetime, timezone
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from channelpulse.schemas.fields import Channel, EventId, Identifier, Name, Probability

_OUTPUT_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    allow_inf_nan=False,
    json_schema_serialization_defaults_required=True,  # encode() always writes every field
)

SentimentLabel = Literal["negative", "neutral", "positive"]
SENTIMENT_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
"""The sentiment labels, in the order of the model's output."""

Count = Annotated[int, Field(ge=0)]
SnakeCase = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class _Output(BaseModel):
    model_config = _OUTPUT_CONFIG


class ModelRef(_Output):
    """The Triton model (name and version) that produced a score."""

    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SentimentScore(_Output):
    """Sentiment of one review or social post (topic ``scores.sentiment``)."""

    event_id: EventId
    channel: Channel
    source: Literal["review", "social"]
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0, description="Polarity in [-1, 1] (negative to positive).")
    probabilities: dict[str, Probability] = Field(
        description="Probability of each label; exactly the keys negative, neutral, positive, summing to 1.",
        json_schema_extra={
            "required": list(SENTIMENT_LABELS),
            "propertyNames": {"enum": list(SENTIMENT_LABELS)},
        },
    )
    model: ModelRef
    scored_at: AwareDatetime
    item_id: Identifier | None = None
    user_id: Identifier | None = None

    @field_validator("probabilities")
    @classmethod
    def _three_labels_summing_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(SENTIMENT_LABELS):
            raise ValueError(f"probabilities must have exactly the keys {', '.join(SENTIMENT_LABELS)}")
        total = sum(value.values())
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"probabilities must sum to 1, they sum to {total:.6f}")
        return {label: value[label] for label in SENTIMENT_LABELS}


class RecommendedItem(_Output):
    """One recommended item and its relevance score (higher is better)."""

    item_id: Identifier
    score: float


class Recommendation(_Output):
    """Items recommended to a user after a click event (topic ``scores.recommendations``)."""

    event_id: EventId
    user_id: Identifier
    items: list[RecommendedItem] = Field(description="Best first; item ids are distinct.")
    model: ModelRef
    scored_at: AwareDatetime

    @model_validator(mode="after")
    def _best_first(self) -> Recommendation:
        scores = [item.score for item in self.items]
        if any(a < b for a, b in pairwise(scores)):
            raise ValueError("items must be ordered best first (scores not increasing)")
        if len({item.item_id for item in self.items}) != len(self.items):
            raise ValueError("items must not repeat an item_id")
        return self


class AnomalyScore(_Output):
    """Anomaly score of one sensor reading (topic ``scores.anomalies``)."""

    event_id: EventId
    sensor_id: Identifier
    metric: Name
    value: float
    anomaly_score: Probability = Field(description="0 = normal, 1 = certainly anomalous.")
    is_anomaly: bool
    model: ModelRef
    scored_at: AwareDatetime


class KindCounts(_Output):
    """Events of each scored kind in a window."""

    clicks: Count = 0
    reviews: Count = 0
    social: Count = 0
    sensors: Count = 0


class ActionCounts(_Output):
    """Click events of each action in a window."""

    view: Count = 0
    click: Count = 0
    add_to_cart: Count = 0
    purchase: Count = 0


class ChannelWindow(_Output):
    """Per-channel analytics of one tumbling window (topic ``analytics.channels``, key = channel)."""

    channel: Channel
    window_start: AwareDatetime
    window_end: AwareDatetime
    counts: KindCounts
    actions: ActionCounts
    conversion: float | None = Field(
        ge=0.0, description="purchases / views; null when the window has no views (may exceed 1)."
    )
    sentiment_mean: float | None = Field(ge=-1.0, le=1.0, description="Mean score; null when none.")
    negative_share: Probability | None = Field(description="Share labelled negative; null when none.")

    @model_validator(mode="after")
    def _consistent(self) -> ChannelWindow:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if (self.conversion is None) != (self.actions.view == 0):
            raise ValueError("conversion must be null exactly when the window has no views")
        return self


class AlertKind(str, enum.Enum):
    """Alert kinds raised today; :attr:`Alert.kind` also accepts other snake_case names."""

    NEGATIVE_SENTIMENT_SPIKE = "negative_sentiment_spike"
    SENSOR_ANOMALY = "sensor_anomaly"


class Alert(_Output):
    """Something a human should look at (topic ``alerts``); names a channel, a sensor, or both."""

    alert_id: EventId
    kind: SnakeCase = Field(description="e.g. negative_sentiment_spike, sensor_anomaly (see AlertKind).")
    channel: Channel | None = None
    sensor_id: Identifier | None = None
    detail: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Human-readable explanation."
    )
    raised_at: AwareDatetime

    @model_validator(mode="after")
    def _has_subject(self) -> Alert:
        if self.channel is None and self.sensor_id is None:
            raise ValueError("an alert needs a channel or a sensor_id")
        return self


class DeadLetter(_Output):
    """An input record that could not be used (topic ``deadletter``), with the reason in words.

    ``raw`` is the base64 (standard alphabet, padded) of the record value exactly as received, so
    any bytes, including invalid UTF-8, survive; :meth:`original_bytes` gives them back.
    """

    source_topic: Annotated[str, StringConstraints(min_length=1, max_length=249)]
    partition: Count
    offset: Count
    error: Annotated[str, StringConstraints(min_length=1)] = Field(description="What is wrong, in words.")
    raw: str = Field(pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
    received_at: AwareDatetime

    @classmethod
    def of(cls, raw: bytes, error: str, source_topic: str, partition: int, offset: int) -> DeadLetter:
        """The dead letter of ``raw`` (the original value bytes), received now."""
        return cls(
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            error=error,
            raw=base64.b64encode(raw).decode("ascii"),
            received_at=datetime.now(timezone.utc),
        )

    def original_bytes(self) -> bytes:
        """The original record value, byte for byte."""
        return base64.b64decode(self.raw, validate=True)
