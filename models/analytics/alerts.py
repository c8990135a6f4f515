"""Alert records (dicts with the fields of ``channelpulse.schemas.outputs.Alert``) and the sensor-anomaly alert.

Alert ids are stable (built from what the alert is about, never from a clock or a counter), so a
replayed or re-processed input raises the same id again and consumers can de-duplicate on it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from channelpulse.models.anomaly.episodes import EpisodeTracker

MAX_ID_LENGTH = 128
NEGATIVE_SENTIMENT_SPIKE = "negative_sentiment_spike"
SENSOR_ANOMALY = "sensor_anomaly"


def alert_id(kind: str, subject: str, moment: datetime) -> str:
    """``kind:subject:time`` (ISO 8601); a long subject is replaced by its SHA-1 to stay within 128 chars."""
    stamp = moment.isoformat()
    candidate = f"{kind}:{subject}:{stamp}"
    if len(candidate) <= MAX_ID_LENGTH:
        return candidate
    return f"{kind}:{hashlib.sha1(subject.encode()).hexdigest()}:{stamp}"


def sensor_anomaly_alert(
    episodes: EpisodeTracker,
    *,
    sensor_id: str,
    flag: bool,
    score: float,
    value: float,
    occurred_at: datetime,
    metric: str | None = None,
    channel: str | None = None,
) -> dict[str, Any] | None:
    """Feed one scored reading's flag to the sensor's episode tracker; an alert when it opens an episode.

    Call it for EVERY scored reading of the sensor (unflagged ones too: they count towards the quiet
    period that re-arms the alert). Flags inside an open episode return None.
    """
    if not episodes.observe(flag):
        return None
    what = f"{metric} " if metric else ""
    return {
        "alert_id": alert_id(SENSOR_ANOMALY, sensor_id, occurred_at),
        "kind": SENSOR_ANOMALY,
        "channel": channel,
        "sensor_id": sensor_id,
        "detail": (
            f"sensor {sensor_id}: {what}reading {value:.6g} at {occurred_at.isoformat()} has anomaly score "
            f"{score:.2f}; anomaly episode {episodes.episodes} of this sensor. Further flags are not "
            f"alerted until {episodes.cooldown} readings pass without one."
        ),
        "raised_at": occurred_at,
    }
