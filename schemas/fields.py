"""Constrained field types shared by the input events and the output records.

Every limit here is part of the wire contract: a value outside it makes an input event invalid
(dead-lettered with the reason) and makes building an output raise.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
_RFC3339_RE = re.compile(_RFC3339)
_NAIVE_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")

NOT_BLANK_PATTERN = r"\S"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
PATTERN_MEANINGS = {
    NOT_BLANK_PATTERN: "must not be blank (only whitespace)",
    LANGUAGE_PATTERN: "must be a BCP 47 language tag such as en or pt-BR",
}
"""What a failed match of each pattern means, in words (used in the reasons of invalid events)."""


def _rfc3339_text(value: Any) -> Any:
    """Let a ``datetime`` through; accept a string only in RFC 3339 form with a zone (Z or ±HH:MM).

    The ranges (month 1-12, ...) are then checked by pydantic's own parser, and a naive
    ``datetime`` object is rejected by :class:`pydantic.AwareDatetime`.
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string such as 2024-05-01T12:00:00Z")
    if _RFC3339_RE.fullmatch(value) is None:
        if _NAIVE_RE.fullmatch(value) is not None:
            raise ValueError("timestamp has no timezone; RFC 3339 needs Z or an offset such as +02:00")
        raise ValueError("not an RFC 3339 timestamp (expected e.g. 2024-05-01T12:00:00Z)")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    # strict=False: the string has already been checked above; pydantic parses it into a datetime.
    Field(strict=False, json_schema_extra={"pattern": _RFC3339}),
]
"""An RFC 3339 timestamp WITH a timezone (a naive one, string or ``datetime``, is invalid; so is a
bare Unix number, which pydantic would otherwise accept)."""

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""Unique id of an event (1-128 characters); the pipeline's idempotency key."""

Channel = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""Where an event came from (1-64 characters), e.g. ``web``, ``partner:acme``, ``iot:plant-7``."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
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
