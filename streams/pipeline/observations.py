"""Per-channel observations routed (keyed by channel) to the analytics agent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from streams.kafka_io import INTERNAL_TOPICS
from streams.pipeline.records import Emit

OBSERVATIONS_TOPIC = INTERNAL_TOPICS[0]


def observation(channel: str, kind: str, occurred_at: datetime, **fields: Any) -> Emit:
    """An observation record: the channel, the event kind, its event time and kind-specific fields
    (``action`` for clicks; ``label`` and ``score`` for sentiment)."""
    body = {"channel": channel, "kind": kind, "occurred_at": occurred_at.isoformat(), **fields}
    return Emit(OBSERVATIONS_TOPIC, channel.encode("utf-8"), json.dumps(body).encode("utf-8"), pipeline="observations")
