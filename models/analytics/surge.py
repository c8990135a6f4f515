"""Negative-sentiment surge alerts: one alert when a channel's negative share jumps above its own baseline.

For each closed window (a dict from :class:`~channelpulse.models.analytics.windows.ChannelWindows`) with at least
``min_events`` sentiment events (reviews + social posts), the window's negative share ``p`` is
compared with the channel's baseline ``b`` (an EWMA of the negative share of its past qualifying
windows). A surge needs all of:

* significance: the exact binomial tail ``P(X >= negatives | n, b) <= max_p_value`` (exact, because
  small windows with a small baseline are far from normal);
* a rise beyond the channel's own spread: ``(p - b) / sqrt(v) >= z_threshold`` where ``v`` is an
  EWMA of its squared deviations from the baseline in calm windows (real channels vary more from
  window to window than independent draws would, and this keeps such channels quiet);
* an absolute rise ``p - b >= min_lift``, so a large channel does not alert on a significant but tiny
  change, and a trusted baseline (``warmup_windows`` qualifying windows seen).

Hysteresis: an alert disarms the channel; it re-arms only after ``rearm_windows`` consecutive
qualifying windows whose share is back within ``rearm_lift`` of the baseline (one lucky calm window
inside a noisy surge is not enough). So a surge lasting many windows raises ONE alert. Every
qualifying window (surging ones included) updates the baseline, so a lasting change of level is
absorbed after a while: the channel then re-arms at the new level instead of staying silent forever.
Windows with too few sentiment events change nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from channelpulse.models.analytics.alerts import NEGATIVE_SENTIMENT_SPIKE, alert_id


@dataclass(frozen=True)
class SurgeParams:
    """Thresholds of :class:`NegativeSurgeDetector`."""

    alpha: float = 0.1
    min_events: int = 20
    warmup_windows: int = 5
    max_p_value: float = 1e-5
    z_threshold: float = 4.0
    min_lift: float = 0.15
    rearm_lift: float = 0.05
    rearm_windows: int = 3
    baseline_floor: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha <= 1.0 or min(self.min_events, self.warmup_windows, self.rearm_windows) < 1:
            raise ValueError("need 0 < alpha <= 1 and min_events, warmup_windows, rearm_windows >= 1")
        if not 0.0 <= self.rearm_lift < self.min_lift or not 0.0 < self.baseline_floor < 0.5:
            raise ValueError("need 0 <= rearm_lift < min_lift and 0 < baseline_floor < 0.5")


@dataclass
class ChannelBaseline:
    """Per-channel state: the EWMA baseline, how many windows formed it, and whether alerts are armed."""

    baseline: float | None = None
    variance: float = 0.0
    windows: int = 0
    armed: bool = True
    calm_streak: int = 0


def binomial_tail(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, summed exactly in log space (0 < p < 1)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k, n + 1):
        term = math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
        total += term
        if i > n * p and term < 1e-17 * total:
            break
    return min(total, 1.0)


class NegativeSurgeDetector:
    """``update(window) -> alert dict | None``, one call per closed channel window, in window order."""

    def __init__(self, params: SurgeParams | None = None) -> None:
        self.params = params or SurgeParams()
        self.channels: dict[str, ChannelBaseline] = {}

    def update(self, window: dict[str, Any], now: datetime | None = None) -> dict[str, Any] | None:
        """Account one closed window; the alert it raises, if any (``raised_at``: ``now`` or the window end)."""
        p = self.params
        counts = window["counts"]
        n = int(counts["reviews"]) + int(counts["social"])
        share = window["negative_share"]
        if share is None or n < p.min_events:
            return None
        state = self.channels.pop(window["channel"], None) or ChannelBaseline()
        self.channels[window["channel"]] = state  # the most recently updated channel last: forgotten last
        alert = None
        if state.baseline is None:
            state.baseline = share
        lift = share - state.baseline
        if state.windows >= p.warmup_windows:
            negatives = round(share * n)
            b = min(max(state.baseline, p.baseline_floor), 1.0 - p.baseline_floor)
            z = lift / math.sqrt(state.variance) if state.variance > 0 else math.inf
            if (
                state.armed
                and lift >= p.min_lift
                and z >= p.z_threshold
                and (p_value := binomial_tail(negatives, n, b)) <= p.max_p_value
            ):
                state.armed = False
                alert = self._alert(window, negatives, n, state.baseline, p_value, now)
            elif not state.armed:
                state.calm_streak = state.calm_streak + 1 if lift <= p.rearm_lift else 0
                if state.calm_streak >= p.rearm_windows:
                    state.armed, state.calm_streak = True, 0
        if state.armed:  # surging windows would inflate the spread that makes the next surge visible
            state.variance = (1.0 - p.alpha) * state.variance + p.alpha * lift * lift
        state.baseline += p.alpha * lift
        state.windows += 1
        return alert

    def forget(self, max_channels: int) -> int:
        """Drop the baselines of the channels updated least recently beyond ``max_channels``; how many
        were dropped (such a channel warms up again from its next window)."""
        dropped = 0
        while len(self.channels) > max_channels:
            del self.channels[next(iter(self.channels))]
            dropped += 1
        return dropped

    def _alert(
        self,
        window: dict[str, Any],
        negatives: int,
        n: int,
        baseline: float,
        p_value: float,
        now: datetime | None,
    ) -> dict[str, Any]:
        channel = window["channel"]
        start: datetime = window["window_start"]
        end: datetime = window["window_end"]
        share = negatives / n
        return {
            "alert_id": alert_id(NEGATIVE_SENTIMENT_SPIKE, channel, start),
            "kind": NEGATIVE_SENTIMENT_SPIKE,
            "channel": channel,
            "detail": (
                f"channel {channel}: negative share {share:.0%} ({negatives} of {n} reviews/posts) in "
                f"{start.isoformat()} .. {end.isoformat()}, against a baseline of {baseline:.0%} from its "
                f"recent windows (+{share - baseline:.0%}, binomial p = {p_value:.1e}). No further alert "
                f"for this channel until its share is back within {self.params.rearm_lift:.0%} of the baseline "
                f"for {self.params.rearm_windows} windows."
            ),
            "raised_at": now or end,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (the parameters and each channel's baseline)."""
        return {
            "params": asdict(self.params),
            "channels": {name: asdict(state) for name, state in self.channels.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NegativeSurgeDetector:
        detector = cls(SurgeParams(**data["params"]))
        detector.channels = {name: ChannelBaseline(**state) for name, state in data["channels"].items()}
        return detector
