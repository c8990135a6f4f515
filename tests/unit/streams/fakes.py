"""An in-memory scorer, so pipeline logic is tested without Kafka or Triton."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from channelpulse.streams.scoring.base import AnomalyBatch, RecommendationBatch, ScoringError, SentimentBatch

CATALOG = [f"item-{i}" for i in range(30)]


class FakeScorer:
    """Keyword sentiment, catalog-order recommendations minus excludes, |last value| anomalies.
    ``fail_first`` makes the first calls fail, to exercise the retry path."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, int]] = []
        self.requests: list[tuple[list[list[str]], list[list[str]]]] = []
        self.fail_first = fail_first

    def _maybe_fail(self) -> None:
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ScoringError("server unavailable (fake)")

    async def sentiment(self, texts: Sequence[str]) -> SentimentBatch:
        self._maybe_fail()
        self.calls.append(("sentiment", len(texts)))
        probs = np.array([[0.8, 0.1, 0.1] if "bad" in t else [0.1, 0.1, 0.8] for t in texts], dtype=np.float32)
        return SentimentBatch(probs, np.zeros((len(texts), 4), np.float32), "3")

    async def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[Sequence[str]], k: int
    ) -> RecommendationBatch:
        self._maybe_fail()
        self.calls.append(("recommend", len(histories)))
        self.requests.append(([list(h) for h in histories], [list(e) for e in excludes]))
        items = [[(i, 1.0 / (n + 1)) for n, i in enumerate(x for x in CATALOG if x not in e)][:k] for e in excludes]
        return RecommendationBatch(items, "1")

    async def anomaly(self, states: np.ndarray, values: np.ndarray, times: np.ndarray) -> AnomalyBatch:
        """Score |value| / 100 per reading; the state row is [2.0, readings seen] (format 2)."""
        self._maybe_fail()
        self.calls.append(("anomaly", len(values)))
        present = np.isfinite(times)
        scores = np.where(present, np.clip(np.abs(values) / 100.0, 0, 1), 0.0).astype(np.float32)
        seen = np.where(states[:, 0] == 2.0, states[:, 1], 0.0) if states.shape[1] >= 2 else np.zeros(len(values))
        new_states = np.column_stack([np.full(len(values), 2.0), seen + present.sum(axis=1)])
        return AnomalyBatch(scores, scores > 0.5, new_states, "2")

    async def close(self) -> None:
        return None
