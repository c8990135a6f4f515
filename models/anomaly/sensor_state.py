"""Per-sensor streaming state kept by the stream side (one Faust table entry per sensor).

The Triton ``anomaly`` model (versions 2 to 7) is stateless across requests but not across
readings: the caller sends each sensor's detector state row with its new readings and stores the
new row it gets back. :class:`SensorState` holds that row as compact bytes (float64, 3,352 bytes
for the parameters of version 7, 3,344 for version 6, 3,016 for versions 4 and 5; base64 in the
JSON table value) plus the sensor's
:class:`EpisodeTracker` (one alert per anomaly episode). A table value of another layout (version 1
kept a raw window of readings, no ``"state"``) loads as an empty state: the detector then starts
that sensor afresh.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from channelpulse.models.anomaly.episodes import EpisodeTracker

FORMAT = "channelpulse.sensor-state/2"


class SensorState:
    """One sensor's detector state row (empty: nothing learned yet) and its episode tracker."""

    def __init__(self, cooldown: int, row: np.ndarray | None = None) -> None:
        self.row = np.zeros(0, dtype=np.float64) if row is None else np.asarray(row, dtype=np.float64)
        self.episodes = EpisodeTracker(cooldown)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able value: the row as base64 of little-endian float64 bytes."""
        return {
            "format": FORMAT,
            "state": base64.b64encode(self.row.astype("<f8").tobytes()).decode("ascii"),
            "episodes": self.episodes.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, cooldown: int) -> SensorState:
        """The stored state, or a fresh one when there is none or it has another format."""
        if not data or data.get("format") != FORMAT:
            return cls(cooldown)
        state = cls(cooldown, np.frombuffer(base64.b64decode(data["state"]), dtype="<f8").copy())
        state.episodes = EpisodeTracker.from_dict(data["episodes"])
        return state


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    """State rows of one request as ``[n, width]`` float64, right-padded with zeros (the detector
    reads a row's first ``state_size`` values; an empty row is a new sensor)."""
    width = max([1, *(len(r) for r in rows)])
    out = np.zeros((len(rows), width), dtype=np.float64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out
