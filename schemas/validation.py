"""Parse raw Kafka values into events (never raising), and encode/key the output records.

:func:`parse_event` is on the hot path: one Rust-side ``validate_json`` per payload (no separate
``json.loads``); the extra checks (size, the NaN/Infinity scan) are a length comparison and a byte
search, and the reasons are only worked out for invalid payloads.
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json, to_json

from channelpulse.schemas.events import (
    EVENT_MODELS,
    CatalogItem,
    ClickEvent,
    Event,
    EventKind,
    ReviewEvent,
    SensorEvent,
    SocialEvent,
)
from channelpulse.schemas.fields import MAX_ID_CHARS
from channelpulse.schemas.outputs import (
    Alert,
    AnomalyScore,
    ChannelWindow,
    DeadLetter,
    ModelRef,
    Recommendation,
    RecommendedItem,
    SentimentScore,
)
from channelpulse.schemas.reasons import describe_validation_error

DEFAULT_MAX_BYTES = 65536
"""Default size limit of one payload (``Settings.max_event_bytes`` sets the pipeline's)."""

_VALIDATORS = {kind: model.__pydantic_validator__ for kind, model in EVENT_MODELS.items()}


@dataclass(frozen=True)
class Invalid:
    """A payload that is not a valid event: why (in words) and the exact bytes received.

    ``raw`` is ``b""`` when the record value was ``None`` (a Kafka tombstone).
    """

    reason: str
    raw: bytes


def parse_event(kind: EventKind, raw: bytes | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Event | Invalid:
    """The event of ``kind`` in ``raw`` (UTF-8 JSON object), or :class:`Invalid` saying what is wrong.

    Never raises. Invalid are: a missing (None) or empty payload, one over ``max_bytes`` (checked
    before any decoding), bad UTF-8, text that is not JSON, JSON that is not an object, missing
    fields, wrong types (strict: no coercion between strings, numbers and booleans), values out of
    range, non-finite numbers (``NaN``/``Infinity`` literals anywhere, even in ignored fields),
    unknown click actions, timestamps without a timezone, strings that are too long. Unknown extra
    fields are ignored (forward compatible). On a compacted topic a ``None`` value is a deletion
    (tombstone); callers that honour tombstones must handle them before calling this.
    """
    if raw is None:
        return Invalid("payload is missing (the record value is null)", b"")
    try:
        return _parse(kind, raw, max_bytes)
    except Exception as exc:  # the contract is "never raises": an unexpected failure is a reason too
        return Invalid(f"payload could not be validated ({type(exc).__name__}: {exc})", _as_bytes(raw))


def _parse(kind: EventKind, raw: bytes, max_bytes: int) -> Event | Invalid:
    if not isinstance(raw, bytes):
        if not isinstance(raw, (bytearray, memoryview)):
            return Invalid(f"payload must be bytes, got {type(raw).__name__}", _as_bytes(raw))
        raw = bytes(raw)
    if not raw:
        return Invalid("payload is empty (0 bytes)", raw)
    if len(raw) > max_bytes:
        return Invalid(f"payload is {len(raw)} bytes, over the limit of {max_bytes} bytes", raw)
    validator = _VALIDATORS.get(kind)
    if validator is None:
        return Invalid(f"unknown event kind {kind!r}", raw)
    try:
        event: Event = validator.validate_json(raw)
    except ValidationError as exc:
        return Invalid(describe_validation_error(kind.value, raw, exc), raw)
    if (b"NaN" in raw or b"Infinity" in raw) and _has_non_finite_literal(raw):
        return Invalid("payload contains a NaN or Infinity literal, which JSON does not allow", raw)
    return event


def _has_non_finite_literal(raw: bytes) -> bool:
    """Whether ``raw`` holds a bare NaN/Infinity token (not merely the word inside a string)."""
    try:
        from_json(raw, allow_inf_nan=False)
    except ValueError:
        return True
    return False


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogatepass")
    return b""


def encode(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON of a record (``model_dump_json``); ``None`` fields are written as null."""
    return model.model_dump_json().encode("utf-8")


def encode_dead_letter(
    raw: bytes, error: str, source_topic: str, partition: int, offset: int, received_at: datetime | None = None
) -> bytes:
    """``encode(DeadLetter.of(...))`` written directly, byte for byte the same (received now unless
    ``received_at`` is given). The dead-letter path builds one per malformed record: this skips
    validating what we produce ourselves (the pattern check of a base64 string of up to
    ``max_event_bytes`` was a quarter of the validation's time) and the copy of ``raw``'s base64 through
    a Python string; the base64 alphabet needs no JSON escaping."""
    if not error or not source_topic or partition < 0 or offset < 0:
        raise ValueError(f"not a dead letter: error={error!r} source_topic={source_topic!r} {partition=} {offset=}")
    head = to_json({"source_topic": source_topic, "partition": partition, "offset": offset, "error": error})
    when = to_json(received_at if received_at is not None else datetime.now(timezone.utc))
    return b"".join((head[:-1], b',"raw":"', binascii.b2a_base64(raw, newline=False), b'","received_at":', when, b"}"))


def encode_recommendation(
    event_id: str, user_id: str, items: Sequence[tuple[str, float]], model: ModelRef, scored_at: datetime
) -> bytes:
    """``encode(Recommendation(...))`` of ``items`` (``(item_id, score)``, best first), byte for byte the
    same. The clicks pipeline encodes one per click: when every rule of :class:`Recommendation` plainly
    holds (ids of 1 to ``MAX_ID_CHARS`` characters, finite float scores not increasing, distinct item
    ids, an aware ``scored_at``) it is written directly, without building a model per item (that was
    most of the pipeline's own time per click); anything else goes through the model, which raises the
    same ``ValidationError`` as before."""
    if _plain_recommendation(event_id, user_id, items, scored_at):
        return to_json(
            {
                "event_id": event_id,
                "user_id": user_id,
                "items": [{"item_id": item_id, "score": score} for item_id, score in items],
                "model": {"name": model.name, "version": model.version},
                "scored_at": scored_at,
            }
        )
    rec = Recommendation(
        event_id=event_id,
        user_id=user_id,
        items=[RecommendedItem(item_id=item_id, score=score) for item_id, score in items],
        model=model,
        scored_at=scored_at,
    )
    return encode(rec)


def _plain_id(value: object) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_ID_CHARS


def _plain_recommendation(event_id: str, user_id: str, items: Sequence[tuple[str, float]], scored_at: datetime) -> bool:
    """Whether a recommendation certainly meets every rule of :class:`Recommendation` (False: not sure)."""
    if not (_plain_id(event_id) and _plain_id(user_id)) or type(scored_at) is not datetime:
        return False
    if scored_at.utcoffset() is None:
        return False
    previous = math.inf
    for item_id, score in items:
        if not _plain_id(item_id) or type(score) is not float or not math.isfinite(score) or score > previous:
            return False
        previous = score
    return len({item_id for item_id, _ in items}) == len(items)


_KEY_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    SentimentScore: ("item_id", "user_id"),
    Recommendation: ("user_id",),
    AnomalyScore: ("sensor_id",),
    ChannelWindow: ("channel",),
    Alert: ("sensor_id", "channel"),
    DeadLetter: (),
    CatalogItem: ("item_id",),
    ClickEvent: ("user_id",),
    ReviewEvent: ("item_id",),
    SocialEvent: ("user_id",),
    SensorEvent: ("sensor_id",),
}


def output_key(model: BaseModel) -> bytes | None:
    """The Kafka key of a record (UTF-8), so that records about one subject share a partition.

    Recommendation: user_id. AnomalyScore: sensor_id. SentimentScore: item_id, else user_id.
    ChannelWindow: channel. Alert: sensor_id, else channel. CatalogItem: item_id. Input events:
    clicks user_id, reviews item_id, social user_id, sensors sensor_id. ``None`` when the record
    has no such value (DeadLetter always: keep the original record's key). Raises ``TypeError``
    for a model that is not part of this contract.
    """
    fields = _KEY_FIELDS.get(type(model))
    if fields is None:
        raise TypeError(f"{type(model).__name__} is not a ChannelPulse record; it has no defined key")
    for name in fields:
        value: Any = getattr(model, name)
        if value is not None:
            return str(value).encode("utf-8")
    return None
