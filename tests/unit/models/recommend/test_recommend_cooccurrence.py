from __future__ import annotations

import numpy as np
import pytest

from channelpulse.models.recommend.cooccurrence import Coo, normalise, sequence_cooccurrence, top_n
from channelpulse.models.recommend.sequences import Steps, to_steps, vocabulary
from channelpulse.models.recommend.text_neighbours import borrow_neighbours, look_alikes, warmth


def _dense(m: Coo) -> np.ndarray:
    out = np.zeros((m.size, m.size))
    out[m.rows, m.cols] = m.vals
    return out


def test_steps_merge_a_funnel_into_its_strongest_action() -> None:
    events = [
        {"item_id": "a", "action": "view"},
        {"item_id": "a", "action": "add_to_cart"},
        {"item_id": "x", "action": "view"},  # not in the vocabulary: skipped
        {"item_id": "b", "action": "view"},
        {"item_id": "a", "action": "click"},
    ]
    steps = to_steps(events, {"a": 0, "b": 1})
    assert steps.items.tolist() == [0, 1, 0]
    assert steps.weights.tolist() == [4.0, 1.0, 2.0]


def test_vocabulary_is_catalog_order_then_unseen_event_items() -> None:
    catalog = [{"item_id": "c"}, {"item_id": "a"}]
    assert vocabulary(catalog, [{"item_id": "z"}, {"item_id": "a"}, {"item_id": "b"}]) == ["c", "a", "b", "z"]


def test_order_distance_and_user_boundaries() -> None:
    one = Steps(np.array([0, 1, 2]), np.ones(3))
    other = Steps(np.array([3]), np.ones(1))
    c = _dense(sequence_cooccurrence([one, other], 4, window=2, forward=1.0, backward=0.5, distance_decay=0.5))
    assert c[0, 1] == pytest.approx(1.0) and c[1, 0] == pytest.approx(0.5)  # forward counts more
    assert c[0, 2] == pytest.approx(0.5) and c[2, 0] == pytest.approx(0.25)  # one step further: decayed
    assert c[2, 3] == 0 and c[3, 2] == 0  # never across users
    assert np.all(np.diag(c) == 0)


def test_actions_weigh_pairs() -> None:
    bought = Steps(np.array([0, 1]), np.array([1.0, 6.0]))
    viewed = Steps(np.array([0, 2]), np.array([1.0, 1.0]))
    c = _dense(sequence_cooccurrence([bought, viewed], 3, window=1, forward=1.0, backward=0.0, distance_decay=1.0))
    assert c[0, 1] > c[0, 2] > 0


def test_normalise_damps_popular_candidates_and_top_n_keeps_the_best() -> None:
    counts = Coo.coalesce(np.array([0, 0, 0]), np.array([1, 2, 3]), np.array([4.0, 2.0, 1.0]), 4)
    mass = np.array([1.0, 16.0, 1.0, 1.0])
    normal = _dense(normalise(counts, mass, row_exponent=0.5, popularity_damping=0.5))
    assert normal[0, 2] > normal[0, 1]  # item 1 co-occurs most but is popular everywhere
    index, value = top_n(normalise(counts, mass, 0.5, 0.5), 2)
    assert index[0].tolist() == [2, 1] and value[0, 0] == pytest.approx(2.0)
    assert value[1:].sum() == 0


def test_sparse_product_matches_dense() -> None:
    rng = np.random.default_rng(0)
    a = (rng.random((12, 12)) < 0.3) * rng.random((12, 12))
    b = (rng.random((12, 12)) < 0.3) * rng.random((12, 12))

    def coo(m: np.ndarray) -> Coo:
        rows, cols = np.nonzero(m)
        return Coo.coalesce(rows, cols, m[rows, cols], 12)

    assert np.allclose(_dense(coo(a) @ coo(b)), a @ b)


def test_cold_items_borrow_neighbours_of_their_look_alikes() -> None:
    # 0 -> 1 learned from clicks; 2 is new (no clicks) and reads like 1.
    clicks = Coo.coalesce(np.array([0]), np.array([1]), np.array([1.0]), 3)
    similar = Coo.coalesce(np.array([2, 1]), np.array([1, 2]), np.array([0.8, 0.8]), 3)
    item_warmth = warmth(np.array([50.0, 50.0, 0.0]), warm_users=2.0)
    blended = _dense(borrow_neighbours(clicks, look_alikes(similar, item_warmth), item_warmth, weight=0.5))
    assert blended[0, 2] == pytest.approx(0.5)  # the new item is now a neighbour of 0: weight x 1's score
    assert blended[2, 1] == 0  # a new item's own row borrows 1's row, which is empty here
    assert blended[0, 1] == pytest.approx(1.0, rel=1e-3)  # warm pairs keep their click score
