"""Constrained field types shared by the input events and the output records.

Every limit here is part of the wire contract: a value outside it makes an input event invalid
(dead-lettered with the reason) and makes building an output raise.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
NOT_BLANK_PATTERN = r"\S"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
_NAIVE_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def pattern_meaning(pattern: object, value: object) -> str | None:
    """What it means, in words, that ``value`` does not match one of the patterns above."""
    if pattern == RFC3339_PATTERN:
        if isinstance(value, str) and _NAIVE_RE.fullmatch(value):
            return "timestamp has no timezone; RFC 3339 needs Z or an offset such as +02:00"
        return "not an RFC 3339 timestamp with a timezone (expected e.g. 2024-05-01T12:00:00Z)"
    if pattern == NOT_BLANK_PATTERN:
        return "must not be blank (only whitespace)"
    if pattern == LANGUAGE_PATTERN:
        return "must be a BCP 47 language tag such as en or pt-BR"
    return None


class _Rfc3339:
    """Validation of :data:`Timestamp`, entirely in pydantic-core (no Python call per event).

    JSON: a string matching :data:`RFC3339_PATTERN`, then parsed (ranges checked) into an aware
    ``datetime``. Python: an aware ``datetime``, or such a string.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        text = core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=RFC3339_PATTERN, strict=True),
                core_schema.datetime_schema(tz_constraint="aware", strict=False),
            ]
        )
        instance = core_schema.datetime_schema(tz_constraint="aware", strict=True)
        return core_schema.json_or_python_schema(
            json_schema=text, python_schema=core_schema.union_schema([instance, text], mode="left_to_right")
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}


Timestamp = Annotated[datetime, _Rfc3339()]
"""An RFC 3339 timestamp WITH a timezone. A naive one (string or ``datetime``) is invalid, and so is a
bare Unix number, as a number or a string (which pydantic's own datetime would accept)."""

MAX_ID_CHARS = 128
"""The longest event id or identifier (characters)."""

EventId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
"""Unique id of an event (1-128 characters); the pipeline's idempotency key."""

Channel = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""Where an event came from (1-64 characters), e.g. ``web``, ``partner:acme``, ``iot:plant-7``."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
"""An id of a user, item, session, sensor or author (1-128 characters)."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A short name: a metric, a social network, a unit, a tag, a category (1-64 characters)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=NOT_BLANK_PATTERN)]
"""Free text of a review or post: 1-5000 characters, not only whitespace."""

Language = Annotated[str, StringConstraints(min_length=2, max_length=35, pattern=LANGUAGE_PATTERN)]
"""A BCP 47 language tag such as ``en`` or ``pt-BR``."""

Price = Annotated[float, Field(ge=0.0)]
"""A non-negative, finite amount in the shop's currency."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
"""A finite number in [0, 1]."""
