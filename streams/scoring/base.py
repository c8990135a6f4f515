"""The scoring interface of the pipeline, independent of how models are served."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class SentimentBatch:
    probs: np.ndarray  # [n, 3] in models.contract.SENTIMENT_LABELS order
    embeddings: np.ndarray  # [n, dim]
    version: str


@dataclass(frozen=True)
class RecommendationBatch:
    items: list[list[tuple[str, float]]]  # per request, best first
    version: str


@dataclass(frozen=True)
class AnomalyBatch:
    scores: np.ndarray  # [n, k] in [0, 1], one per reading (0 at padding)
    flags: np.ndarray  # [n, k] bool
    states: np.ndarray  # [n, state_size] float64: each sensor's new detector state row
    version: str


class ScoringError(RuntimeError):
    """A scoring request failed; the caller retries the batch (events are never dropped)."""


class Scorer(Protocol):
    """Scores whole micro-batches; one call is one request to the model server."""

    async def sentiment(self, texts: Sequence[str]) -> SentimentBatch: ...

    async def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[Sequence[str]], k: int
    ) -> RecommendationBatch: ...

    async def anomaly(self, states: np.ndarray, values: np.ndarray, times: np.ndarray) -> AnomalyBatch:
        """One row per sensor: its state row ``[n, s]`` and new readings ``values``/``times`` ``[n, k]``
        (float64; times in epoch seconds, NaN time = padding)."""
        ...

    async def close(self) -> None: ...
