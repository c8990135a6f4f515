"""Replay of a recorded series through the streaming path, one reading at a time, in time order.

Each reading is pushed into a :class:`SensorWindow` and the window as it stands then (values up to
and including that reading, nothing later) is what gets scored, exactly as the stream processor
sends it to Triton; the raw flags then pass through the window's episode tracker in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from models.anomaly.window import SensorWindow

Scorer = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ReplayResult:
    """Per reading: the score, the raw flag and whether the flag opened an episode (the alert)."""

    scores: np.ndarray
    flags: np.ndarray
    episode_starts: np.ndarray


def replay(values: Iterable[float], scorer: Scorer, width: int, cooldown: int, batch_size: int = 256) -> ReplayResult:
    """Score every reading of ``values`` from the window it would have had at that time."""
    window = SensorWindow(width, cooldown)
    windows = []
    for value in values:
        window.push(value)
        windows.append(window.as_array())
    if not windows:
        empty = np.zeros(0, dtype=bool)
        return ReplayResult(np.zeros(0, dtype=np.float32), empty, empty)
    stacked = np.stack(windows)
    parts = [scorer(stacked[i : i + batch_size]) for i in range(0, len(stacked), batch_size)]
    scores = np.concatenate([s for s, _ in parts])
    flags = np.concatenate([f for _, f in parts]).astype(bool)
    starts = np.array([window.episodes.observe(bool(f)) for f in flags], dtype=bool)
    return ReplayResult(scores, flags, starts)
