"""Tumbling per-channel windows in event time, closed by a watermark.

Windows are aligned to the Unix epoch (``[k * length, (k + 1) * length)``, UTC) and keyed by channel.
The watermark is the latest event time seen minus the allowed lateness, shared by all channels of one
:class:`ChannelWindows` (one stream partition): a window closes once the watermark reaches its end, so
a quiet channel's window still closes when other channels move time on. An event whose window has
already closed is dropped and counted in ``late_dropped``. :meth:`ChannelWindows.flush` closes windows
by processing time (a timer) or, without an argument, all of them (shutdown, end of a replay).

A closed window is a dict with the fields of ``channelpulse.schemas.outputs.ChannelWindow``: ``channel``,
``window_start``/``window_end`` (aware UTC datetimes), ``counts`` by kind (clicks, reviews, social,
sensors), ``actions`` (view, click, add_to_cart, purchase), ``conversion`` = purchases / views (None
without views), ``sentiment_mean`` and ``negative_share`` over reviews and social posts (None without
any). Windows without events are not emitted. The whole state is a JSON-able dict (a Faust table).

The state is bounded: a channel has open windows only between the watermark and the latest event
time (at most ``lateness / length + 2`` of them), and :meth:`ChannelWindows.evict` closes the windows of
the channels seen least recently (in arrival order) beyond a number of channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from channelpulse.models.analytics.observations import ACTIONS, EPOCH, KINDS, Observation, epoch_us

COUNT_KEYS = {"click": "clicks", "review": "reviews", "social": "social", "sensor": "sensors"}


def to_datetime(epoch_us: int) -> datetime:
    """An aware UTC datetime from integer microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=epoch_us)


@dataclass
class WindowTally:
    """Running counts of one channel's window."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    sentiment_n: int = 0
    sentiment_sum: float = 0.0
    negative_n: int = 0

    def add(self, obs: Observation) -> None:
        self.counts[obs.kind] += 1
        if obs.action is not None:
            self.actions[obs.action] += 1
        if obs.score is not None:
            self.sentiment_n += 1
            self.sentiment_sum += obs.score
            self.negative_n += obs.label == "negative"

    def result(self, channel: str, start_us: int, end_us: int) -> dict[str, Any]:
        views, purchases = self.actions["view"], self.actions["purchase"]
        n = self.sentiment_n
        return {
            "channel": channel,
            "window_start": to_datetime(start_us),
            "window_end": to_datetime(end_us),
            "counts": {COUNT_KEYS[kind]: self.counts[kind] for kind in KINDS},
            "actions": dict(self.actions),
            "conversion": purchases / views if views else None,
            "sentiment_mean": max(-1.0, min(1.0, self.sentiment_sum / n)) if n else None,
            "negative_share": self.negative_n / n if n else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "actions": dict(self.actions),
            "sentiment_n": self.sentiment_n,
            "sentiment_sum": self.sentiment_sum,
            "negative_n": self.negative_n,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowTally:
        return cls(
            counts={k: int(data["counts"][k]) for k in KINDS},
            actions={a: int(data["actions"][a]) for a in ACTIONS},
            sentiment_n=int(data["sentiment_n"]),
            sentiment_sum=float(data["sentiment_sum"]),
            negative_n=int(data["negative_n"]),
        )


class ChannelWindows:
    """Tumbling event-time windows per channel: ``add(observation) -> closed windows``."""

    def __init__(self, length_s: float, allowed_lateness_s: float = 5.0) -> None:
        self.length_us = round(length_s * 1_000_000)
        self.lateness_us = round(allowed_lateness_s * 1_000_000)
        if self.length_us <= 0 or self.lateness_us < 0:
            raise ValueError("need a positive window length and a non-negative allowed lateness")
        self.open: dict[str, dict[int, WindowTally]] = {}
        self.watermark_us: int | None = None
        self.late_dropped = 0

    def add(self, obs: Observation) -> list[dict[str, Any]]:
        """Count one observation; returns the windows its event time closed (oldest first)."""
        at = obs.epoch_us
        start = at - at % self.length_us
        if self.watermark_us is not None and start + self.length_us <= self.watermark_us:
            self.late_dropped += 1
            return []
        windows = self.open.pop(obs.channel, {})
        self.open[obs.channel] = windows  # the most recently seen channel last: evicted last
        windows.setdefault(start, WindowTally()).add(obs)
        return self._advance(at - self.lateness_us)

    def evict(self, max_channels: int) -> list[dict[str, Any]]:
        """Close every window of the channels seen least recently beyond ``max_channels`` channels
        with open windows, early (their later observations open new windows for the same span)."""
        closed = []
        while len(self.open) > max_channels:
            channel = next(iter(self.open))
            windows = self.open.pop(channel)
            closed += [windows[start].result(channel, start, start + self.length_us) for start in sorted(windows)]
        return closed

    def flush(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Close the windows that ``now`` minus the allowed lateness has passed; all of them without ``now``."""
        if now is not None:
            return self._advance(epoch_us(now) - self.lateness_us)
        closed = self._close(lambda end: True)
        if closed:  # events for the flushed windows would now be late
            last_end = epoch_us(closed[-1]["window_end"])
            self.watermark_us = last_end if self.watermark_us is None else max(self.watermark_us, last_end)
        return closed

    def _advance(self, watermark_us: int) -> list[dict[str, Any]]:
        if self.watermark_us is not None and watermark_us <= self.watermark_us:
            return []
        self.watermark_us = watermark_us
        return self._close(lambda end: end <= watermark_us)

    def _close(self, due: Callable[[int], bool]) -> list[dict[str, Any]]:
        closed = []
        for channel, windows in list(self.open.items()):
            for start in sorted(windows):
                end = start + self.length_us
                if due(end):
                    closed.append(windows.pop(start).result(channel, start, end))
            if not windows:
                del self.open[channel]
        closed.sort(key=lambda w: (w["window_end"], w["channel"]))
        return closed

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (window starts as strings of epoch microseconds)."""
        return {
            "length_us": self.length_us,
            "lateness_us": self.lateness_us,
            "watermark_us": self.watermark_us,
            "late_dropped": self.late_dropped,
            "open": {
                channel: {str(start): tally.to_dict() for start, tally in windows.items()}
                for channel, windows in self.open.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelWindows:
        state = cls(int(data["length_us"]) / 1_000_000, int(data["lateness_us"]) / 1_000_000)
        state.length_us, state.lateness_us = int(data["length_us"]), int(data["lateness_us"])
        watermark = data.get("watermark_us")
        state.watermark_us = None if watermark is None else int(watermark)
        state.late_dropped = int(data.get("late_dropped", 0))
        state.open = {
            channel: {int(start): WindowTally.from_dict(t) for start, t in windows.items()}
            for channel, windows in data["open"].items()
        }
        return state
