"""The input events: one pydantic model per kind, JSON objects on the wire (UTF-8).

Every event carries the envelope of :class:`EventEnvelope` (``event_id``, ``channel``,
``occurred_at``, ``schema_version``, optional ``user_id``) plus the fields of its kind. Validation is
strict: no silent coercion (``"5"`` is not an int, ``true`` is not a number, ``5`` is not a string),
numbers must be finite and timestamps must be RFC 3339 with a timezone.

Unknown extra fields are IGNORED (not an error, not kept): producers may add fields before the
consumers know them (forward compatibility). Models are frozen and hashable.

Default topics: clicks ``events.clicks``, reviews ``events.reviews``, social ``events.social``,
sensors ``events.sensors``, catalog ``catalog.items`` (compacted, key = ``item_id``); the actual
names come from :class:`channelpulse.config.Settings`.
"""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from channelpulse.schemas.fields import Channel, EventId, Identifier, Language, Name, Price, Text, Timestamp

_INPUT_CONFIG = ConfigDict(frozen=True, strict=True, extra="ignore", allow_inf_nan=False)
"""Strict everywhere, except that list fields (``tuple`` in Python, for hashability) also take a
Python ``list`` when a model is built in code; their items stay strict."""


def _with_example(example: JsonDict) -> ConfigDict:
    """The input config plus an example payload (shown in the exported JSON Schema)."""
    return ConfigDict(**_INPUT_CONFIG, json_schema_extra={"examples": [example]})


ClickAction = Literal["view", "click", "add_to_cart", "purchase"]
"""What a user did to an item, from weakest to strongest signal."""


class EventKind(str, enum.Enum):
    """The kinds of input; each has its own topic and model (see :data:`EVENT_MODELS`)."""

    CLICK = "click"
    REVIEW = "review"
    SOCIAL = "social"
    SENSOR = "sensor"
    CATALOG = "catalog"


EXAMPLES: dict[EventKind, JsonDict] = {
    EventKind.CLICK: {
        "event_id": "c-1",
        "channel": "web",
        "occurred_at": "2024-05-01T12:00:00Z",
        "user_id": "u-1",
        "item_id": "sku-42",
        "action": "purchase",
        "session_id": "s-9",
        "price": 19.99,
    },
    EventKind.REVIEW: {
        "event_id": "r-1",
        "channel": "app",
        "occurred_at": "2024-05-01T12:00:00.250+02:00",
        "user_id": "u-1",
        "item_id": "sku-42",
        "text": "Sturdy and quiet, works as described.",
        "rating": 5,
        "language": "en",
    },
    EventKind.SOCIAL: {
        "event_id": "p-1",
        "channel": "social:twitter",
        "occurred_at": "2024-05-01T12:00:00Z",
        "text": "Delivery took three weeks, never again.",
        "network": "twitter",
        "author": "@sam",
        "tags": ["delivery", "support"],
    },
    EventKind.SENSOR: {
        "event_id": "s-1",
        "channel": "iot:plant-7",
        "occurred_at": "2024-05-01T12:00:00Z",
        "sensor_id": "press-3",
        "metric": "temperature",
        "value": 71.25,
        "unit": "celsius",
    },
    EventKind.CATALOG: {
        "item_id": "sku-42",
        "title": "Desk fan",
        "description": "Quiet 30 cm desk fan.",
        "categories": ["home", "cooling"],
        "price": 24.5,
    },
}
"""A valid payload of each kind (also the example in its JSON Schema); copy before changing it."""


class EventEnvelope(BaseModel):
    """Fields every event carries. Unknown extra fields are ignored (forward compatible)."""

    model_config = _INPUT_CONFIG

    event_id: EventId = Field(description="Unique id (1-128 chars); events are processed once per id.")
    channel: Channel = Field(description="Origin, e.g. web, app, partner:acme, social:twitter, iot:plant-7.")
    occurred_at: Timestamp = Field(description="When it happened: RFC 3339 with a timezone.")
    schema_version: int = Field(default=1, ge=1, description="Version of this event's schema.")
    user_id: Identifier | None = Field(default=None, description="The user, when known.")


