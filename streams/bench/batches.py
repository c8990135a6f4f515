"""The scoring requests of a pipeline's events, batched like the worker batches them, so that the
model alone and Triton alone score exactly what the pipeline scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from channelpulse.config import Settings
from models.anomaly.window import SensorWindow
from models.recommend.state import UserState

Batch = tuple[Any, ...]
"""The arguments of one scoring call: ``(texts,)``, ``(histories, excludes, k)`` or ``(windows,)``."""


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


def sensor_batches(bodies: list[dict[str, Any]], size: int, width: int) -> list[Batch]:
    """Each reading pushed to its sensor's window, the window as the sensors pipeline sends it."""
    windows: dict[str, SensorWindow] = {}
    rows = []
    for body in bodies:
        window = windows.setdefault(body["sensor_id"], SensorWindow(width))
        window.push(body["value"])
        rows.append(window.as_array(width))
    return [(np.stack(chunk),) for chunk in _chunks(rows, size)]


def scoring_batches(pipeline: str, bodies: list[dict[str, Any]], settings: Settings) -> list[Batch]:
    """Full batches of ``settings.batch_max_size`` events of ``pipeline`` (sentiment, recommendation,
    sensors), in sending order."""
    size = settings.batch_max_size
    if pipeline == "sentiment":
        return sentiment_batches(bodies, size)
    if pipeline == "recommendation":
        return recommendation_batches(bodies, size, settings.recommendation_k)
    if pipeline == "sensors":
        return sensor_batches(bodies, size, settings.anomaly_window)
    raise ValueError(f"pipeline {pipeline!r} sends nothing to a model")
