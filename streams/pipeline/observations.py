"""Per-channel observations routed (keyed by channel) to the analytics agent.

Each carries its input event's position (``source``: topic, partition, offset), so the analytics
count an event once even when a replay of its input produces the observation again
(streams/pipeline/analytics.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from channelpulse.streams.pipeline.records import Emit, RawRecord


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
