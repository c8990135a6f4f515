"""Throughput of ``channelpulse.schemas.validation.parse_event`` (the hot path of every worker) and of ``encode``.

Builds ``--events`` payloads of the four scored kinds (clicks, reviews, social, sensors), of which a
fraction ``--invalid`` is broken in one of several ways (wrong type, missing field, naive
timestamp, NaN, bad UTF-8, not JSON, not an object, too long, unknown action), shuffles them with a
fixed seed, then times ``parse_event`` over the whole set ``--rounds`` times and prints the best and
median events/s: mixed, valid only and invalid only. For comparison it also times the double-parsing
baseline ``Model.model_validate(json.loads(raw))`` on the valid payloads, and ``encode`` of the
parsed events.

    .venv/bin/python scripts/benchmarks/parse_event.py --events 10000 --invalid 0.2 --rounds 7
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from channelpulse.schemas.events import EVENT_MODELS, EXAMPLES, EventKind
from channelpulse.schemas.validation import Invalid, encode, parse_event

SCORED = (EventKind.CLICK, EventKind.REVIEW, EventKind.SOCIAL, EventKind.SENSOR)
WORDS = (
    "great",
    "awful",
    "fine",
    "broken",
    "love",
    "slow",
    "fast",
    "quiet",
    "loud",
    "cheap",
    "works",
    "never",
)


def valid_payload(kind: EventKind, rng: random.Random, i: int) -> bytes:
    body = copy.deepcopy(EXAMPLES[kind])
    body["event_id"] = f"{kind.value}-{i}"
    body["occurred_at"] = f"2024-05-01T12:{i % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    if kind is EventKind.CLICK:
        body["user_id"] = f"u-{rng.randrange(5000)}"
        body["item_id"] = f"sku-{rng.randrange(20000)}"
        body["action"] = rng.choice(["view", "view", "view", "click", "add_to_cart", "purchase"])
    elif kind in (EventKind.REVIEW, EventKind.SOCIAL):
        body["text"] = " ".join(rng.choices(WORDS, k=rng.randrange(5, 60)))
    elif kind is EventKind.SENSOR:
        body["value"] = rng.gauss(70.0, 5.0)
    return json.dumps(body).encode()


def broken_payload(kind: EventKind, rng: random.Random, i: int) -> bytes:
    raw = valid_payload(kind, rng, i)
    body = json.loads(raw)
    how = rng.randrange(9)
    if how == 0:
        body["event_id"] = i  # number instead of string
    elif how == 1:
        del body["channel"]
    elif how == 2:
        body["occurred_at"] = "2024-05-01T12:00:00"  # naive
    elif how == 3:
        return raw.replace(b'"channel"', b'"x": NaN, "channel"')
    elif how == 4:
        return raw[:20] + b"\xff\xfe" + raw[20:]
    elif how == 5:
        return raw[:-7]
    elif how == 6:
        return b"[" + raw + b"]"
    elif how == 7:
        body["event_id"] = "e" * 200
    else:
        body["schema_version"] = "1"
    return json.dumps(body).encode()


def build(n: int, invalid: float, seed: int) -> list[tuple[EventKind, bytes, bool]]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        kind = SCORED[i % len(SCORED)]
        bad = rng.random() < invalid
        items.append((kind, broken_payload(kind, rng, i) if bad else valid_payload(kind, rng, i), bad))
    rng.shuffle(items)
    return items


def rate(fn: Callable[[], object], count: int, rounds: int) -> tuple[float, float]:
    """Best and median items/s of ``fn`` (which handles ``count`` items) over ``rounds`` runs."""
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return count / min(seconds), count / statistics.median(seconds)


def parse_all(items: Sequence[tuple[EventKind, bytes, bool]]) -> list[object]:
    return [parse_event(kind, raw) for kind, raw, _ in items]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10000, help="payloads in the set")
    parser.add_argument("--invalid", type=float, default=0.2, help="fraction of broken payloads")
    parser.add_argument("--rounds", type=int, default=7, help="timed passes over the set")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    items = build(args.events, args.invalid, args.seed)
    valid = [it for it in items if not it[2]]
    broken = [it for it in items if it[2]]
    results = parse_all(items)
    wrong = [(it, r) for it, r in zip(items, results, strict=True) if isinstance(r, Invalid) != it[2]]
    if wrong:
        raise SystemExit(f"{len(wrong)} payloads were misclassified, e.g. {wrong[0]}")
    parsed: list[BaseModel] = [r for r in results if isinstance(r, BaseModel)]
    size = sum(len(raw) for _, raw, _ in items) / len(items)

    print(f"{len(items)} payloads ({len(broken)} invalid), mean {size:.0f} bytes, {args.rounds} rounds")
    print(f"{'what':<46} {'best ev/s':>12} {'median ev/s':>12}")
    rows = [
        ("parse_event, mixed", lambda: parse_all(items), len(items)),
        ("parse_event, valid only", lambda: parse_all(valid), len(valid)),
        ("parse_event, invalid only (reason built)", lambda: parse_all(broken), len(broken)),
        (
            "baseline json.loads + model_validate, valid",
            lambda: [EVENT_MODELS[k].model_validate(json.loads(raw)) for k, raw, _ in valid],
            len(valid),
        ),
        ("encode(parsed event)", lambda: [encode(e) for e in parsed], len(parsed)),
    ]
    for name, fn, count in rows:
        best, median = rate(fn, count, args.rounds)
        print(f"{name:<46} {best:>12,.0f} {median:>12,.0f}")


if __name__ == "__main__":
    main()
