"""Output records: exact dead-letter bytes, the contract's invariants, encode and output_key."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ValidationError

from channelpulse.schemas import validation
from channelpulse.schemas.events import EXAMPLES, EventKind
from channelpulse.schemas.outputs import (
    ActionCounts,
    Alert,
    ChannelWindow,
    DeadLetter,
    KindCounts,
    ModelRef,
    Recommendation,
    RecommendedItem,
    SentimentScore,
)
from channelpulse.schemas.validation import (
    Invalid,
    encode,
    encode_dead_letter,
    encode_recommendation,
    output_key,
    parse_event,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00",
        bytes(range(256)),
        b"\xff\xfe not utf-8 \xc3\x28",
        "caf\u00e9 \U0001f600".encode(),
        b"x" * 70001,
    ],
    ids=["empty", "nul", "all-bytes", "bad-utf8", "unicode", "large"],
)
def test_dead_letter_round_trips_raw_bytes_exactly(raw: bytes) -> None:
    letter = DeadLetter.of(raw, "some reason", "events.reviews", 3, 12345)
    assert letter.original_bytes() == raw
    assert letter.raw == base64.b64encode(raw).decode("ascii")
    # ... and through the wire
    back = DeadLetter.model_validate_json(encode(letter))
    assert back == letter
    assert back.original_bytes() == raw
    assert back.received_at.tzinfo is not None


@pytest.mark.parametrize(
    "raw", [b"", bytes(range(256)), b"\xff\xfe not utf-8", "caf\u00e9 \U0001f600".encode(), b"x" * 70001]
)
@pytest.mark.parametrize(
    "error", ["r", 'payload is not valid JSON: "quoted" \\ \u2028 caf\u00e9 \U0001f600', "ctrl \x00\n\t"]
)
@pytest.mark.parametrize(
    "received_at", [AT, AT + timedelta(microseconds=123456), AT.astimezone(timezone(timedelta(hours=2)))]
)
def test_the_direct_dead_letter_encoding_is_the_models_byte_for_byte(
    raw: bytes, error: str, received_at: datetime
) -> None:
    letter = DeadLetter(
        source_topic="events.reviews",
        partition=3,
        offset=12345,
        error=error,
        raw=base64.b64encode(raw).decode("ascii"),
        received_at=received_at,
    )
    encoded = encode_dead_letter(raw, error, "events.reviews", 3, 12345, received_at)
    assert encoded == encode(letter)
    assert DeadLetter.model_validate_json(encoded).original_bytes() == raw


def test_the_direct_dead_letter_encoding_refuses_what_the_model_refuses() -> None:
    for args in [(b"x", "", "t", 0, 0), (b"x", "r", "", 0, 0), (b"x", "r", "t", -1, 0), (b"x", "r", "t", 0, -1)]:
        with pytest.raises(ValueError):
            encode_dead_letter(*args)
    now = DeadLetter.model_validate_json(encode_dead_letter(b"x", "r", "t", 0, 0)).received_at
    assert now.tzinfo is not None and abs(datetime.now(timezone.utc) - now) < timedelta(minutes=1)


def test_dead_letter_of_an_invalid_payload_keeps_reason_and_position() -> None:
    raw = b'{"event_id": 5}'
    parsed = parse_event(EventKind.CLICK, raw)
    assert isinstance(parsed, Invalid)
    letter = DeadLetter.of(parsed.raw, parsed.reason, "events.clicks", 0, 7)
    body = json.loads(encode(letter))
    assert body["source_topic"] == "events.clicks" and body["partition"] == 0 and body["offset"] == 7
    assert "event_id" in body["error"]
    assert base64.b64decode(body["raw"]) == raw


def test_dead_letter_rejects_raw_that_is_not_base64() -> None:
    letter = DeadLetter.of(b"abc", "r", "t", 0, 0)
    with pytest.raises(ValidationError, match="raw"):
        DeadLetter.model_validate({**letter.model_dump(), "raw": "not base64!"})


def test_every_output_round_trips_through_encode(outputs: dict[str, BaseModel]) -> None:
    for name, record in outputs.items():
        data = encode(record)
        assert b"\n" not in data and b": " not in data, f"{name} is not compact"
        assert type(record).model_validate_json(data) == record, name


def test_encode_writes_utc_timestamps_with_a_zone(outputs: dict[str, BaseModel]) -> None:
    body = json.loads(encode(outputs["AnomalyScore"]))
    assert body["scored_at"] == "2024-05-01T12:00:00Z"


def test_output_keys(outputs: dict[str, BaseModel]) -> None:
    assert output_key(outputs["SentimentScore"]) == b"sku-42"
    assert output_key(outputs["Recommendation"]) == b"u-1"
    assert output_key(outputs["AnomalyScore"]) == b"press-3"
    assert output_key(outputs["ChannelWindow"]) == b"web"
    assert output_key(outputs["Alert"]) == b"press-3"
    assert output_key(outputs["DeadLetter"]) is None


def test_sentiment_key_falls_back_to_user_then_none(outputs: dict[str, BaseModel]) -> None:
    score = outputs["SentimentScore"]
    assert output_key(score.model_copy(update={"item_id": None, "user_id": "u-9"})) == b"u-9"
    assert output_key(score.model_copy(update={"item_id": None})) is None


def test_alert_about_a_channel_is_keyed_by_channel() -> None:
    alert = Alert(alert_id="a", kind="negative_sentiment_spike", channel="partner:acme", detail="d", raised_at=AT)
    assert output_key(alert) == b"partner:acme"


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (EventKind.CATALOG, b"sku-42"),
        (EventKind.CLICK, b"u-1"),
        (EventKind.REVIEW, b"sku-42"),
        (EventKind.SENSOR, b"press-3"),
    ],
)
def test_input_events_have_keys_too(kind: EventKind, key: bytes) -> None:
    event = parse_event(kind, json.dumps(EXAMPLES[kind]).encode())
    assert not isinstance(event, Invalid)
    assert output_key(event) == key


def test_output_key_refuses_foreign_models() -> None:
    with pytest.raises(TypeError):
        output_key(ModelRef(name="x", version="1"))


def test_sentiment_probabilities_are_checked_and_ordered(outputs: dict[str, BaseModel]) -> None:
    fields = outputs["SentimentScore"].model_dump()
    reordered = SentimentScore(**{**fields, "probabilities": {"positive": 0.8, "negative": 0.1, "neutral": 0.1}})
    assert list(reordered.probabilities) == ["negative", "neutral", "positive"]
    with pytest.raises(ValidationError, match="sum to 1"):
        SentimentScore(**{**fields, "probabilities": {"negative": 0.5, "neutral": 0.5, "positive": 0.5}})
    with pytest.raises(ValidationError, match="exactly the keys"):
        SentimentScore(**{**fields, "probabilities": {"negative": 0.5, "positive": 0.5}})
    with pytest.raises(ValidationError, match="score"):
        SentimentScore(**{**fields, "score": 1.5})
    with pytest.raises(ValidationError, match="finite"):
        SentimentScore(**{**fields, "score": float("nan")})


def test_outputs_forbid_unknown_fields_and_naive_times(outputs: dict[str, BaseModel]) -> None:
    fields = outputs["AnomalyScore"].model_dump()
    with pytest.raises(ValidationError, match="extra"):
        type(outputs["AnomalyScore"])(**fields, sensorid="typo")
    with pytest.raises(ValidationError, match="timezone"):
        type(outputs["AnomalyScore"])(**{**fields, "scored_at": datetime(2024, 5, 1)})
    with pytest.raises(ValidationError, match="anomaly_score"):
        type(outputs["AnomalyScore"])(**{**fields, "anomaly_score": 1.2})


def test_recommendation_items_must_be_best_first_and_distinct() -> None:
    ref = ModelRef(name="recommender", version="1")
    items = [RecommendedItem(item_id="a", score=0.2), RecommendedItem(item_id="b", score=0.9)]
    with pytest.raises(ValidationError, match="best first"):
        Recommendation(event_id="e", user_id="u", items=items, model=ref, scored_at=AT)
    twice = [RecommendedItem(item_id="a", score=0.9), RecommendedItem(item_id="a", score=0.5)]
    with pytest.raises(ValidationError, match="repeat"):
        Recommendation(event_id="e", user_id="u", items=twice, model=ref, scored_at=AT)
    empty = Recommendation(event_id="e", user_id="u", items=[], model=ref, scored_at=AT)
    assert empty.items == []


REF = ModelRef(name="recommender", version="7")


@pytest.mark.parametrize(
    "items",
    [
        [],
        [("sku-1", 1.0)],
        [("sku-1", 0.30000000000000004), ("sku-2", 0.3), ("é-ß-😀", 1e-7), ("x" * 128, 0.0), ("y", -2.5)],
        [("a", 0.5), ("b", 0.5), ("c", 0.5)],  # ties are allowed (not increasing)
    ],
)
@pytest.mark.parametrize("scored_at", [AT, datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=2)))])
def test_the_direct_recommendation_encoding_is_the_models_byte_for_byte(
    items: list[tuple[str, float]], scored_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Recommendation(
        event_id="c-1",
        user_id='u "1"\\',
        items=[RecommendedItem(item_id=i, score=s) for i, s in items],
        model=REF,
        scored_at=scored_at,
    )
    expected = encode(model)

    def no_model(**fields: object) -> None:
        raise AssertionError("a plain recommendation is written directly, without a model")

    monkeypatch.setattr(validation, "Recommendation", no_model)
    assert encode_recommendation("c-1", 'u "1"\\', items, REF, scored_at) == expected


@pytest.mark.parametrize(
    ("event_id", "items", "scored_at", "match"),
    [
        ("e", [("a", 0.2), ("b", 0.9)], AT, "best first"),
        ("e", [("a", 0.9), ("a", 0.5)], AT, "repeat"),
        ("e", [("", 0.9)], AT, "at least 1 character"),
        ("e", [("x" * 129, 0.9)], AT, "at most 128 characters"),
        ("e", [("a", float("nan"))], AT, "finite number"),
        ("e", [("a", float("inf"))], AT, "finite number"),
        ("", [("a", 0.9)], AT, "at least 1 character"),
        ("e", [("a", 0.9)], datetime(2024, 5, 1, 12, 0), "timezone"),
    ],
)
def test_the_direct_recommendation_encoding_refuses_what_the_model_refuses(
    event_id: str, items: list[tuple[str, float]], scored_at: datetime, match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        encode_recommendation(event_id, "u", items, REF, scored_at)


def test_a_recommendation_of_other_value_types_is_validated_by_the_model() -> None:
    """An int score (lax float) is what the model makes of it; a non-str item id is refused."""
    assert encode_recommendation("e", "u", [("a", 1)], REF, AT) == encode(
        Recommendation(
            event_id="e", user_id="u", items=[RecommendedItem(item_id="a", score=1)], model=REF, scored_at=AT
        )
    )
    with pytest.raises(ValidationError, match="valid string"):
        encode_recommendation("e", "u", [(5, 0.5)], REF, AT)  # type: ignore[list-item]


def _window(**changes: object) -> ChannelWindow:
    fields: dict[str, object] = {
        "channel": "web",
        "window_start": AT,
        "window_end": AT + timedelta(minutes=1),
        "counts": KindCounts(clicks=2),
        "actions": ActionCounts(view=0, purchase=2),
        "conversion": None,
        "sentiment_mean": None,
        "negative_share": None,
    }
    fields.update(changes)
    return ChannelWindow(**fields)  # type: ignore[arg-type]


def test_channel_window_nulls_and_order() -> None:
    window = _window()
    assert json.loads(encode(window))["conversion"] is None
    with pytest.raises(ValidationError, match="no views"):
        _window(conversion=0.0)
    with pytest.raises(ValidationError, match="no views"):
        _window(actions=ActionCounts(view=4, purchase=1))
    assert _window(actions=ActionCounts(view=4, purchase=6), conversion=1.5).conversion == 1.5
    with pytest.raises(ValidationError, match="after window_start"):
        _window(window_end=AT)
    with pytest.raises(ValidationError, match="negative_share"):
        _window(negative_share=1.5)


def test_alert_needs_a_subject_and_a_snake_case_kind() -> None:
    with pytest.raises(ValidationError, match="channel or a sensor_id"):
        Alert(alert_id="a", kind="sensor_anomaly", detail="d", raised_at=AT)
    with pytest.raises(ValidationError, match="kind"):
        Alert(alert_id="a", kind="Sensor Anomaly", sensor_id="s", detail="d", raised_at=AT)
