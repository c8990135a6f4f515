"""Reference recommenders for the evaluation: popularity, plain co-occurrence, text-only profile.

Each has the same ``recommend(histories, excludes, k)`` as :class:`Recommender`, masks the same
excludes, and answers a history with no known item by popularity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from channelpulse.models.recommend.ranking import history_indices, mask_items, top_k
from channelpulse.models.recommend.sequences import Steps


def event_counts(steps: Sequence[Steps], n_items: int) -> np.ndarray:
    """Number of steps on each item (float32 [n_items])."""
    if not steps:
        return np.zeros(n_items, dtype=np.float32)
    return np.bincount(np.concatenate([s.items for s in steps]), minlength=n_items).astype(np.float32)


class _Baseline:
    def __init__(self, items: Sequence[str], popularity: np.ndarray) -> None:
        self.items = list(items)
        self.index = {item: n for n, item in enumerate(self.items)}
        self.popularity = torch.from_numpy(popularity.astype(np.float32))

    def history_scores(self, idx: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[set[str] | Sequence[str]], k: int
    ) -> list[list[tuple[str, float]]]:
        n = len(self.items)
        idx = history_indices(histories, self.index, pad=n, device=torch.device("cpu"))
        known = idx != n
        scores = self.history_scores(idx, known)
        cold = ~known.any(dim=1)
        scores[cold] = self.popularity
        return top_k(mask_items(scores, excludes, self.index), self.items, k)


class PopularityRanker(_Baseline):
    """The most interacted-with items, whatever the history."""

    def history_scores(self, idx: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        return self.popularity.expand(idx.shape[0], -1).clone()


class CooccurrenceRanker(_Baseline):
    """Plain item-to-item co-occurrence: ``C[i, j]`` = users who interacted with both i and j (any
    action, any order); an item scores the sum of its co-counts with the history's items."""

    def __init__(self, items: Sequence[str], steps: Sequence[Steps]) -> None:
        n = len(items)
        super().__init__(items, event_counts(steps, n))
        users = [np.unique(s.items) for s in steps]
        x = torch.zeros((len(users), n))
        for row, cols in enumerate(users):
            x[row, torch.from_numpy(cols)] = 1.0
        counts = x.T @ x
        counts.fill_diagonal_(0.0)
        # An extra zero row for padded history slots.
        self.counts = torch.cat([counts, torch.zeros((1, n))])

    def history_scores(self, idx: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        return self.counts[idx].sum(dim=1) + 1e-6 * self.popularity


class TextProfileRanker(_Baseline):
    """Text only: cosine between the mean embedding of the history's items and each item's."""

    def __init__(self, items: Sequence[str], embeddings: np.ndarray, popularity: np.ndarray) -> None:
        super().__init__(items, popularity)
        emb = torch.from_numpy(embeddings.astype(np.float32))
        self.embeddings = torch.cat([emb, torch.zeros((1, emb.shape[1]))])

    def history_scores(self, idx: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        profile = self.embeddings[idx].sum(dim=1)
        profile = torch.nn.functional.normalize(profile, dim=1)
        return profile @ self.embeddings[:-1].T
