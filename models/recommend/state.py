"""Per-user recommendation state: the recent item history and the items already bought.

A pure value object (no Kafka, no Faust): the stream worker keeps one per user in a
changelog-backed table, storing ``to_dict()`` and rebuilding with ``from_dict()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channelpulse.models.recommend.actions import PURCHASE

DEFAULT_MAX_HISTORY = 20
DEFAULT_MAX_PURCHASED = 500


@dataclass
class UserState:
    """Recent distinct items a user interacted with (oldest first, bounded) and what they bought.

    ``update`` moves a re-visited item to the end, so the history holds distinct items in the order
    of their latest interaction; the oldest fall off past ``max_history``. Purchases are kept in
    order of purchase, the oldest dropped past ``max_purchased``.
    """

    max_history: int = DEFAULT_MAX_HISTORY
    max_purchased: int = DEFAULT_MAX_PURCHASED
    history: list[str] = field(default_factory=list)
    purchased_order: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.max_history < 1 or self.max_purchased < 1:
            raise ValueError("max_history and max_purchased must be at least 1")

    @property
    def purchased(self) -> frozenset[str]:
        """The items this user bought (never to be recommended to them)."""
        return frozenset(self.purchased_order)

    def update(self, item_id: str, action: str) -> None:
        """Record one click event of this user on ``item_id``."""
        if item_id in self.history:
            self.history.remove(item_id)
        self.history.append(item_id)
        del self.history[: max(0, len(self.history) - self.max_history)]
        if action == PURCHASE and item_id not in self.purchased_order:
            self.purchased_order.append(item_id)
            del self.purchased_order[: max(0, len(self.purchased_order) - self.max_purchased)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (a Faust table value)."""
        return {
            "max_history": self.max_history,
            "max_purchased": self.max_purchased,
            "history": list(self.history),
            "purchased": list(self.purchased_order),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserState:
        """Inverse of :meth:`to_dict`; missing fields take their defaults."""
        state = cls(
            max_history=int(data.get("max_history", DEFAULT_MAX_HISTORY)),
            max_purchased=int(data.get("max_purchased", DEFAULT_MAX_PURCHASED)),
        )
        state.history = [str(i) for i in data.get("history", [])][-state.max_history :]
        state.purchased_order = [str(i) for i in data.get("purchased", [])][-state.max_purchased :]
        return state
