"""The scoring requests of a pipeline's events, batched like the worker batches them, so that the
model alone and Triton alone score exactly what the pipeline scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from channelpulse.config import Settings
from channelpulse.models.anomaly.online import OnlineDetector
from channelpulse.models.recommend.state import UserState

Batch = tuple[Any, ...]
"""The arguments of one scoring call: ``(texts,)``, ``(histories, excludes, k)`` or
``(states, values, times)``."""


def batch_events(batch: Batch) -> int:
    """Events one scoring call scores: its rows, or for sensors its readings (finite times)."""
    if len(batch) == 3 and isinstance(batch[2], np.ndarray):
        return int(np.isfinite(batch[2]).sum())
    return len(batch[0])


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)] or [items]


def sentiment_batches(bodies: list[dict[str, Any]], size: int) -> list[Batch]:
    return [([b["text"] for b in chunk],) for chunk in _chunks(bodies, size)]


def recommendation_batches(bodies: list[dict[str, Any]], size: int, k: int) -> list[Batch]:
    """Each click applied to its user's state in order, as the clicks pipeline does."""
    users: dict[str, UserState] = {}
    rows = []
    for body in bodies:
        state = users.setdefault(body["user_id"], UserState())
        state.update(body["item_id"], body["action"])
        rows.append((list(state.history), sorted(state.purchased)))
    return [([h for h, _ in chunk], [e for _, e in chunk], k) for chunk in _chunks(rows, size)]


def sensor_batches(bodies: list[dict[str, Any]], size: int) -> list[Batch]:
    """Chunks of readings as the sensors pipeline sends them: one row per sensor (its readings of the
    chunk in order, NaN-time padded), each sensor's state row as the detector left it before the chunk."""
    detector = OnlineDetector()
    states: dict[str, np.ndarray] = {}
    batches: list[Batch] = []
    for number, chunk in enumerate(_chunks(bodies, size)):
        start = number * size
        positions: dict[str, list[int]] = {}
        for i, body in enumerate(chunk):
            positions.setdefault(body["sensor_id"], []).append(i)
        width = max(len(p) for p in positions.values())
        values = np.zeros((len(positions), width))
        times = np.full((len(positions), width), np.nan)
        for row, indices in enumerate(positions.values()):
            for col, i in enumerate(indices):
                values[row, col] = chunk[i]["value"]
                stamp = chunk[i].get("occurred_at")  # bodies without one: a reading a minute
                times[row, col] = datetime.fromisoformat(stamp).timestamp() if stamp else 60.0 * (start + i)
        rows = np.stack([states.get(sensor, detector.new_state(1)[0]) for sensor in positions])
        batches.append((rows.copy(), values, times))
        detector.run(rows, values, times)
        states.update(zip(positions, rows, strict=True))
    return batches


def scoring_batches(pipeline: str, bodies: list[dict[str, Any]], settings: Settings) -> list[Batch]:
    """Full batches of ``settings.batch_max_size`` events of ``pipeline`` (sentiment, recommendation,
    sensors), in sending order."""
    size = settings.batch_max_size
    if pipeline == "sentiment":
        return sentiment_batches(bodies, size)
    if pipeline == "recommendation":
        return recommendation_batches(bodies, size, settings.recommendation_k)
    if pipeline == "sensors":
        return sensor_batches(bodies, size)
    raise ValueError(f"pipeline {pipeline!r} sends nothing to a model")
