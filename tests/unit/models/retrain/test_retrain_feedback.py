from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from channelpulse.models.retrain import PromotionPolicy, decide, eval_split, labelled_reviews
from channelpulse.models.sentiment.data import TextDataset


def test_star_ratings_become_labels_and_unusable_rows_are_dropped() -> None:
    frame = pl.DataFrame(
        {
            "event_id": ["a", "b", "c", "d", "e", "f", "g", "b"],
            "text": ["awful", "meh", "great", "   ", None, "fine", "ok", "meh, edited"],
            "rating": [1, 3, 5, 4, 2, None, 2, 3],
        }
    )
    data = labelled_reviews(frame)
    assert data.texts == ("awful", "great", "ok", "meh, edited")  # blank, null, unrated dropped; b kept once
    assert data.labels.tolist() == [0, 2, 0, 1]
    assert data.groups == ("a", "c", "g", "b")
    assert labelled_reviews(frame, max_rows=2).texts == ("ok", "meh, edited")


def test_every_star_maps_to_the_documented_label() -> None:
    frame = pl.DataFrame({"text": [f"t{i}" for i in range(5)], "rating": [1, 2, 3, 4, 5]})
    assert labelled_reviews(frame).labels.tolist() == [0, 0, 1, 2, 2]


def test_missing_columns_or_an_empty_lake_give_no_rows() -> None:
    assert len(labelled_reviews(pl.DataFrame())) == 0
    assert len(labelled_reviews(pl.DataFrame({"text": ["x"]}))) == 0


def test_eval_split_is_fixed_per_group_and_disjoint() -> None:
    groups = [f"event-{i}" for i in range(2000)]
    data = TextDataset(tuple(groups), np.zeros(2000, dtype=np.int64), tuple(groups))
    fit, held = eval_split(data, 0.3)
    assert set(fit.groups).isdisjoint(held.groups) and len(fit) + len(held) == 2000
    assert 0.25 < len(held) / 2000 < 0.35
    _, again_held = eval_split(data.subset(np.arange(1000, 2000)), 0.3)
    assert set(again_held.groups) == {g for g in held.groups if int(g.split("-")[1]) >= 1000}
    with pytest.raises(ValueError):
        eval_split(data, 1.0)


def test_decision_needs_the_margin_and_enough_rows() -> None:
    policy = PromotionPolicy(metric="macro_f1", margin=0.02, min_eval_rows=100)
    assert decide({"macro_f1": 0.70}, {"macro_f1": 0.65}, 200, policy).promote
    assert not decide({"macro_f1": 0.66}, {"macro_f1": 0.65}, 200, policy).promote
    assert decide({"macro_f1": 0.67}, {"macro_f1": 0.65}, 200, policy).promote  # exactly the margin
    few = decide({"macro_f1": 0.99}, {"macro_f1": 0.1}, 99, policy)
    assert not few.promote and "99 evaluation rows" in few.reason
    assert decide({"macro_f1": 0.3}, None, 100, policy).promote


def test_paired_win_rate_counts_resamples_where_the_candidate_is_strictly_better() -> None:
    from channelpulse.models.retrain.decision import paired_win_rate

    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 400)
    serving = np.where(rng.random(400) < 0.6, truth, (truth + 1) % 3)
    accuracy = lambda p, y: float((p == y).mean())  # noqa: E731
    assert paired_win_rate(serving, serving, truth, accuracy, 200) == 0.0  # a tie is not a win
    better = np.where(rng.random(400) < 0.5, truth, serving)  # right wherever serving is, and more
    assert paired_win_rate(better, serving, truth, accuracy, 200) == 1.0
    assert paired_win_rate(serving, better, truth, accuracy, 200) == 0.0
    assert paired_win_rate(better, serving, truth, accuracy, 200, seed=3) == 1.0
    with pytest.raises(ValueError):
        paired_win_rate(better[:10], serving, truth, accuracy, 10)
