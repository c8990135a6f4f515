"""Every kind of bad payload becomes an Invalid that says what is wrong and keeps the exact bytes."""

from __future__ import annotations

import copy
import json

import pytest

from channelpulse.schemas.events import EXAMPLES, EventKind
from channelpulse.schemas.validation import Invalid, parse_event

CLICK, REVIEW, SOCIAL, SENSOR, CATALOG = (
    EventKind.CLICK,
    EventKind.REVIEW,
    EventKind.SOCIAL,
    EventKind.SENSOR,
    EventKind.CATALOG,
)


def changed(kind: EventKind, drop: tuple[str, ...] = (), **changes: object) -> bytes:
    body = copy.deepcopy(EXAMPLES[kind])
    for name in drop:
        del body[name]
    body.update(changes)  # type: ignore[arg-type]
    return json.dumps(body).encode()


def with_literal(kind: EventKind, field: str, literal: str) -> bytes:
    """The example with ``field`` set to a raw JSON token (e.g. NaN, which json.dumps would quote)."""
    body = copy.deepcopy(EXAMPLES[kind])
    body[field] = "@@"
    return json.dumps(body).encode().replace(b'"@@"', literal.encode())


# (id, kind, payload, words the reason must contain, lower-cased)
MALFORMED: list[tuple[str, EventKind, bytes, tuple[str, ...]]] = [
    ("empty", CLICK, b"", ("empty",)),
    ("oversized", REVIEW, changed(REVIEW, text="x" * 4000) + b" " * 70000, ("bytes", "limit", "65536")),
    ("oversized-garbage", CLICK, b"\xff" * 70000, ("70000 bytes", "limit")),
    ("bad-utf8-start", CLICK, b"\xff\xfe{}", ("utf-8", "0xff", "offset 0")),
    (
        "bad-utf8-in-string",
        REVIEW,
        changed(REVIEW, text="caf\u00e9").replace(b"\\u00e9", b"\xe9"),
        ("utf-8",),
    ),
    ("utf8-bom", CLICK, b"\xef\xbb\xbf" + changed(CLICK), ("byte order mark",)),
    ("not-json", CLICK, b"hello world", ("not valid json",)),
    ("truncated-json", SENSOR, changed(SENSOR)[:-5], ("not valid json",)),
    ("trailing-garbage", SENSOR, changed(SENSOR) + b" extra", ("not valid json", "trailing")),
    ("json-array", CLICK, b"[1, 2, 3]", ("not an object", "array")),
    ("json-string", REVIEW, b'"a review"', ("not an object", "string")),
    ("json-null", SOCIAL, b"null", ("not an object", "null")),
    ("empty-object", SENSOR, b"{}", ("missing", "event_id", "sensor_id", "value")),
    ("missing-item", REVIEW, changed(REVIEW, drop=("item_id",)), ("missing", "item_id")),
    ("missing-text", SOCIAL, changed(SOCIAL, drop=("text",)), ("missing", "text")),
    ("rating-as-string", REVIEW, changed(REVIEW, rating="5"), ("rating", "integer", "string '5'")),
    ("rating-as-float", REVIEW, changed(REVIEW, rating=4.0), ("rating", "integer")),
    ("rating-too-high", REVIEW, changed(REVIEW, rating=6), ("rating", "less than or equal to 5")),
    ("rating-zero", REVIEW, changed(REVIEW, rating=0), ("rating", "greater than or equal to 1")),
    ("value-bool", SENSOR, changed(SENSOR, value=True), ("value", "valid number", "true")),
    ("value-string", SENSOR, changed(SENSOR, value="71.2"), ("value", "valid number")),
    ("value-nan", SENSOR, with_literal(SENSOR, "value", "NaN"), ("value", "finite")),
    ("value-infinity", SENSOR, with_literal(SENSOR, "value", "-Infinity"), ("value", "finite")),
    ("value-overflow", SENSOR, with_literal(SENSOR, "value", "1e999"), ("value", "finite")),
    ("nan-in-extra-field", SENSOR, with_literal(SENSOR, "debug", "NaN"), ("nan or infinity",)),
    ("price-negative", CLICK, changed(CLICK, price=-1), ("price", "greater than or equal to 0")),
    ("id-as-number", CLICK, changed(CLICK, item_id=42), ("item_id", "valid string", "number 42")),
    ("event-id-null", CLICK, changed(CLICK, event_id=None), ("event_id", "valid string", "null")),
    ("unknown-action", CLICK, changed(CLICK, action="buy"), ("action", "'view'", "purchase", "'buy'")),
    (
        "naive-timestamp",
        CLICK,
        changed(CLICK, occurred_at="2024-05-01T12:00:00"),
        ("occurred_at", "timezone"),
    ),
    ("unix-timestamp-string", SOCIAL, changed(SOCIAL, occurred_at="1714564800"), ("occurred_at", "rfc 3339")),
    (
        "unix-timestamp-number",
        SOCIAL,
        changed(SOCIAL, occurred_at=1714564800),
        ("occurred_at", "valid string"),
    ),
    ("date-only", SENSOR, changed(SENSOR, occurred_at="2024-05-01"), ("occurred_at", "rfc 3339")),
    ("impossible-date", SENSOR, changed(SENSOR, occurred_at="2024-02-30T00:00:00Z"), ("occurred_at", "day")),
    ("text-too-long", REVIEW, changed(REVIEW, text="y" * 5001), ("text", "at most 5000", "5001 characters")),
    ("text-blank", SOCIAL, changed(SOCIAL, text="   \n"), ("text", "blank")),
    ("text-empty", REVIEW, changed(REVIEW, text=""), ("text", "at least 1 character")),
    ("event-id-too-long", CLICK, changed(CLICK, event_id="e" * 129), ("event_id", "at most 128")),
    ("channel-too-long", SOCIAL, changed(SOCIAL, channel="c" * 65), ("channel", "at most 64")),
    ("tags-not-strings", SOCIAL, changed(SOCIAL, tags=["ok", 7]), ("tags[1]", "valid string")),
    ("tags-not-a-list", SOCIAL, changed(SOCIAL, tags="sale"), ("tags", "valid array", "string")),
    ("schema-version-bool", SENSOR, changed(SENSOR, schema_version=True), ("schema_version", "integer")),
    ("bad-language", REVIEW, changed(REVIEW, language="english!"), ("language", "bcp 47", "english!")),
    ("catalog-no-title", CATALOG, changed(CATALOG, drop=("title",)), ("missing", "title")),
    ("catalog-price-string", CATALOG, changed(CATALOG, price="24.50"), ("price", "valid number")),
    (
        "lone-surrogate-escape",
        SOCIAL,
        changed(SOCIAL, text="@@").replace(b"@@", b"\\ud800"),
        ("not valid json",),
    ),
]


