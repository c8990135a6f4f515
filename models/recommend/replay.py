"""Leave-last-basket-out replay of purchase data, and HR@k / NDCG@k with several targets.

A *basket* is one user's events of one order: same ``session_id`` (the invoice), else same
``occurred_at``. Per user with at least two baskets: the last basket is held out, its items not
bought before are the *targets* (an item the user already bought is excluded from both the
recommendations and the targets); the query is the user's ``UserState`` (the stream worker's
code) replayed over everything before that basket. Users whose last basket holds only items they
had bought before are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channelpulse.models.recommend.evaluation import Ranker
from channelpulse.models.recommend.sequences import event_time, events_by_user
from channelpulse.models.recommend.state import DEFAULT_MAX_HISTORY, UserState


@dataclass(frozen=True)
class BasketCase:
    """One held-out basket: rank ``targets`` given ``history``, never showing ``exclude``."""

    user_id: str
    history: list[str]
    exclude: frozenset[str]
    targets: frozenset[str]
    at: datetime


def basket_key(event: Mapping[str, Any]) -> str:
    """What makes events one basket: the session (order), else the time."""
    session = event.get("session_id")
    return f"s:{session}" if session else f"t:{event['occurred_at']}"


def replay_state(events: Iterable[Mapping[str, Any]], max_history: int = DEFAULT_MAX_HISTORY) -> UserState:
    """A user's state after ``events``, exactly as the worker builds it."""
    state = UserState(max_history=max_history)
    for e in events:
        state.update(str(e["item_id"]), str(e["action"]))
    return state


def leave_last_basket_out(
    events: Iterable[Mapping[str, Any]], max_history: int = DEFAULT_MAX_HISTORY
) -> tuple[list[Mapping[str, Any]], list[BasketCase]]:
    """``(training events, held-out cases)``: training keeps every event but the held-out baskets."""
    train: list[Mapping[str, Any]] = []
    cases: list[BasketCase] = []
    for user, evs in events_by_user(events).items():
        last_key = basket_key(evs[-1])
        cut = len(evs)
        while cut > 0 and basket_key(evs[cut - 1]) == last_key:
            cut -= 1
        before = evs[:cut]
        if not before:
            train.extend(evs)
            continue
        state = replay_state(before, max_history)
        targets = frozenset(str(e["item_id"]) for e in evs[cut:]) - state.purchased
        if not targets:
            train.extend(evs)
            continue
        train.extend(before)
        cases.append(BasketCase(user, list(state.history), state.purchased, targets, event_time(evs[cut])))
    return train, cases


def basket_metrics(ranked: Sequence[Sequence[str]], targets: Sequence[frozenset[str]], k: int) -> dict[str, float]:
    """``hr``: share of cases with a target in the top k; ``ndcg``: DCG@k / ideal DCG@k (binary
    relevance); ``recall``: share of target items in the top k, averaged over cases."""
    if not targets:
        return {"hr": 0.0, "ndcg": 0.0, "recall": 0.0}
    hits = ndcg = recall = 0.0
    for items, wanted in zip(ranked, targets, strict=True):
        top = list(items[:k])
        found = [rank for rank, item in enumerate(top) if item in wanted]
        hits += bool(found)
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(wanted))))
        ndcg += sum(1.0 / math.log2(r + 2) for r in found) / ideal
        recall += len(found) / min(k, len(wanted))
    n = len(targets)
    return {"hr": hits / n, "ndcg": ndcg / n, "recall": recall / n}


def evaluate_baskets(
    ranker: Ranker, cases: Sequence[BasketCase], k: int = 10, batch_size: int = 256
) -> dict[str, float]:
    """HR@k, NDCG@k and recall@k of ``ranker`` over ``cases``."""
    ranked: list[list[str]] = []
    for start in range(0, len(cases), batch_size):
        chunk = cases[start : start + batch_size]
        recs = ranker.recommend([c.history for c in chunk], [set(c.exclude) for c in chunk], k)
        ranked.extend([item for item, _ in rec] for rec in recs)
    return basket_metrics(ranked, [c.targets for c in cases], k)
