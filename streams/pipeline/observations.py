"""Per-channel observations routed (keyed by channel) to the analytics agent.

Each carries its input event's position (``source``: topic, partition, offset), so the analytics
count an event once even when a replay of its input produces the observation again
(streams/pipeline/analytics.py).

Sensor readings carry nothing but their channel and event time, so a batch's readings go as one
*grouped* observation per channel and input partition (:func:`grouped_observations`): the input
topic and partition once, then each reading's offset and event time in input order. The analytics
apply it exactly as they would the readings' single observations in that order (each reading is
counted once by its own offset), at one record instead of one per reading on the observations
topic (docs/ARCHITECTURE.md, Per-key state)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from channelpulse.streams.pipeline.records import Emit, RawRecord

GROUPED_KINDS = ("sensor",)
"""Kinds whose observations carry nothing but channel and event time, and may therefore be grouped."""


def observation(
    topic: str, source: RawRecord, channel: str, kind: str, occurred_at: datetime, **fields: Any
) -> Emit:
    """An observation record for ``topic`` (``Settings.topic_observations``) of the input record
    ``source``: the channel, the event kind, its event time and kind-specific fields (``action`` for
    clicks; ``label`` and ``score`` for sentiment)."""
    body = {
        "channel": channel, "kind": kind, "occurred_at": occurred_at.isoformat(),
        "source": [source.topic, source.partition, source.offset], **fields,
    }
    return Emit(topic, channel.encode("utf-8"), json.dumps(body).encode("utf-8"), pipeline="observations")


def grouped_observations(topic: str, kind: str, events: Sequence[tuple[RawRecord, str, datetime]]) -> list[Emit]:
    """The observations of a batch's ``events`` (input record, channel, event time) of one field-less
    ``kind`` (:data:`GROUPED_KINDS`): one record per channel and input partition, ``{"channel",
    "kind", "input": [topic, partition], "readings": [[offset, occurred_at], ...]}``, the readings in
    the order given (input order); the records in the order of their first reading."""
    if kind not in GROUPED_KINDS:
        raise ValueError(f"observations of kind {kind!r} carry fields and are not grouped")
    groups: dict[tuple[str, str, int], list[list[Any]]] = {}
    for source, channel, occurred_at in events:
        groups.setdefault((channel, source.topic, source.partition), []).append(
            [source.offset, occurred_at.isoformat()]
        )
    return [
        Emit(
            topic,
            channel.encode("utf-8"),
            json.dumps({"channel": channel, "kind": kind, "input": [in_topic, partition], "readings": readings}).encode(
                "utf-8"
            ),
            pipeline="observations",
        )
        for (channel, in_topic, partition), readings in groups.items()
    ]
