"""The reference profile of a model version: what its predictions and inputs looked like on
held-out reference data. Drift is measured against it.

Stored as ``profile.json`` next to the version's weights::

    {
      "format": "channelpulse.drift-profile/1",
      "labels": ["negative", "neutral", "positive"],
      "n": 2000,                                  # reference rows
      "class_counts": [...],                       # predicted classes (argmax of probs)
      "score": {"edges": [...], "counts": [...]},  # histogram of score = p[last] - p[first]
      "embedding": {"dim": 384, "mean": [...], "std": [...]},
      "projections": {"seed": 7, "count": 8, "quantiles": [[...], ...]}
    }

The projections are fixed random unit directions (from ``seed``) applied to the standardised
embeddings ``(x - mean) / std``; each projection's distribution is kept as quantiles at evenly
spaced levels 0..1. When the embedding has no more dimensions than ``count`` (e.g. a sensor's
value features), the standardised coordinates themselves are used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "channelpulse.drift-profile/1"
PROFILE_FILE = "profile.json"
DEFAULT_SCORE_BINS = 20
DEFAULT_PROJECTIONS = 8
DEFAULT_QUANTILE_LEVELS = 201
DEFAULT_SEED = 20240501


def prediction_scores(probs: np.ndarray) -> np.ndarray:
    """The scalar score a histogram is kept of: ``p[last class] - p[first class]`` in [-1, 1]
    (for sentiment: p(positive) - p(negative), see channelpulse.models.sentiment.labels.score_from_probs)."""
    p = np.asarray(probs, dtype=np.float64)
    return np.clip(p[:, -1] - p[:, 0], -1.0, 1.0) if p.shape[1] > 1 else p[:, 0]


def projection_matrix(dim: int, count: int, seed: int) -> np.ndarray:
    """``[dim, count]`` fixed random unit directions (identity when ``dim <= count``)."""
    if dim <= count:
        return np.eye(dim)
    directions = np.random.default_rng(seed).standard_normal((dim, count))
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


@dataclass(frozen=True)
class ReferenceProfile:
    """Counts and quantiles summarising a model version's outputs and inputs on reference data."""

    labels: tuple[str, ...]
    n: int
    class_counts: np.ndarray
    score_edges: np.ndarray
    score_counts: np.ndarray
    embedding_mean: np.ndarray
    embedding_std: np.ndarray
    projection_seed: int
    projection_quantiles: np.ndarray  # [projections, levels]

    @property
    def dim(self) -> int:
        return len(self.embedding_mean)

    @property
    def num_projections(self) -> int:
        return int(self.projection_quantiles.shape[0])

    def projections(self) -> np.ndarray:
        """The ``[dim, projections]`` matrix applied to standardised embeddings."""
        return projection_matrix(self.dim, self.num_projections, self.projection_seed)

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        """``[n, projections]`` values of ``embeddings`` on the profile's fixed directions."""
        z = (np.asarray(embeddings, dtype=np.float64) - self.embedding_mean) / self.embedding_std
        return z @ self.projections()

    @classmethod
    def build(
        cls,
        probs: np.ndarray,
        embeddings: np.ndarray,
        labels: Sequence[str] | None = None,
        *,
        score_bins: int = DEFAULT_SCORE_BINS,
        num_projections: int = DEFAULT_PROJECTIONS,
        quantile_levels: int = DEFAULT_QUANTILE_LEVELS,
        seed: int = DEFAULT_SEED,
    ) -> ReferenceProfile:
        """The profile of ``probs [n, classes]`` and ``embeddings [n, dim]`` on held-out data
        (not the training rows: a model is more confident on those than on anything live)."""
        p = np.asarray(probs, dtype=np.float64)
        x = np.asarray(embeddings, dtype=np.float64)
        if p.ndim != 2 or x.ndim != 2 or len(p) != len(x) or len(p) < 2:
            raise ValueError("probs [n, classes] and embeddings [n, dim] need the same n >= 2")
        names = tuple(labels) if labels is not None else tuple(str(i) for i in range(p.shape[1]))
        if len(names) != p.shape[1]:
            raise ValueError(f"{len(names)} labels for {p.shape[1]} probability columns")
        edges = np.linspace(-1.0, 1.0, score_bins + 1) if p.shape[1] > 1 else np.linspace(0, 1, score_bins + 1)
        scores = prediction_scores(p)
        score_idx = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, score_bins - 1)
        mean = x.mean(axis=0)
        std = np.maximum(x.std(axis=0), 1e-6)
        count = min(num_projections, x.shape[1])
        projected = ((x - mean) / std) @ projection_matrix(x.shape[1], count, seed)
        levels = np.linspace(0.0, 1.0, quantile_levels)
        return cls(
            labels=names,
            n=len(p),
            class_counts=np.bincount(p.argmax(axis=1), minlength=p.shape[1]).astype(np.int64),
            score_edges=edges,
            score_counts=np.bincount(score_idx, minlength=score_bins).astype(np.int64),
            embedding_mean=mean,
            embedding_std=std,
            projection_seed=seed,
            projection_quantiles=np.quantile(projected, levels, axis=0).T,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "labels": list(self.labels),
            "n": self.n,
            "class_counts": self.class_counts.tolist(),
            "score": {"edges": self.score_edges.tolist(), "counts": self.score_counts.tolist()},
            "embedding": {
                "dim": self.dim,
                "mean": self.embedding_mean.tolist(),
                "std": self.embedding_std.tolist(),
            },
            "projections": {
                "seed": self.projection_seed,
                "count": self.num_projections,
                "quantiles": self.projection_quantiles.tolist(),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a drift profile (format {data.get('format')!r}, expected {FORMAT!r})")
        profile = cls(
            labels=tuple(data["labels"]),
            n=int(data["n"]),
            class_counts=np.asarray(data["class_counts"], dtype=np.int64),
            score_edges=np.asarray(data["score"]["edges"], dtype=np.float64),
            score_counts=np.asarray(data["score"]["counts"], dtype=np.int64),
            embedding_mean=np.asarray(data["embedding"]["mean"], dtype=np.float64),
            embedding_std=np.asarray(data["embedding"]["std"], dtype=np.float64),
            projection_seed=int(data["projections"]["seed"]),
            projection_quantiles=np.asarray(data["projections"]["quantiles"], dtype=np.float64),
        )
        if (
            len(profile.class_counts) != len(profile.labels)
            or len(profile.score_edges) != len(profile.score_counts) + 1
        ):
            raise ValueError("inconsistent drift profile: label/class or edge/bin counts differ")
        return profile

    def save(self, path: Path) -> Path:
        """Write the profile as JSON (``path`` may be a version folder: then ``<path>/profile.json``)."""
        target = Path(path) / PROFILE_FILE if Path(path).is_dir() else Path(path)
        target.write_text(json.dumps(self.to_dict()) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: Path) -> ReferenceProfile:
        """Read a profile file (or ``<version folder>/profile.json``)."""
        source = Path(path) / PROFILE_FILE if Path(path).is_dir() else Path(path)
        return cls.from_dict(json.loads(source.read_text(encoding="utf-8")))
