"""Valid events of every kind parse, round-trip through encode(), and are strict and frozen."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from channelpulse.schemas.events import EVENT_MODELS, EXAMPLES, ClickEvent, EventKind, ReviewEvent, SocialEvent
from channelpulse.schemas.validation import Invalid, encode, parse_event


def payload(kind: EventKind, **changes: object) -> bytes:
    body = copy.deepcopy(EXAMPLES[kind])
    body.update(changes)  # type: ignore[arg-type]
    return json.dumps(body).encode()


@pytest.mark.parametrize("kind", list(EventKind))
def test_example_of_each_kind_parses_to_its_model_and_round_trips(kind: EventKind) -> None:
    event = parse_event(kind, payload(kind))
    assert type(event) is EVENT_MODELS[kind]
    again = parse_event(kind, encode(event))
    assert again == event
    # every field of the example survives with its value (timestamps compared as instants)
    written = json.loads(encode(event))
    for name, value in EXAMPLES[kind].items():
        if name == "occurred_at":
            assert datetime.fromisoformat(written[name]) == datetime.fromisoformat(str(value))
        else:
            assert written[name] == value, name


def test_fields_parse_to_the_right_python_values() -> None:
    review = parse_event(EventKind.REVIEW, payload(EventKind.REVIEW))
    assert isinstance(review, ReviewEvent)
    assert review.rating == 5
    assert review.schema_version == 1  # the default
    assert review.occurred_at == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)
    assert review.occurred_at.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00z",
        "2024-05-01t12:00:00+00:00",
        "2024-05-01 12:00:00-05:30",
        "2024-05-01T12:00:00.123456789+14:00",
    ],
)
def test_rfc3339_variants_with_a_zone_are_accepted(stamp: str) -> None:
    event = parse_event(EventKind.CLICK, payload(EventKind.CLICK, occurred_at=stamp))
    assert isinstance(event, ClickEvent)
    assert event.occurred_at.tzinfo is not None


def test_unknown_extra_fields_are_ignored() -> None:
    raw = payload(EventKind.CLICK, brand_new_field={"nested": [1, 2, None]}, note="NaN is only a word here")
    event = parse_event(EventKind.CLICK, raw)
    assert isinstance(event, ClickEvent)
    assert "brand_new_field" not in json.loads(encode(event))


def test_integer_price_is_a_number_and_optional_fields_default_to_none() -> None:
    body = copy.deepcopy(EXAMPLES[EventKind.CLICK])
    del body["session_id"]
    body["price"] = 20
    event = parse_event(EventKind.CLICK, json.dumps(body).encode())
    assert isinstance(event, ClickEvent)
    assert event.price == 20.0 and isinstance(event.price, float)
    assert event.session_id is None


def test_user_id_is_optional_except_for_clicks() -> None:
    review = copy.deepcopy(EXAMPLES[EventKind.REVIEW])
    del review["user_id"]
    assert isinstance(parse_event(EventKind.REVIEW, json.dumps(review).encode()), ReviewEvent)
    click = copy.deepcopy(EXAMPLES[EventKind.CLICK])
    del click["user_id"]
    result = parse_event(EventKind.CLICK, json.dumps(click).encode())
    assert isinstance(result, Invalid) and "user_id" in result.reason


def test_catalog_envelope_is_optional_but_validated_when_present() -> None:
    bare = parse_event(EventKind.CATALOG, b'{"item_id": "sku-1", "title": "Lamp"}')
    assert not isinstance(bare, Invalid)
    assert bare.categories == () and bare.occurred_at is None  # type: ignore[union-attr]
    naive = parse_event(EventKind.CATALOG, payload(EventKind.CATALOG, occurred_at="2024-05-01T12:00:00"))
    assert isinstance(naive, Invalid) and "timezone" in naive.reason


def test_events_are_frozen_and_hashable() -> None:
    event = parse_event(EventKind.SOCIAL, payload(EventKind.SOCIAL))
    assert isinstance(event, SocialEvent)
    with pytest.raises(ValidationError):
        event.text = "changed"
    assert hash(event) == hash(parse_event(EventKind.SOCIAL, payload(EventKind.SOCIAL)))


def test_models_built_in_python_reject_naive_datetimes() -> None:
    fields = {k: v for k, v in EXAMPLES[EventKind.CLICK].items() if k != "occurred_at"}
    ok = ClickEvent(**fields, occurred_at=datetime(2024, 5, 1, tzinfo=timezone.utc))  # type: ignore[arg-type]
    assert ok.occurred_at.year == 2024
    with pytest.raises(ValidationError, match="timezone"):
        ClickEvent(**fields, occurred_at=datetime(2024, 5, 1))  # type: ignore[arg-type]


def test_max_bytes_is_a_parameter() -> None:
    raw = payload(EventKind.SENSOR)
    assert not isinstance(parse_event(EventKind.SENSOR, raw, max_bytes=len(raw)), Invalid)
    small = parse_event(EventKind.SENSOR, raw, max_bytes=len(raw) - 1)
    assert isinstance(small, Invalid) and f"{len(raw)} bytes" in small.reason


def test_events_can_be_built_in_python_with_lists_and_rfc3339_strings() -> None:
    fields: dict[str, Any] = {**EXAMPLES[EventKind.SOCIAL], "tags": ["a", "b"]}
    event = SocialEvent(**fields)
    assert event.tags == ("a", "b")
    assert event.occurred_at == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match="tags"):
        SocialEvent(**{**fields, "tags": ["a", 1]})
    with pytest.raises(ValidationError, match="occurred_at"):
        SocialEvent(**{**fields, "occurred_at": "1714564800"})
