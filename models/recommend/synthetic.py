"""A synthetic but structured click stream and the catalog it runs over.

No public click data set is available offline, so training, evaluation and the sample producer use
this generator. How the stream is built (all draws from one seeded ``numpy`` generator):

* **Catalog.** Each item has a category (12), a product sub-type within it (4 per category), a
  hidden *style* (value / premium / eco / pro), a Zipf popularity (exponent ``zipf_exponent`` over a
  random rank order), a price and three *complementary successors* (two other sub-types of its
  category, one item of a linked category, e.g. coffee -> cookware). A fraction of items are *new*:
  released late in the time span, so they have few interactions. Titles and descriptions are written
  from per-category word lists: the text names the category and sub-type (except for some generic
  "bundle" titles), names the style only sometimes, sometimes hints at a complement, and carries
  filler and occasional off-topic phrases, so text similarity is informative but imperfect.
* **Users.** Category tastes (a sparse Dirichlet), sub-type and style preferences, an activity level
  (log-normal: a few heavy users) and a preferred channel.
* **Sessions.** A session starts on a category drawn from the user's taste (or returns to an item
  left in the cart), then walks items: to a complementary successor of the current item, to another
  item of the same category, or to another category. Each visited item runs the funnel
  view -> click -> add_to_cart -> purchase with drop-off at every step; an item is bought at most once
  per user. Item choices weigh popularity by the user's sub-type and style preferences.

Events come out in the wire format, ordered by time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from channelpulse.models.recommend.actions import ADD_TO_CART, CLICK, PURCHASE, VIEW
from channelpulse.models.recommend.synthetic_vocab import (
    CATEGORIES,
    CHANNELS,
    FILLERS,
    GENERIC_NOUNS,
    LINKED,
    STYLE_PHRASES,
    STYLE_PRICE_FACTOR,
    STYLES,
)

# The stream the committed model version 1 was trained on (its meta.json says so too); the sample
# producer publishes the same catalog and clicks, so served items match the published catalog.
SAMPLE_SEED = 7
SAMPLE_USERS = 2000
SAMPLE_ITEMS = 1000
SAMPLE_EVENTS = 100_000

START = datetime(2024, 3, 1, tzinfo=timezone.utc)
CATEGORY_INDEX = {c.name: i for i, c in enumerate(CATEGORIES)}
N_SUBTYPES = 4

# (seconds since START, user index, item index, action, session number, channel)
_RawEvent = tuple[float, int, int, str, int, str]


@dataclass(frozen=True)
class StreamConfig:
    """Knobs of the generator (the defaults are what the committed model was trained on)."""

    days: float = 28.0
    zipf_exponent: float = 1.0
    new_item_fraction: float = 0.1
    new_items_from: float = 0.75  # new items are released after this fraction of the time span
    taste_concentration: float = 0.25
    successor_prob: float = 0.4
    same_category_prob: float = 0.85
    continue_prob: float = 0.8
    revisit_cart_prob: float = 0.3
    click_prob: float = 0.4
    cart_prob: float = 0.3
    purchase_prob: float = 0.5
    revisit_purchase_prob: float = 0.6


@dataclass
class _Item:
    index: int
    category: int
    subtype: int
    style: int
    popularity: float
    release_s: float
    price: float
    successors: list[int] = field(default_factory=list)

    @property
    def item_id(self) -> str:
        return f"item-{self.index:05d}"


@dataclass
class _User:
    index: int
    taste: np.ndarray  # [categories]
    subtype_pref: np.ndarray  # [categories, subtypes]
    style_pref: np.ndarray  # [styles]
    channel: str
    bought: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # [items]
    cart: list[int] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return f"user-{self.index:05d}"


def _draw(rng: np.random.Generator, weights: np.ndarray) -> int | None:
    """An index drawn with probability proportional to ``weights``; None when all are zero."""
    cum = np.cumsum(weights)
    total = float(cum[-1]) if cum.size else 0.0
    if total <= 0.0:
        return None
    return min(int(np.searchsorted(cum, rng.random() * total, side="right")), cum.size - 1)


def _make_items(n_items: int, cfg: StreamConfig, rng: np.random.Generator) -> list[_Item]:
    span = cfg.days * 86400.0
    ranks = rng.permutation(n_items)
    new = rng.random(n_items) < cfg.new_item_fraction
    items = []
    for i in range(n_items):
        cat = int(rng.integers(len(CATEGORIES)))
        style = int(rng.integers(len(STYLES)))
        release = float(rng.uniform(cfg.new_items_from, 0.95) * span) if new[i] else 0.0
        price = CATEGORIES[cat].median_price * STYLE_PRICE_FACTOR[STYLES[style]] * rng.lognormal(0, 0.3)
        items.append(
            _Item(
                index=i,
                category=cat,
                subtype=int(rng.integers(N_SUBTYPES)),
                style=style,
                popularity=float(1.0 / (ranks[i] + 1.0) ** cfg.zipf_exponent),
                release_s=release,
                price=round(float(price), 2),
            )
        )
    by_cat = [[it for it in items if it.category == c] for c in range(len(CATEGORIES))]
    for it in items:
        same = [o for o in by_cat[it.category] if o.subtype != it.subtype]
        linked = by_cat[CATEGORY_INDEX[LINKED[CATEGORIES[it.category].name]]]
        for pool, n in ((same, 2), (linked, 1)):
            if not pool:
                continue
            w = np.array([o.popularity * (3.0 if o.style == it.style else 1.0) for o in pool])
            picks = rng.choice(len(pool), size=min(n, len(pool)), replace=False, p=w / w.sum())
            it.successors.extend(pool[int(p)].index for p in picks)
    return items


def _describe(item: _Item, items: list[_Item], rng: np.random.Generator) -> dict[str, Any]:
    words = CATEGORIES[item.category]
    noun = words.nouns[item.subtype]
    brand = words.brands[int(rng.integers(len(words.brands)))]
    adjective = words.adjectives[int(rng.integers(len(words.adjectives)))]
    shown_noun = GENERIC_NOUNS[int(rng.integers(len(GENERIC_NOUNS)))] if rng.random() < 0.08 else noun
    title_adj = f"{adjective} " if rng.random() < 0.7 else ""
    title = f"{brand} {title_adj}{shown_noun}".title()
    f1, f2 = rng.choice(len(words.features), size=2, replace=False)
    sentences = [f"A {adjective} {noun} with {words.features[int(f1)]} and {words.features[int(f2)]}."]
    if rng.random() < 0.35:
        phrases = STYLE_PHRASES[STYLES[item.style]]
        sentences.append(phrases[int(rng.integers(len(phrases)))])
    if item.successors and rng.random() < 0.3:
        nxt = items[item.successors[int(rng.integers(len(item.successors)))]]
        sentences.append(f"Pairs well with a {CATEGORIES[nxt.category].nouns[nxt.subtype]}.")
    if rng.random() < 0.1:
        other = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        sentences.append(f"Loved by fans of {other.name} and {other.nouns[int(rng.integers(N_SUBTYPES))]}s.")
    if rng.random() < 0.5:
        sentences.append(FILLERS[int(rng.integers(len(FILLERS)))])
    return {
        "item_id": item.item_id,
        "title": title,
        "description": " ".join(sentences),
        "categories": [words.name, noun],
        "price": item.price,
    }


def _make_users(n_users: int, cfg: StreamConfig, rng: np.random.Generator) -> list[_User]:
    n_cat = len(CATEGORIES)
    return [
        _User(
            index=u,
            taste=rng.dirichlet(np.full(n_cat, cfg.taste_concentration)),
            subtype_pref=rng.dirichlet(np.ones(N_SUBTYPES), size=n_cat),
            style_pref=rng.dirichlet(np.full(len(STYLES), 0.7)),
            channel=CHANNELS[int(rng.choice(len(CHANNELS), p=[0.5, 0.35, 0.15]))],
        )
        for u in range(n_users)
    ]


def _budgets(n_users: int, n_events: int, rng: np.random.Generator) -> np.ndarray:
    """Events per user: log-normal activity, summing exactly to ``n_events``."""
    share = rng.lognormal(0.0, 0.8, n_users)
    share = share / share.sum() * n_events
    budgets = np.floor(share).astype(np.int64)
    rest = n_events - int(budgets.sum())
    budgets[np.argsort(-(share - budgets))[:rest]] += 1
    return budgets


class _Walker:
    """Walks one user's sessions and emits their raw events."""

    def __init__(self, items: list[_Item], cfg: StreamConfig, rng: np.random.Generator) -> None:
        self.items = items
        self.cfg = cfg
        self.rng = rng
        self.cat_items = [
            np.array([it.index for it in items if it.category == c], dtype=np.int64) for c in range(len(CATEGORIES))
        ]
        self.popularity = np.array([it.popularity for it in items])
        self.release = np.array([it.release_s for it in items])
        self.subtype = np.array([it.subtype for it in items])
        self.style = np.array([it.style for it in items])
        self.successors = [np.array(it.successors, dtype=np.int64) for it in items]

    def pick(self, user: _User, cat: int, t: float, seen: np.ndarray) -> int | None:
        """An available item of ``cat`` the user has neither seen this session nor bought."""
        pool = self.cat_items[cat]
        w = (
            self.popularity[pool]
            * user.subtype_pref[cat, self.subtype[pool]]
            * user.style_pref[self.style[pool]]
            * (self.release[pool] <= t)
            * ~(seen[pool] | user.bought[pool])
        )
        j = _draw(self.rng, w)
        return None if j is None else int(pool[j])

    def next_item(self, user: _User, current: int, t: float, seen: np.ndarray) -> int | None:
        cfg, rng = self.cfg, self.rng
        if rng.random() < cfg.successor_prob:
            succ = self.successors[current]
            w = user.style_pref[self.style[succ]] * (self.release[succ] <= t) * ~(seen[succ] | user.bought[succ])
            j = _draw(rng, w)
            if j is not None:
                return int(succ[j])
        cat = self.items[current].category
        if rng.random() >= cfg.same_category_prob:
            cat = _draw(rng, user.taste) or 0
        return self.pick(user, cat, t, seen)

    def funnel(self, user: _User, item: int, revisit: bool) -> list[str]:
        cfg, rng = self.cfg, self.rng
        liked = 1.0 + user.style_pref[self.style[item]]
        actions = [VIEW]
        if rng.random() < min(1.0, cfg.click_prob * liked):
            actions.append(CLICK)
            if rng.random() < cfg.cart_prob * liked:
                actions.append(ADD_TO_CART)
                buy = cfg.revisit_purchase_prob if revisit else cfg.purchase_prob
                if rng.random() < buy:
                    actions.append(PURCHASE)
        return actions

    def user_events(self, user: _User, budget: int) -> list[_RawEvent]:
        """``budget`` events of ``user``; sessions are spread so the user stays within the time span."""
        cfg, rng = self.cfg, self.rng
        span = cfg.days * 86400.0
        out: list[_RawEvent] = []
        user.bought = np.zeros(len(self.items), dtype=bool)
        t = 0.0
        session = 0
        while len(out) < budget:
            # Next session start: the remaining time shared by the sessions still expected.
            per_session = len(out) / session if session and out else 8.0
            expected = max(1.0, (budget - len(out)) / max(per_session, 1.0))
            t += float(rng.uniform(0.0, 2.0 * max(span - t, 0.0) / (expected + 1.0)))
            seen = np.zeros(len(self.items), dtype=bool)
            channel = user.channel if rng.random() < 0.8 else CHANNELS[int(rng.integers(len(CHANNELS)))]
            revisit = bool(user.cart) and rng.random() < cfg.revisit_cart_prob
            if revisit:
                item: int | None = user.cart.pop(int(rng.integers(len(user.cart))))
            else:
                item = self.pick(user, _draw(rng, user.taste) or 0, t, seen)
            while item is not None and len(out) < budget:
                seen[item] = True
                for action in self.funnel(user, item, revisit):
                    if len(out) >= budget:
                        break
                    t += 3.0 + float(rng.exponential(40.0))
                    out.append((t, user.index, item, action, session, channel))
                    if action == ADD_TO_CART and item not in user.cart:
                        user.cart.append(item)
                    elif action == PURCHASE:
                        user.bought[item] = True
                        if item in user.cart:
                            user.cart.remove(item)
                revisit = False
                item = self.next_item(user, item, t, seen) if rng.random() < cfg.continue_prob else None
            session += 1
            if session > 10 * budget:  # nothing left this user can see
                break
        return out


