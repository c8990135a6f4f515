"""Sentiment labels and the rating -> label mapping.

Labels are indices into :data:`channelpulse.models.contract.SENTIMENT_LABELS` (negative, neutral, positive).
Ratings are on the VADER scale -4 (extremely negative) .. +4 (extremely positive): a rating
``<= -0.5`` is negative, ``>= +0.5`` positive, anything in between neutral (Hutto & Gilbert, 2014).
1-5 star ratings are first mapped linearly onto that scale with ``(stars - 3) * 2`` (1 -> -4,
3 -> 0, 5 -> +4), so 1-2 stars are negative, 3 neutral, 4-5 positive.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np

from channelpulse.models.contract import SENTIMENT_LABELS

NEGATIVE: Final = SENTIMENT_LABELS.index("negative")
NEUTRAL: Final = SENTIMENT_LABELS.index("neutral")
POSITIVE: Final = SENTIMENT_LABELS.index("positive")
NUM_LABELS: Final = len(SENTIMENT_LABELS)

NEUTRAL_BAND: Final = 0.5
"""Ratings strictly inside (-0.5, +0.5) on the -4..4 scale are neutral."""

RatingScale = Literal["vader", "stars5"]
RATING_RANGES: Final[dict[str, tuple[float, float]]] = {"vader": (-4.0, 4.0), "stars5": (1.0, 5.0)}


def to_vader_scale(ratings: np.ndarray, scale: RatingScale = "vader") -> np.ndarray:
    """Ratings on ``scale`` as float64 on the -4..4 scale; ValueError when one lies outside the scale."""
    values = np.asarray(ratings, dtype=np.float64)
    low, high = RATING_RANGES[scale]
    if values.size and (np.isnan(values).any() or values.min() < low or values.max() > high):
        raise ValueError(f"ratings must lie in [{low}, {high}] for scale {scale!r}")
    return (values - 3.0) * 2.0 if scale == "stars5" else values


def ratings_to_labels(ratings: np.ndarray, scale: RatingScale = "vader") -> np.ndarray:
    """Label indices (int64) of numeric ratings, with the +-0.5 neutral band on the -4..4 scale."""
    values = to_vader_scale(ratings, scale)
    labels = np.full(values.shape, NEUTRAL, dtype=np.int64)
    labels[values <= -NEUTRAL_BAND] = NEGATIVE
    labels[values >= NEUTRAL_BAND] = POSITIVE
    return labels


def names_to_labels(names: list[str]) -> np.ndarray:
    """Label indices of label names (case and surrounding blanks ignored); ValueError on others."""
    index = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    out = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        key = str(name).strip().lower()
        if key not in index:
            raise ValueError(f"unknown sentiment label {name!r}; expected one of {SENTIMENT_LABELS}")
        out[i] = index[key]
    return out


def score_from_probs(probs: np.ndarray) -> np.ndarray:
    """Signed sentiment score ``p(positive) - p(negative)`` in [-1, 1], one per row of ``probs``."""
    probs = np.asarray(probs, dtype=np.float32)
    return np.clip(probs[..., POSITIVE] - probs[..., NEGATIVE], -1.0, 1.0)