class ClickEvent(EventEnvelope):
    """A user viewed, clicked, carted or bought an item (topic ``events.clicks``)."""

    model_config = _with_example(EXAMPLES[EventKind.CLICK])

    user_id: Identifier = Field(description="The user (required for clicks).")
    item_id: Identifier = Field(description="The item acted on.")
    action: ClickAction = Field(description="One of view, click, add_to_cart, purchase.")
    session_id: Identifier | None = Field(default=None, description="Browsing session, when known.")
    price: Price | None = Field(default=None, description="Price seen or paid (finite, >= 0).")


class ReviewEvent(EventEnvelope):
    """A product review (topic ``events.reviews``)."""

    model_config = _with_example(EXAMPLES[EventKind.REVIEW])

    item_id: Identifier = Field(description="The reviewed item.")
    text: Text = Field(description="The review, 1-5000 characters, not blank.")
    rating: int | None = Field(default=None, ge=1, le=5, description="Star rating 1-5 (an integer).")
    language: Language | None = Field(default=None, description="BCP 47 language tag, e.g. en.")


class SocialEvent(EventEnvelope):
    """A social-media post mentioning the brand (topic ``events.social``)."""

    model_config = _with_example(EXAMPLES[EventKind.SOCIAL])

    text: Text = Field(description="The post, 1-5000 characters, not blank.")
    network: Name = Field(description="Where it was posted, e.g. twitter.")
    author: Identifier | None = Field(default=None, description="Handle of the author, when known.")
    tags: tuple[Name, ...] = Field(
        default=(), max_length=100, strict=False, description="Hashtags/topics (at most 100)."
    )


class SensorEvent(EventEnvelope):
    """One reading of a sensor (topic ``events.sensors``)."""

    model_config = _with_example(EXAMPLES[EventKind.SENSOR])

    sensor_id: Identifier = Field(description="The sensor.")
    metric: Name = Field(description="What is measured, e.g. temperature.")
    value: float = Field(description="The reading (a finite number).")
    unit: Name | None = Field(default=None, description="Unit of the value, e.g. celsius.")


class CatalogItem(BaseModel):
    """One item of the catalog (topic ``catalog.items``, compacted, key = ``item_id``).

    The catalog is state rather than a stream of happenings: each record is the latest version of
    one item, so only ``item_id`` and ``title`` are required. The envelope fields are optional and,
    when present, validated exactly like an event's (a naive ``occurred_at`` is still invalid).
    Unknown extra fields are ignored (forward compatible).
    """

    model_config = _with_example(EXAMPLES[EventKind.CATALOG])

    item_id: Identifier = Field(description="The item; also the Kafka key.")
    title: Text = Field(description="Display title, 1-5000 characters, not blank.")
    description: str | None = Field(default=None, max_length=20000, description="Longer description.")
    categories: tuple[Name, ...] = Field(
        default=(), max_length=100, strict=False, description="Categories (at most 100)."
    )
    price: Price | None = Field(default=None, description="Current price (finite, >= 0).")
    event_id: EventId | None = Field(default=None, description="Id of this catalog update, when given.")
    channel: Channel | None = Field(default=None, description="Where the update came from, when given.")
    occurred_at: Timestamp | None = Field(default=None, description="When the item changed, when given.")
    schema_version: int = Field(default=1, ge=1, description="Version of this record's schema.")


Event = ClickEvent | ReviewEvent | SocialEvent | SensorEvent | CatalogItem
"""Any parsed input."""

EVENT_MODELS: dict[EventKind, type[BaseModel]] = {
    EventKind.CLICK: ClickEvent,
    EventKind.REVIEW: ReviewEvent,
    EventKind.SOCIAL: SocialEvent,
    EventKind.SENSOR: SensorEvent,
    EventKind.CATALOG: CatalogItem,
}
"""The model that validates each kind."""
