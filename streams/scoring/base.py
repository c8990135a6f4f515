"""The scoring interface of the pipeline, independent of how models are served."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class SentimentBatch:
    probs: np.ndarray  # [n, 3] in channelpulse.models.contract.SENTIMENT_LABELS order
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
    """A scoring request failed and may succeed later: the caller retries the batch (events are
    never dropped). ``reason`` labels the retry metric."""

    def __init__(self, message: str, model: str = "unknown", reason: str = "unavailable") -> None:
        super().__init__(message)
        self.model = model
        self.reason = reason


class TransientScoringError(ScoringError):
    """The server is unavailable, overloaded, slow or loading the model: retry with backoff."""


class PermanentScoringError(ScoringError):
    """The request fails the same way every time (rejected input, a model raising on a record, a
    batch above the model's max_batch_size): never retried as is; the batch is split instead.
    ``server_message`` is the server's own words, the reason of the dead letter."""

    def __init__(self, message: str, model: str = "unknown", server_message: str = "") -> None:
        super().__init__(message, model=model, reason="permanent")
        self.server_message = server_message or message


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
