"""Channel analytics over the observation stream: tumbling windows per channel and negative-sentiment
surge alerts. Kafka-agnostic: ``step(state, records) -> (state, emits)`` on one partition's state.

A record is either an observation (see streams/pipeline/observations.py; a grouped one counts as its
readings' single observations in order) or a tick
``{"tick": <RFC 3339 time>}`` that the worker sends to every partition periodically, so windows of
quiet channels close on time and every state change happens inside stream processing.

Windows close by event time: the watermark is the latest event time seen on the partition minus the
allowed lateness. A tick's wall-clock time closes windows only when the partition is idle, i.e. no
observation came since the previous tick (:data:`IDLE_TICKS` ticks in a row); so while a backlog is
drained (observations with old event times, ticks in between) no window is closed ahead of its data.
Observations that still come after their window closed are counted in ``late_dropped`` (exported by
the worker as ``channelpulse_analytics_late_total``).

Replays count nothing twice. Records are applied at their position (the observation offset): one
below the state's ``next_offset`` was applied already (the state was stored, its offset not yet
committed) and is skipped. An observation also names its input event (``source``: topic, partition,
offset); per input partition the state keeps the next input offset to count, so an observation
produced again by a replay of its input (the scoring worker crashed before committing) is skipped too.
Both are counted in ``duplicates`` (``channelpulse_analytics_duplicates_total``). This relies on each
input partition's observations reaching an observation partition in input order (one producer per
input partition at a time, sending a batch's outputs in order).

The state is bounded: past ``CHANNELPULSE_ANALYTICS_MAX_CHANNELS`` channels with open windows, the
least recently seen channel's windows are closed early and published; past as many surge baselines,
the least recently updated is dropped (both counted in ``evicted``,
``channelpulse_analytics_evicted_total``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from channelpulse.config import Settings
from channelpulse.models.analytics.observations import Observation
from channelpulse.models.analytics.surge import NegativeSurgeDetector
from channelpulse.models.analytics.windows import ChannelWindows
from channelpulse.schemas.outputs import Alert, ChannelWindow
from channelpulse.schemas.validation import encode, output_key
from channelpulse.streams.pipeline.records import Emit

IDLE_TICKS = 2
"""Ticks in a row without an observation after which the partition is idle and a tick's wall-clock
time closes its windows."""


class ChannelAnalytics:
    """One partition's windows and surge detector, serialisable for a Faust table."""

    def __init__(
        self,
        windows: ChannelWindows,
        surge: NegativeSurgeDetector,
        idle_ticks: int = 0,
        next_offset: int = 0,
        sources: dict[str, int] | None = None,
        duplicates: int = 0,
        evicted: int = 0,
    ) -> None:
        self.windows = windows
        self.surge = surge
        self.idle_ticks = idle_ticks  # ticks since the last observation
        self.next_offset = next_offset  # the next record position to apply
        self.sources = sources or {}  # "topic:partition" of an input -> its next offset to count
        self.duplicates = duplicates  # records skipped as already applied
        self.evicted = evicted  # windows closed early and baselines dropped to keep the state bounded

    @classmethod
    def new(cls, settings: Settings) -> ChannelAnalytics:
        return cls(ChannelWindows(settings.analytics_window_s, settings.analytics_lateness_s), NegativeSurgeDetector())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelAnalytics:
        return cls(
            ChannelWindows.from_dict(data["windows"]),
            NegativeSurgeDetector.from_dict(data["surge"]),
            int(data.get("idle_ticks", 0)),
            int(data.get("next_offset", 0)),
            {str(k): int(v) for k, v in data.get("sources", {}).items()},
            int(data.get("duplicates", 0)),
            int(data.get("evicted", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows.to_dict(),
            "surge": self.surge.to_dict(),
            "idle_ticks": self.idle_ticks,
            "next_offset": self.next_offset,
            "sources": dict(self.sources),
            "duplicates": self.duplicates,
            "evicted": self.evicted,
        }

    def step(self, records: Sequence[tuple[int, bytes]], settings: Settings) -> list[Emit]:
        """Apply ``(position, value)`` observation/tick records in order; the closed windows and
        alerts to publish."""
        closed: list[dict[str, Any]] = []
        for position, value in records:
            if position < self.next_offset:
                self.duplicates += 1
                continue
            self.next_offset = position + 1
            body = json.loads(value)
            if "tick" in body:
                self.idle_ticks += 1
                if self.idle_ticks >= IDLE_TICKS:
                    closed += self.windows.flush(datetime.fromisoformat(body["tick"]))
                continue
            if "readings" in body:
                closed += self._count_grouped(body, settings)
                continue
            if "source" in body and not self._first_time(body["source"]):
                self.duplicates += 1
                continue
            at = datetime.fromisoformat(body["occurred_at"])
            kind = body["kind"]
            if kind == "click":
                obs = Observation.click(body["channel"], at, body["action"])
            elif kind in ("review", "social"):
                obs = Observation.sentiment(body["channel"], at, kind, body["label"], body["score"])
            else:
                obs = Observation.sensor(body["channel"], at)
            closed += self._count(obs, settings)
        emits = []
        for window in closed:
            record = ChannelWindow.model_validate(window)
            emits.append(Emit(settings.topic_analytics, output_key(record), encode(record), pipeline="analytics"))
            alert = self.surge.update(window)
            if alert is not None:
                out = Alert.model_validate(alert)
                emits.append(Emit(settings.topic_alerts, output_key(out), encode(out), pipeline="alerts"))
        self.evicted += self.surge.forget(settings.analytics_max_channels)
        return emits

    def _count(self, obs: Observation, settings: Settings) -> list[dict[str, Any]]:
        """Count one observation seen for the first time; the windows it closed (or evicted)."""
        self.idle_ticks = 0
        closed = self.windows.add(obs)
        evicted = self.windows.evict(settings.analytics_max_channels)
        self.evicted += len(evicted)
        return closed + evicted

    def _count_grouped(self, body: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
        """Count a grouped observation (streams/pipeline/observations.py) as its readings' single
        observations in order: each by its own input offset, so a replay counts none twice. Checked
        whole before anything is counted (a malformed one leaves the state as it was)."""
        if body["kind"] != "sensor":
            raise ValueError(f"a grouped observation of kind {body['kind']!r}")
        topic, partition = str(body["input"][0]), int(body["input"][1])
        channel = str(body["channel"])
        readings = [
            (int(offset), Observation.sensor(channel, datetime.fromisoformat(at))) for offset, at in body["readings"]
        ]
        closed: list[dict[str, Any]] = []
        for offset, obs in readings:
            if not self._first_time([topic, partition, offset]):
                self.duplicates += 1
                continue
            closed += self._count(obs, settings)
        return closed

    def _first_time(self, source: list[Any]) -> bool:
        """Whether the input event at ``source`` (topic, partition, offset) is counted for the first time."""
        topic, partition, offset = str(source[0]), int(source[1]), int(source[2])
        name = f"{topic}:{partition}"
        if offset < self.sources.get(name, 0):
            return False
        self.sources[name] = offset + 1
        return True