def generate_clicks(
    n_users: int, n_items: int, n_events: int, seed: int = 0, config: StreamConfig | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A catalog of ``n_items`` items and ``n_events`` click events of up to ``n_users`` users.

    Returns ``(catalog, events)`` in the wire format: catalog items ``{item_id, title, description,
    categories, price}``; click events ``{event_id, channel, occurred_at (RFC 3339, UTC), user_id,
    item_id, action, session_id, price}`` ordered by ``occurred_at``. Same arguments, same output.
    """
    if min(n_users, n_items, n_events) < 1:
        raise ValueError("n_users, n_items and n_events must be positive")
    cfg = config or StreamConfig()
    rng = np.random.default_rng(seed)
    items = _make_items(n_items, cfg, rng)
    catalog = [_describe(it, items, rng) for it in items]
    users = _make_users(n_users, cfg, rng)
    walker = _Walker(items, cfg, rng)
    raw: list[_RawEvent] = []
    for user, budget in zip(users, _budgets(n_users, n_events, rng), strict=True):
        raw.extend(walker.user_events(user, int(budget)))
    raw.sort(key=lambda r: (r[0], r[1]))
    ids = rng.bytes(16 * len(raw))
    events = []
    for n, (t, u, i, action, session, channel) in enumerate(raw):
        user = users[u]
        events.append(
            {
                "event_id": str(uuid.UUID(bytes=ids[16 * n : 16 * n + 16], version=4)),
                "channel": channel,
                "occurred_at": (START + timedelta(seconds=t)).isoformat(timespec="milliseconds"),
                "user_id": user.user_id,
                "item_id": items[i].item_id,
                "action": action,
                "session_id": f"{user.user_id}-s{session:04d}",
                "price": items[i].price,
            }
        )
    return catalog, events
