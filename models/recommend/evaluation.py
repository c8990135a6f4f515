"""Leave-last-out replay of a click stream and the HR@k / NDCG@k of any recommender.

For each user the *target* is the item of their last click, add-to-cart or purchase. Training keeps
everything before the visit that led to it (the run of consecutive events on the target item is
held out with it, so its own view does not leak); the query is the user's state replayed over those
earlier events: the recent history (as ``UserState`` keeps it) and the purchases as excludes. Users
whose target they had already bought, or with no earlier event, are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from channelpulse.models.recommend.actions import ADD_TO_CART, CLICK, PURCHASE
from channelpulse.models.recommend.sequences import events_by_user
from channelpulse.models.recommend.state import DEFAULT_MAX_HISTORY, UserState

TARGET_ACTIONS = frozenset({CLICK, ADD_TO_CART, PURCHASE})


@dataclass(frozen=True)
class Case:
    """One held-out query: rank ``target`` given ``history``, never showing ``exclude``."""

    user_id: str
    history: list[str]
    exclude: frozenset[str]
    target: str


class Ranker(Protocol):
    def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[set[str] | Sequence[str]], k: int
    ) -> list[list[tuple[str, float]]]: ...


def leave_last_out(
    events: Iterable[Mapping[str, Any]], max_history: int = DEFAULT_MAX_HISTORY
) -> tuple[list[Mapping[str, Any]], list[Case]]:
    """``(training events, held-out cases)``; training events keep their time order per user."""
    train: list[Mapping[str, Any]] = []
    cases: list[Case] = []
    for user, evs in events_by_user(events).items():
        last = max((n for n, e in enumerate(evs) if e["action"] in TARGET_ACTIONS), default=None)
        if last is None:
            train.extend(evs)
            continue
        target = str(evs[last]["item_id"])
        cut = last
        while cut > 0 and str(evs[cut - 1]["item_id"]) == target:
            cut -= 1
        before = evs[:cut]
        train.extend(before)
        state = UserState(max_history=max_history)
        for e in before:
            state.update(str(e["item_id"]), str(e["action"]))
        if state.history and target not in state.purchased:
            cases.append(Case(user, list(state.history), state.purchased, target))
    return train, cases


def rank_metrics(ranked: Sequence[Sequence[str]], targets: Sequence[str], k: int) -> dict[str, float]:
    """``hr`` (share of targets in the top k) and ``ndcg`` (1 / log2(rank + 1), rank from 1)."""
    if not targets:
        return {"hr": 0.0, "ndcg": 0.0}
    hits, gain = 0, 0.0
    for items, target in zip(ranked, targets, strict=True):
        top = list(items[:k])
        if target in top:
            hits += 1
            gain += 1.0 / math.log2(top.index(target) + 2)
    return {"hr": hits / len(targets), "ndcg": gain / len(targets)}


def evaluate(ranker: Ranker, cases: Sequence[Case], k: int = 10, batch_size: int = 256) -> dict[str, float]:
    """HR@k and NDCG@k of ``ranker`` over ``cases``."""
    ranked: list[list[str]] = []
    for start in range(0, len(cases), batch_size):
        chunk = cases[start : start + batch_size]
        recs = ranker.recommend([c.history for c in chunk], [set(c.exclude) for c in chunk], k)
        ranked.extend([item for item, _ in rec] for rec in recs)
    return rank_metrics(ranked, [c.target for c in cases], k)
