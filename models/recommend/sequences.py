"""Click events -> the item vocabulary and each user's ordered item steps with interest weights."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from channelpulse.models.recommend.actions import action_weight


@dataclass(frozen=True)
class Steps:
    """One user's item steps, oldest first: consecutive events on the same item form one step whose
    weight is that of its strongest action (a view that led to a purchase is one purchase step)."""

    items: np.ndarray  # int64 [steps] vocabulary indices
    weights: np.ndarray  # float64 [steps]


def vocabulary(catalog: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Item ids: the catalog's in its order, then items seen only in events (sorted)."""
    ids = list(dict.fromkeys(str(item["item_id"]) for item in catalog))
    known = set(ids)
    extra = sorted({str(e["item_id"]) for e in events} - known)
    return ids + extra


def event_time(event: Mapping[str, Any]) -> datetime:
    """``occurred_at`` (RFC 3339) as an aware datetime."""
    return datetime.fromisoformat(str(event["occurred_at"]).replace("Z", "+00:00"))


def events_by_user(events: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Each user's events in time order (stable for equal times)."""
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in events:
        grouped[str(event["user_id"])].append(event)
    return {user: sorted(evs, key=event_time) for user, evs in grouped.items()}


@dataclass(frozen=True)
class Decay:
    """Older evidence counts less: an event ``age`` days before ``now`` weighs
    ``0.5 ** (age / half_life_days)`` (``half_life_days`` <= 0: no decay)."""

    now: datetime
    half_life_days: float

    def factor(self, at: datetime) -> float:
        if self.half_life_days <= 0:
            return 1.0
        age = max(0.0, (self.now - at).total_seconds() / 86400.0)
        return float(0.5 ** (age / self.half_life_days))


def to_steps(user_events: Sequence[Mapping[str, Any]], index: Mapping[str, int], decay: Decay | None = None) -> Steps:
    """Merge a user's time-ordered events into item steps (unknown items are skipped); with
    ``decay``, each action's weight is scaled by the decay factor of its time."""
    items: list[int] = []
    weights: list[float] = []
    for event in user_events:
        col = index.get(str(event["item_id"]))
        if col is None:
            continue
        weight = action_weight(str(event["action"]))
        if decay is not None:
            weight *= decay.factor(event_time(event))
        if items and items[-1] == col:
            weights[-1] = max(weights[-1], weight)
        else:
            items.append(col)
            weights.append(weight)
    return Steps(np.array(items, dtype=np.int64), np.array(weights, dtype=np.float64))


def user_steps(
    events: Iterable[Mapping[str, Any]], index: Mapping[str, int], decay: Decay | None = None
) -> list[Steps]:
    """Item steps of every user with at least one known item."""
    steps = (to_steps(evs, index, decay) for evs in events_by_user(events).values())
    return [s for s in steps if s.items.size]
