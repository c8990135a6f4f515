"""Keyed pseudonyms of identifiers: ``<key id>:<HMAC-SHA256(key, id), first 32 hex digits>``.

The same id under the same key always gives the same pseudonym (the lake's readers, e.g. the
recommender's refresh, group by it like by the raw id); without the key a pseudonym cannot be
computed from a guessed id, and another key gives unrelated pseudonyms. The key id prefix says
which key made a pseudonym, so rows written before a key rotation stay recognisable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

IDENTIFIER_COLUMNS = ("user_id", "session_id", "author")
"""Fields of the events (schemas/events.py) that identify a person: replaced by pseudonyms in the lake."""

DIGEST_HEX = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Pseudonymizer:
    """Pseudonyms under one key; ``key`` is never shown in its repr."""

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise ValueError(f"invalid pseudonym key id {self.key_id!r}: 1-16 letters, digits, '_' or '-'")
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must have at least {MIN_KEY_BYTES} bytes")

    def pseudonym(self, identifier: str) -> str:
        digest = hmac.new(self.key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{self.key_id}:{digest[:DIGEST_HEX]}"

    def row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row`` with every identifier column (when a string) replaced by its pseudonym."""
        out = dict(row)
        for column in IDENTIFIER_COLUMNS:
            value = out.get(column)
            if isinstance(value, str):
                out[column] = self.pseudonym(value)
        return out
