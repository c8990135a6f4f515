"""Rating -> label mapping, label names, and the signed score."""

from __future__ import annotations

import numpy as np
import pytest

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.labels import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    names_to_labels,
    ratings_to_labels,
    score_from_probs,
)


def test_label_indices_follow_the_contract_order() -> None:
    assert [SENTIMENT_LABELS[i] for i in (NEGATIVE, NEUTRAL, POSITIVE)] == ["negative", "neutral", "positive"]


def test_vader_ratings_use_the_half_point_neutral_band() -> None:
    ratings = np.array([-4.0, -0.5, -0.49, 0.0, 0.49, 0.5, 4.0])
    expected = [NEGATIVE, NEGATIVE, NEUTRAL, NEUTRAL, NEUTRAL, POSITIVE, POSITIVE]
    assert ratings_to_labels(ratings).tolist() == expected


def test_five_star_ratings_map_onto_the_vader_scale() -> None:
    stars = np.array([1, 2, 2.7, 2.8, 3, 3.2, 3.3, 4, 5])
    expected = [NEGATIVE, NEGATIVE, NEGATIVE, NEUTRAL, NEUTRAL, NEUTRAL, POSITIVE, POSITIVE, POSITIVE]
    assert ratings_to_labels(stars, "stars5").tolist() == expected


@pytest.mark.parametrize(("ratings", "scale"), [([4.5], "vader"), ([0], "stars5"), ([float("nan")], "vader")])
def test_ratings_outside_the_scale_are_rejected(ratings: list[float], scale: str) -> None:
    with pytest.raises(ValueError, match="ratings must lie in"):
        ratings_to_labels(np.array(ratings), scale)  # type: ignore[arg-type]


def test_label_names_ignore_case_and_blanks_and_reject_unknown() -> None:
    assert names_to_labels(["Positive", " negative ", "NEUTRAL"]).tolist() == [POSITIVE, NEGATIVE, NEUTRAL]
    with pytest.raises(ValueError, match="unknown sentiment label 'mixed'"):
        names_to_labels(["positive", "mixed"])


def test_score_is_positive_minus_negative_within_bounds() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.5, 0.3], [0.0, 1.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(score_from_probs(probs), [-1.0, 1.0, 0.1, 0.0], atol=1e-6)
    random = np.random.default_rng(0).dirichlet(np.ones(3), size=1000)
    scores = score_from_probs(random)
    assert scores.min() >= -1.0 and scores.max() <= 1.0
