"""Channel analytics over the observation stream: tumbling windows per channel and negative-sentiment
surge alerts. Kafka-agnostic: ``step(state, records) -> (state, emits)`` on one partition's state.

A record is either an observation (see streams/pipeline/observations.py) or a tick
``{"tick": <RFC 3339 time>}`` that the worker sends to every partition periodically, so windows of
quiet channels close on time and every state change happens inside stream processing.

Windows close by event time: the watermark is the latest event time seen on the partition minus the
allowed lateness. A tick's wall-clock time closes windows only when the partition is idle, i.e. no
observation came since the previous tick (:data:`IDLE_TICKS` ticks in a row); so while a backlog is
drained (observations with old event times, ticks in between) no window is closed ahead of its data.
Observations that still come after their window closed are counted in ``late_dropped`` (exported by
the worker as ``channelpulse_analytics_late_total``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from channelpulse.config import Settings
from models.analytics.observations import Observation
from models.analytics.surge import NegativeSurgeDetector
from models.analytics.windows import ChannelWindows
from schemas.outputs import Alert, ChannelWindow
from schemas.validation import encode, output_key
from streams.pipeline.records import Emit

IDLE_TICKS = 2
"""Ticks in a row without an observation after which the partition is idle and a tick's wall-clock
time closes its windows."""


class ChannelAnalytics:
    """One partition's windows and surge detector, serialisable for a Faust table."""

    def __init__(self, windows: ChannelWindows, surge: NegativeSurgeDetector, idle_ticks: int = 0) -> None:
        self.windows = windows
        self.surge = surge
        self.idle_ticks = idle_ticks  # ticks since the last observation

    @classmethod
    def new(cls, settings: Settings) -> ChannelAnalytics:
        return cls(ChannelWindows(settings.analytics_window_s, settings.analytics_lateness_s), NegativeSurgeDetector())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelAnalytics:
        return cls(
            ChannelWindows.from_dict(data["windows"]),
            NegativeSurgeDetector.from_dict(data["surge"]),
            int(data.get("idle_ticks", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"windows": self.windows.to_dict(), "surge": self.surge.to_dict(), "idle_ticks": self.idle_ticks}

    def step(self, values: Sequence[bytes], settings: Settings) -> list[Emit]:
        """Apply observation/tick records in order; the closed windows and alerts to publish."""
        closed: list[dict[str, Any]] = []
        for value in values:
            body = json.loads(value)
            if "tick" in body:
                self.idle_ticks += 1
                if self.idle_ticks >= IDLE_TICKS:
                    closed += self.windows.flush(datetime.fromisoformat(body["tick"]))
                continue
            self.idle_ticks = 0
            at = datetime.fromisoformat(body["occurred_at"])
            kind = body["kind"]
            if kind == "click":
                obs = Observation.click(body["channel"], at, body["action"])
            elif kind in ("review", "social"):
                obs = Observation.sentiment(body["channel"], at, kind, body["label"], body["score"])
            else:
                obs = Observation.sensor(body["channel"], at)
            closed += self.windows.add(obs)
        emits = []
        for window in closed:
            record = ChannelWindow.model_validate(window)
            emits.append(Emit(settings.topic_analytics, output_key(record), encode(record), pipeline="analytics"))
            alert = self.surge.update(window)
            if alert is not None:
                out = Alert.model_validate(alert)
                emits.append(Emit(settings.topic_alerts, output_key(out), encode(out), pipeline="alerts"))
        return emits
