"""Sequence-aware, action-weighted item-to-item co-occurrence, normalised and cut to top-N rows.

Row ``i`` of the matrix answers "a user just interacted with ``i``: what next?". Every pair of steps
``(a, b)`` at most ``window`` steps apart in one user's sequence adds
``sqrt(w_a * w_b) * distance_decay ** (gap - 1)`` to ``C[a, b]`` times ``forward`` (b came after a)
and to ``C[b, a]`` times ``backward``; ``w`` is the step's action weight. Normalisation divides by
``mass_i ** row_exponent * mass_j ** popularity_damping`` (mass: an item's summed step weights), a
cosine-like damping of popular items. Matrices are kept as coalesced COO triples ``(rows, cols, vals)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from channelpulse.models.recommend.sequences import Steps


@dataclass(frozen=True)
class Coo:
    """A sparse square matrix as coalesced (row, col, value) triples."""

    rows: np.ndarray  # int64
    cols: np.ndarray  # int64
    vals: np.ndarray  # float64
    size: int

    @classmethod
    def coalesce(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, size: int) -> Coo:
        """Sum duplicate (row, col) entries."""
        if rows.size == 0:
            return cls(rows.astype(np.int64), cols.astype(np.int64), vals.astype(np.float64), size)
        keys, inverse = np.unique(rows * size + cols, return_inverse=True)
        summed = np.bincount(inverse, weights=vals, minlength=keys.size)
        return cls(keys // size, keys % size, summed, size)

    @classmethod
    def from_table(cls, index: np.ndarray, value: np.ndarray) -> Coo:
        """The nonzero entries of a ``top_n`` table."""
        rows = np.repeat(np.arange(index.shape[0], dtype=np.int64), index.shape[1])
        cols, vals = index.reshape(-1).astype(np.int64), value.reshape(-1).astype(np.float64)
        keep = vals != 0
        return cls.coalesce(rows[keep], cols[keep], vals[keep], index.shape[0])

    def scaled(self, factor: float | np.ndarray) -> Coo:
        """Values times ``factor`` (a scalar or one factor per entry)."""
        return Coo(self.rows, self.cols, self.vals * factor, self.size)

    def transpose(self) -> Coo:
        return Coo.coalesce(self.cols, self.rows, self.vals, self.size)

    def __matmul__(self, other: Coo) -> Coo:
        """Sparse matrix product: each entry (i, m) of self meets every entry (m, j) of other."""
        order = np.argsort(other.rows, kind="stable")
        b_rows, b_cols, b_vals = other.rows[order], other.cols[order], other.vals[order]
        starts = np.searchsorted(b_rows, self.cols, side="left")
        counts = np.searchsorted(b_rows, self.cols, side="right") - starts
        first = np.cumsum(counts) - counts  # where each entry's run starts in the output
        pos = np.arange(int(counts.sum())) + np.repeat(starts - first, counts)
        rows = np.repeat(self.rows, counts)
        vals = np.repeat(self.vals, counts) * b_vals[pos]
        return Coo.coalesce(rows, b_cols[pos], vals, self.size)

    def __add__(self, other: Coo) -> Coo:
        return Coo.coalesce(
            np.concatenate([self.rows, other.rows]),
            np.concatenate([self.cols, other.cols]),
            np.concatenate([self.vals, other.vals]),
            self.size,
        )


def item_mass(steps: Sequence[Steps], n_items: int) -> np.ndarray:
    """Summed step weights per item (float64 [n_items])."""
    if not steps:
        return np.zeros(n_items)
    items = np.concatenate([s.items for s in steps])
    weights = np.concatenate([s.weights for s in steps])
    return np.bincount(items, weights=weights, minlength=n_items).astype(np.float64)


def item_users(steps: Sequence[Steps], n_items: int) -> np.ndarray:
    """Number of distinct users who interacted with each item (int64 [n_items])."""
    counts = np.zeros(n_items, dtype=np.int64)
    for s in steps:
        counts[np.unique(s.items)] += 1
    return counts


def sequence_cooccurrence(
    steps: Sequence[Steps],
    n_items: int,
    window: int,
    forward: float,
    backward: float,
    distance_decay: float,
) -> Coo:
    """The directed, distance-decayed, action-weighted co-occurrence counts ``C``."""
    empty = np.zeros(0, dtype=np.int64)
    if not steps:
        return Coo.coalesce(empty, empty, np.zeros(0), n_items)
    items = np.concatenate([s.items for s in steps])
    weights = np.concatenate([s.weights for s in steps])
    owner = np.concatenate([np.full(s.items.size, n, dtype=np.int64) for n, s in enumerate(steps)])
    rows, cols, vals = [], [], []
    for gap in range(1, window + 1):
        if gap >= items.size:
            break
        a, b = items[:-gap], items[gap:]
        keep = (owner[:-gap] == owner[gap:]) & (a != b)
        w = np.sqrt(weights[:-gap] * weights[gap:])[keep] * distance_decay ** (gap - 1)
        a, b = a[keep], b[keep]
        rows += [a, b]
        cols += [b, a]
        vals += [w * forward, w * backward]
    if not rows:
        return Coo.coalesce(empty, empty, np.zeros(0), n_items)
    return Coo.coalesce(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), n_items)


def normalise(counts: Coo, mass: np.ndarray, row_exponent: float, popularity_damping: float) -> Coo:
    """``C[i, j] / (mass_i ** row_exponent * mass_j ** popularity_damping)``."""
    safe = np.maximum(mass, 1e-12)
    scale = safe[counts.rows] ** row_exponent * safe[counts.cols] ** popularity_damping
    return Coo(counts.rows, counts.cols, counts.vals / scale, counts.size)


def top_n(matrix: Coo, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` largest entries of each row: ``(index int64 [size, n], value float32 [size, n])``;
    rows with fewer entries are padded with index 0 and value 0 (a no-op when summed)."""
    index = np.zeros((matrix.size, n), dtype=np.int64)
    value = np.zeros((matrix.size, n), dtype=np.float32)
    positive = matrix.vals > 0
    rows, cols, vals = matrix.rows[positive], matrix.cols[positive], matrix.vals[positive]
    if rows.size == 0:
        return index, value
    order = np.lexsort((-vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(rows.size) - starts
    keep = rank < n
    index[rows[keep], rank[keep]] = cols[keep]
    value[rows[keep], rank[keep]] = vals[keep]
    return index, value
