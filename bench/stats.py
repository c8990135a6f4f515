"""Latency percentiles, steady-state rates and ratios: the arithmetic of the bench, kept pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LatencySummary:
    """End-to-end latencies of one phase, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_latencies(seconds: Sequence[float]) -> LatencySummary | None:
    """Percentiles (linear interpolation) of latencies given in seconds; None when there are none."""
    if len(seconds) == 0:
        return None
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return LatencySummary(
        count=int(ms.size),
        p50_ms=round(float(p50), 2),
        p95_ms=round(float(p95), 2),
        p99_ms=round(float(p99), 2),
        max_ms=round(float(ms.max()), 2),
        mean_ms=round(float(ms.mean()), 2),
    )


def _crossing(samples: Sequence[tuple[float, float]], level: float) -> float:
    """The time at which a non-decreasing cumulative count first reaches ``level`` (interpolated)."""
    prev_t, prev_n = samples[0]
    if prev_n >= level:
        return prev_t
    for t, n in samples[1:]:
        if n >= level:
            return prev_t + (t - prev_t) * (level - prev_n) / (n - prev_n)
        prev_t, prev_n = t, n
    raise ValueError(f"the count never reaches {level}")


def steady_rate(
    samples: Sequence[tuple[float, float]], total: float, low: float = 0.1, high: float = 0.9
) -> float | None:
    """Events per second while a backlog of ``total`` drained, from polled ``(time_s, count_done)``
    samples: the rate between the moments ``low`` and ``high`` of the backlog were done, which leaves
    out the start-up and the tail. None when the samples do not span that range or no time passed."""
    if total <= 0 or not samples or samples[-1][1] < high * total:
        return None
    t_low = _crossing(samples, low * total)
    t_high = _crossing(samples, high * total)
    if t_high <= t_low:
        return None
    return (high - low) * total / (t_high - t_low)


def window_rate(timestamps: Sequence[float], start: float, end: float) -> float | None:
    """Events per second among ``timestamps`` that fall in ``[start, end]``; None for an empty window."""
    if end <= start:
        return None
    ts = np.asarray(timestamps, dtype=np.float64)
    return float(np.count_nonzero((ts >= start) & (ts <= end)) / (end - start))


def ratio(value: float | None, limit: float | None) -> float | None:
    """``value / limit`` rounded to 3 places; None when either is missing or the limit is not positive."""
    if value is None or limit is None or limit <= 0:
        return None
    return round(value / limit, 3)
