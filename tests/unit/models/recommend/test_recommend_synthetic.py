from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from channelpulse.models.recommend.actions import ACTIONS, PURCHASE, VIEW
from channelpulse.models.recommend.synthetic import generate_clicks

EVENT_KEYS = {"event_id", "channel", "occurred_at", "user_id", "item_id", "action", "session_id", "price"}
ITEM_KEYS = {"item_id", "title", "description", "categories", "price"}


def test_same_seed_same_stream_other_seed_other_stream(small_stream: tuple[list[Any], list[Any]]) -> None:
    catalog, events = small_stream
    again = generate_clicks(300, 200, 15_000, seed=3)
    assert again == (catalog, events)
    other = generate_clicks(300, 200, 15_000, seed=4)
    assert other[1][:50] != events[:50]


def test_wire_format(small_stream: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    catalog, events = small_stream
    assert len(catalog) == 200 and len(events) == 15_000
    assert all(set(item) == ITEM_KEYS for item in catalog)
    assert all(item["title"] and item["description"] and item["categories"] for item in catalog)
    catalog_ids = {item["item_id"] for item in catalog}
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert len({e["event_id"] for e in events}) == len(events)
    for event in events:
        assert set(event) == EVENT_KEYS
        assert event["action"] in ACTIONS
        assert event["item_id"] in catalog_ids
        assert isinstance(event["price"], float) and event["price"] > 0
        assert event["session_id"].startswith(event["user_id"])


def test_funnels_and_single_purchases(small_stream: tuple[list[Any], list[dict[str, Any]]]) -> None:
    _, events = small_stream
    seen: dict[str, set[str]] = defaultdict(set)
    bought: dict[str, set[str]] = defaultdict(set)
    for event in events:
        user, item = event["user_id"], event["item_id"]
        if event["action"] == VIEW:
            seen[user].add(item)
        else:
            assert item in seen[user], "every click, cart or purchase follows a view of the item"
        if event["action"] == PURCHASE:
            assert item not in bought[user], "an item is bought at most once per user"
            bought[user].add(item)
    assert sum(len(b) for b in bought.values()) > 100


def test_popularity_is_skewed(small_stream: tuple[list[Any], list[dict[str, Any]]]) -> None:
    _, events = small_stream
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        counts[event["item_id"]] += 1
    ordered = sorted(counts.values(), reverse=True)
    top_decile = sum(ordered[: len(ordered) // 10])
    assert top_decile > 0.2 * len(events)  # twice the share of a uniform catalog
