from __future__ import annotations

import math

import pytest

from channelpulse.models.recommend.evaluation import leave_last_out, rank_metrics


def _event(user: str, minute: int, item: str, action: str) -> dict[str, str]:
    return {"user_id": user, "item_id": item, "action": action, "occurred_at": f"2024-03-01T10:{minute:02d}:00Z"}


def test_leave_last_out_holds_out_the_last_visit_with_its_view() -> None:
    events = [
        _event("u", 1, "a", "view"),
        _event("u", 2, "a", "purchase"),
        _event("u", 3, "b", "view"),
        _event("u", 4, "c", "view"),
        _event("u", 5, "c", "click"),  # target: the last click; its view at minute 4 goes with it
        _event("u", 6, "d", "view"),  # after the target: dropped
        _event("v", 1, "a", "view"),  # no click at all: training only, no case
    ]
    train, cases = leave_last_out(events)
    assert [(e["user_id"], e["item_id"]) for e in train] == [("u", "a"), ("u", "a"), ("u", "b"), ("v", "a")]
    assert len(cases) == 1
    case = cases[0]
    assert (case.user_id, case.target, case.history, case.exclude) == ("u", "c", ["a", "b"], frozenset({"a"}))


def test_users_without_history_or_rebuying_are_skipped() -> None:
    events = [
        _event("u", 1, "a", "click"),  # nothing before the target
        _event("w", 1, "a", "purchase"),
        _event("w", 2, "b", "view"),
        _event("w", 3, "a", "add_to_cart"),  # already bought: no case
    ]
    assert leave_last_out(events)[1] == []


def test_rank_metrics() -> None:
    ranked = [["x", "t1"], ["t2", "y"], ["p", "q"]]
    metrics = rank_metrics(ranked, ["t1", "t2", "t3"], k=2)
    assert metrics["hr"] == pytest.approx(2 / 3)
    assert metrics["ndcg"] == pytest.approx((1 / math.log2(3) + 1.0) / 3)
    assert rank_metrics(ranked, ["t1", "t2", "t3"], k=1)["hr"] == pytest.approx(1 / 3)
