from __future__ import annotations

import json

import pytest

from channelpulse.models.recommend.state import UserState


def test_history_keeps_distinct_recent_items_oldest_first() -> None:
    state = UserState(max_history=3)
    for item in ["a", "b", "a", "c", "d"]:
        state.update(item, "view")
    assert state.history == ["a", "c", "d"]  # "b" fell off; "a" moved to its latest position


def test_purchases_are_remembered_once_and_bounded() -> None:
    state = UserState(max_history=2, max_purchased=2)
    for item, action in [("a", "purchase"), ("b", "click"), ("a", "purchase"), ("c", "purchase"), ("d", "purchase")]:
        state.update(item, action)
    assert state.purchased_order == ["c", "d"]
    assert state.purchased == frozenset({"c", "d"})
    assert state.history == ["c", "d"]


def test_round_trip_through_json() -> None:
    state = UserState(max_history=4, max_purchased=10)
    for n in range(7):
        state.update(f"item-{n % 5}", "purchase" if n % 3 == 0 else "add_to_cart")
    restored = UserState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    restored.update("item-9", "view")
    assert restored.history[-1] == "item-9" and "item-9" not in state.history


def test_from_dict_fills_defaults_and_trims() -> None:
    state = UserState.from_dict({"max_history": 2, "history": ["a", "b", "c"]})
    assert state.history == ["b", "c"]
    assert state.purchased == frozenset()
    assert UserState.from_dict({}) == UserState()


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        UserState(max_history=0)
