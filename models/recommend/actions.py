"""The click-stream actions and how much each says about a user's interest in an item."""

from __future__ import annotations

from typing import Final

VIEW: Final = "view"
CLICK: Final = "click"
ADD_TO_CART: Final = "add_to_cart"
PURCHASE: Final = "purchase"

# Funnel order, weakest signal first.
ACTIONS: Final = (VIEW, CLICK, ADD_TO_CART, PURCHASE)

# Interest weight of one action (purchase > add_to_cart > click > view).
ACTION_WEIGHTS: Final[dict[str, float]] = {VIEW: 1.0, CLICK: 2.0, ADD_TO_CART: 4.0, PURCHASE: 6.0}


def action_weight(action: str) -> float:
    """Weight of ``action``; unknown actions count as a view."""
    return ACTION_WEIGHTS.get(action, ACTION_WEIGHTS[VIEW])