def test_the_table_is_large_and_distinct() -> None:
    assert len(MALFORMED) >= 20
    assert len({case[0] for case in MALFORMED}) == len(MALFORMED)
    assert len({case[2] for case in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize(("kind", "raw", "words"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_payload_gives_a_specific_reason_and_the_exact_bytes(
    kind: EventKind, raw: bytes, words: tuple[str, ...]
) -> None:
    result = parse_event(kind, raw)
    assert isinstance(result, Invalid), result
    assert result.raw == raw
    assert type(result.raw) is bytes
    for word in words:
        assert word in result.reason.lower(), f"{word!r} not in {result.reason!r}"


def test_none_is_invalid_with_empty_raw() -> None:
    result = parse_event(CLICK, None)
    assert isinstance(result, Invalid)
    assert "missing" in result.reason and result.raw == b""


def test_oversized_payload_is_rejected_before_decoding() -> None:
    # valid JSON but one byte over: the size is what is reported, not a parse problem
    raw = changed(REVIEW)
    result = parse_event(REVIEW, raw, max_bytes=len(raw) - 1)
    assert isinstance(result, Invalid)
    assert result.reason == f"payload is {len(raw)} bytes, over the limit of {len(raw) - 1} bytes"


def test_several_problems_are_all_named() -> None:
    raw = changed(REVIEW, drop=("item_id",), rating="5", occurred_at="2024-05-01T12:00:00")
    result = parse_event(REVIEW, raw)
    assert isinstance(result, Invalid)
    for word in ("item_id", "rating", "occurred_at"):
        assert word in result.reason


def test_reason_of_many_problems_stays_short() -> None:
    raw = json.dumps(
        {"event_id": 1, "channel": 2, "occurred_at": 3, "item_id": 4, "text": 5, "rating": "x"}
    ).encode()
    result = parse_event(REVIEW, raw)
    assert isinstance(result, Invalid)
    assert "and 3 more problems" in result.reason
    assert len(result.reason) < 600


def test_parse_event_never_raises_on_odd_arguments() -> None:
    assert isinstance(parse_event("bogus", changed(CLICK)), Invalid)  # type: ignore[arg-type]
    assert isinstance(parse_event(CLICK, "not bytes"), Invalid)  # type: ignore[arg-type]
    deep = b"[" * 100000 + b"]" * 100000
    result = parse_event(CLICK, deep, max_bytes=10**6)
    assert isinstance(result, Invalid) and result.raw == deep


def test_bytearray_payload_is_accepted_and_raw_is_bytes() -> None:
    result = parse_event(CLICK, bytearray(b"[]"))  # type: ignore[arg-type]
    assert isinstance(result, Invalid) and result.raw == b"[]" and type(result.raw) is bytes
