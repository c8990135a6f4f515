"""Validation of a micro-batch: valid events go on, invalid records become dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channelpulse.schemas.events import EventKind
from channelpulse.schemas.validation import Invalid, encode_dead_letter, parse_event
from channelpulse.streams.pipeline.records import BatchResult, Emit, RawRecord


def split_valid(
    kind: EventKind,
    records: Sequence[RawRecord],
    deadletter_topic: str,
    max_bytes: int,
    result: BatchResult,
) -> list[tuple[RawRecord, Any]]:
    """Parse every record; append a dead letter to ``result`` for each invalid one."""
    valid: list[tuple[RawRecord, Any]] = []
    for record in records:
        parsed = parse_event(kind, record.value, max_bytes)
        if isinstance(parsed, Invalid):
            letter = encode_dead_letter(parsed.raw, parsed.reason, record.topic, record.partition, record.offset)
            result.emits.append(Emit(deadletter_topic, record.key, letter, pipeline="deadletter"))
            result.invalid += 1
        else:
            valid.append((record, parsed))
    result.valid += len(valid)
    return valid
