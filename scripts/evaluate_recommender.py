"""The recommender on real shoppers: a leave-last-basket-out replay of UCI Online Retail through the
code the stream uses, against popularity, plain item co-occurrence and a text-only profile.

    nice -n 10 .venv/bin/python scripts/evaluate_recommender.py

Per user (``models/recommend/replay.py``): the last order is held out, its items not bought before
are the targets; the query is the user's ``UserState`` (the worker's code) replayed over all earlier
events, with their purchases excluded. The model is fitted by the stream refresher's own ``fit``
(``models/recommend/refresh.py``, parameters ``streams/recommend_learning.TRAIN_PARAMS``) on every
event but the held-out orders, and scored by ``Recommender`` (what the Triton adapter runs).
Users are split by the time of their held-out order: before --split (the tuning part, on which the
parameters were chosen) and from --split on (the report). Also printed: the report part after the
model saw the first 10 %, 50 % and 100 % of the training events (time order), and a per-order
replay: every order from --split on, ranked by a model fitted on the events before --split.
Text embeddings are cached in CHANNELPULSE_STATE_DIR/recommender (the encoder runs once).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from channelpulse.config import Settings
from channelpulse.models.recommend.baselines import CooccurrenceRanker, PopularityRanker, TextProfileRanker
from channelpulse.models.recommend.cooccurrence import item_mass
from channelpulse.models.recommend.embedding_cache import CachedEmbedder
from channelpulse.models.recommend.evaluation import Ranker
from channelpulse.models.recommend.recommender import Recommender
from channelpulse.models.recommend.refresh import RefreshParams, fit
from channelpulse.models.recommend.replay import BasketCase, basket_key, evaluate_baskets, leave_last_basket_out
from channelpulse.models.recommend.retail import load_retail
from channelpulse.models.recommend.sequences import event_time, user_steps
from channelpulse.models.recommend.state import UserState
from channelpulse.models.recommend.text_neighbours import catalog_embeddings, shared_embedder
from channelpulse.streams.recommend_learning import TRAIN_PARAMS


def per_order_cases(events: Sequence[Mapping[str, Any]], split: datetime, max_history: int) -> list[BasketCase]:
    """Every order at or after ``split`` of a user with earlier events, with the state before it."""
    states: dict[str, UserState] = {}
    baskets: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    order: list[tuple[str, str]] = []
    for e in events:
        key = (str(e["user_id"]), basket_key(e))
        if key not in baskets:
            baskets[key] = []
            order.append(key)
        baskets[key].append(e)
    cases = []
    for key in order:
        user, evs = key[0], baskets[key]
        state = states.setdefault(user, UserState(max_history=max_history))
        at = event_time(evs[0])
        if at >= split and state.history:
            targets = frozenset(str(e["item_id"]) for e in evs) - state.purchased
            if targets:
                cases.append(BasketCase(user, list(state.history), state.purchased, targets, at))
        for e in evs:
            state.update(str(e["item_id"]), str(e["action"]))
    return cases


def table(rankers: Mapping[str, Ranker], cases: Sequence[BasketCase], k: int, title: str) -> None:
    print(f"\n{title} (n={len(cases)})")
    print(f"| method | HR@{k} | NDCG@{k} | recall@{k} |")
    print("|---|---|---|---|")
    for name, ranker in rankers.items():
        m = evaluate_baskets(ranker, cases, k)
        print(f"| {name} | {m['hr']:.4f} | {m['ndcg']:.4f} | {m['recall']:.4f} |", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=settings.data_dir / "clicks" / "uci_online_retail")
    parser.add_argument("--split", default="2011-10-01", help="tuning part: held-out orders before this date")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--history", type=int, default=settings.recommendation_history, help="user history length")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(2)
    started = time.perf_counter()
    split = datetime.fromisoformat(args.split).replace(tzinfo=timezone.utc)

    catalog, events = load_retail(args.data)
    train, cases = leave_last_basket_out(events, args.history)
    train.sort(key=event_time)
    tune = [c for c in cases if c.at < split]
    report = [c for c in cases if c.at >= split]
    print(
        f"UCI Online Retail: {len(events)} purchase events (one per order and item), {len(catalog)} items, "
        f"{len({e['user_id'] for e in events})} users; held-out users: {len(tune)} before {args.split} "
        f"(tuning), {len(report)} from it on (report); history {args.history}, k {args.k}"
    )
    ids = [str(item["item_id"]) for item in catalog]
    index = {item: n for n, item in enumerate(ids)}
    embed = CachedEmbedder(shared_embedder(), settings.state_dir / "recommender" / "text_embeddings.npz")
    embeddings = catalog_embeddings(catalog, ids, embed)
    params = RefreshParams(train=TRAIN_PARAMS, max_history=args.history, k=args.k)
    no_text = replace(params, train=replace(TRAIN_PARAMS, text_weight=0.0))
    steps = user_steps(train, index)
    mass = item_mass(steps, len(ids))
    popularity = (mass / max(mass.max(), 1e-12)).astype(np.float32)

    bar = tqdm(total=4, desc="fitting", unit="model")
    rankers: dict[str, Ranker] = {}
    rankers["recommender (shipped parameters)"] = Recommender(
        fit(train, catalog, ids, params, embed), TRAIN_PARAMS.scoring, device="cpu"
    )
    bar.update()
    rankers["recommender, click stream only (text_weight 0)"] = Recommender(
        fit(train, catalog, ids, no_text, None), TRAIN_PARAMS.scoring, device="cpu"
    )
    bar.update()
    rankers["plain co-occurrence"] = CooccurrenceRanker(ids, steps)
    bar.update()
    rankers["text-only profile"] = TextProfileRanker(ids, embeddings, popularity)
    rankers["popularity"] = PopularityRanker(ids, popularity)
    bar.update()
    bar.close()
    table(rankers, report, args.k, f"report: users whose held-out order is on or after {args.split}")
    table(rankers, tune, args.k, f"tuning: users whose held-out order is before {args.split}")

    print(f"\nlearning curve (report users; the model saw the first share of the {len(train)} training events)")
    print(f"| share | events | HR@{args.k} | NDCG@{args.k} | popularity HR@{args.k} |")
    print("|---|---|---|---|---|")
    for share in (0.1, 0.5, 1.0):
        part = train[: round(share * len(train))]
        model = Recommender(fit(part, catalog, ids, params, embed), TRAIN_PARAMS.scoring, device="cpu")
        part_mass = item_mass(user_steps(part, index), len(ids))
        pop = PopularityRanker(ids, (part_mass / max(part_mass.max(), 1e-12)).astype(np.float32))
        m, p = evaluate_baskets(model, report, args.k), evaluate_baskets(pop, report, args.k)
        print(f"| {share:.0%} | {len(part)} | {m['hr']:.4f} | {m['ndcg']:.4f} | {p['hr']:.4f} |", flush=True)

    before = [e for e in events if event_time(e) < split]
    orders = per_order_cases(events, split, args.history)
    b_steps = user_steps(before, index)
    b_mass = item_mass(b_steps, len(ids))
    b_pop = (b_mass / max(b_mass.max(), 1e-12)).astype(np.float32)
    per_order: dict[str, Ranker] = {
        "recommender (shipped parameters)": Recommender(
            fit(before, catalog, ids, params, embed), TRAIN_PARAMS.scoring, device="cpu"
        ),
        "plain co-occurrence": CooccurrenceRanker(ids, b_steps),
        "text-only profile": TextProfileRanker(ids, embeddings, b_pop),
        "popularity": PopularityRanker(ids, b_pop),
    }
    table(per_order, orders, args.k, f"per order: every order from {args.split} on, model fitted before it")
    print(f"\n({time.perf_counter() - started:.0f} s; {embed.encoded} item texts encoded this run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
