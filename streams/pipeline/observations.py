"""Per-channel observations routed (keyed by channel) to the analytics agent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from streams.pipeline.records import Emit


def observation(topic: str, channel: str, kind: str, occurred_at: datetime, **fields: Any) -> Emit:
    """An observation record for ``topic`` (``Settings.topic_observations``): the channel, the event
    kind, its event time and kind-specific fields (``action`` for clicks; ``label`` and ``score`` for
    sentiment)."""
    body = {"channel": channel, "kind": kind, "occurred_at": occurred_at.isoformat(), **fields}
    return Emit(topic, channel.encode("utf-8"), json.dumps(body).encode("utf-8"), pipeline="observations")
