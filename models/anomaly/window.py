"""Per-sensor streaming state: the recent readings and the anomaly-episode bookkeeping.

The Triton ``anomaly`` model is stateless (it scores the window it is sent), so everything that must
persist between readings lives here, in a plain object that serialises to a JSON-able dict (one
Faust table entry per sensor): the bounded window of recent values (:meth:`SensorWindow.push`,
:meth:`SensorWindow.as_array`) and the sensor's :class:`~models.anomaly.episodes.EpisodeTracker`
(``window.episodes.observe(flag)`` after each scored reading), which suppresses repeated flags.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from models.anomaly.episodes import EpisodeTracker


class SensorWindow:
    """Bounded window of one sensor's readings plus its anomaly-episode state."""

    def __init__(self, capacity: int, cooldown: int = 0) -> None:
        if capacity < 1:
            raise ValueError("need capacity >= 1")
        self.capacity = capacity
        self.values: deque[float] = deque(maxlen=capacity)
        self.episodes = EpisodeTracker(cooldown)

    def push(self, value: float) -> None:
        """Append the newest reading (a non-finite value is kept as NaN: a gap the detector skips)."""
        number = float(value)
        self.values.append(number if math.isfinite(number) else math.nan)

    def as_array(self, width: int | None = None) -> np.ndarray:
        """The last ``width`` readings (default: capacity), oldest first, left-padded with NaN, float32."""
        size = self.capacity if width is None else width
        out = np.full(size, np.nan, dtype=np.float32)
        recent = list(self.values)[-size:] if size > 0 else []
        if recent:
            out[size - len(recent) :] = recent
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (NaN gaps are stored as None)."""
        return {
            "capacity": self.capacity,
            "values": [v if math.isfinite(v) else None for v in self.values],
            "episodes": self.episodes.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SensorWindow:
        window = cls(int(data["capacity"]))
        window.values.extend(math.nan if v is None else float(v) for v in data["values"])
        window.episodes = EpisodeTracker.from_dict(data["episodes"])
        return window
