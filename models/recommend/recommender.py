"""Serving-side scoring: recency-weighted sums of the history items' neighbour rows, top-k in torch.

For a history ``h_1..h_L`` (oldest first) the score of item ``j`` is
``sum_t recency_decay ** (L - t) * S[h_t, j]``, scaled so each row's best is 1, plus
``popularity_prior * popularity_j`` (fills and breaks ties with popular items). A history with no
known item is scored by popularity alone. Excluded items (the user's purchases) score -inf and are
never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from channelpulse.models.recommend.artifacts import ItemTables, load_tables
from channelpulse.models.recommend.ranking import history_indices, mask_items, top_k


@dataclass(frozen=True)
class ScoringParams:
    """How a history is turned into scores at serving time."""

    recency_decay: float = 0.5
    popularity_prior: float = 0.05

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringParams:
        return cls(**{k: float(v) for k, v in data.items() if k in cls.__dataclass_fields__})


def pick_device(device: str | torch.device | None) -> torch.device:
    """The requested device, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Recommender:
    """Top-k recommendations from learned item-to-item neighbour tables."""

    def __init__(
        self,
        tables: ItemTables,
        scoring: ScoringParams | None = None,
        device: str | torch.device | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.items = list(tables.items)
        self.index = {item: n for n, item in enumerate(self.items)}
        self.scoring = scoring or ScoringParams()
        self.device = pick_device(device)
        self.meta = meta or {}
        width = tables.neighbour_index.shape[1]
        # One extra all-zero row (index n) that padded history slots point at.
        pad_index = torch.zeros((1, width), dtype=torch.int64)
        pad_score = torch.zeros((1, width), dtype=torch.float32)
        self._nb_index = torch.cat([torch.from_numpy(tables.neighbour_index).long(), pad_index]).to(self.device)
        self._nb_score = torch.cat([torch.from_numpy(tables.neighbour_score).float(), pad_score]).to(self.device)
        self._popularity = torch.from_numpy(tables.popularity).float().to(self.device)

    @classmethod
    def load(cls, version_dir: str | Path, device: str | torch.device | None = None) -> Recommender:
        """A recommender from a version folder written by ``train_version``."""
        tables, meta = load_tables(Path(version_dir))
        return cls(tables, ScoringParams.from_dict(meta.get("scoring", {})), device, meta)

    @torch.inference_mode()
    def scores(self, histories: Sequence[Sequence[str]]) -> torch.Tensor:
        """Float32 ``[batch, items]`` scores of every item for each history (nothing masked)."""
        n = len(self.items)
        idx = history_indices(histories, self.index, pad=n, device=self.device)
        batch, width = idx.shape
        known = idx != n
        ages = torch.arange(width - 1, -1, -1, device=self.device, dtype=torch.float32)
        recency = self.scoring.recency_decay**ages * known
        cols = self._nb_index[idx].reshape(batch, -1)
        vals = (self._nb_score[idx] * recency[:, :, None]).reshape(batch, -1)
        scores = torch.zeros((batch, n), device=self.device).scatter_add_(1, cols, vals)
        best = scores.max(dim=1, keepdim=True).values.clamp(min=1e-12)
        scores = scores / best + self.scoring.popularity_prior * self._popularity
        cold = ~known.any(dim=1)
        scores[cold] = self._popularity
        return scores

    @torch.inference_mode()
    def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[set[str] | Sequence[str]], k: int
    ) -> list[list[tuple[str, float]]]:
        """For each history (oldest first), the ``k`` best items with scores, best first, never an
        item of its ``excludes``. Unknown items are ignored; an empty or unknown history gets the
        most popular items."""
        if len(histories) != len(excludes):
            raise ValueError("one exclude set per history")
        scores = mask_items(self.scores(histories), excludes, self.index)
        return top_k(scores, self.items, k)
