"""Leave-last-out HR@k / NDCG@k of the recommender against popularity, plain co-occurrence and a
text-only profile, on a synthetic click stream (models/recommend/synthetic.py).

    .venv/bin/python scripts/evaluate_recommender_synthetic.py --users 2000 --items 1000 --events 100000 --seed 7

Prints one table over all held-out users and one over users whose target is a cold item (fewer
than --cold-users training users), where only catalog text can help.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from channelpulse.models.recommend.baselines import CooccurrenceRanker, PopularityRanker, TextProfileRanker
from channelpulse.models.recommend.cooccurrence import item_users
from channelpulse.models.recommend.evaluation import Case, Ranker, evaluate, leave_last_out
from channelpulse.models.recommend.recommender import Recommender
from channelpulse.models.recommend.sequences import user_steps, vocabulary
from channelpulse.models.recommend.synthetic import generate_clicks
from channelpulse.models.recommend.text_neighbours import catalog_embeddings, shared_embedder
from channelpulse.models.recommend.training import TrainParams, fit_tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--cold-users", type=int, default=3, help="a target with fewer training users is cold")
    parser.add_argument(
        "--text-weights",
        type=lambda v: [float(w) for w in v.split(",")],
        default=[TrainParams().text_weight, 0.0],
        help="comma-separated text_weight values, one recommender row each (0 = click stream only); "
        "default: the trained default, then 0",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(2)

    started = time.perf_counter()
    catalog, events = generate_clicks(args.users, args.items, args.events, args.seed)
    train, cases = leave_last_out(events)
    ids = vocabulary(catalog, events)
    index = {item: n for n, item in enumerate(ids)}
    steps = user_steps(train, index)
    embeddings = catalog_embeddings(catalog, ids, shared_embedder())
    rankers: dict[str, Ranker] = {}
    for weight in args.text_weights:
        params = replace(TrainParams(), text_weight=weight)
        tables = fit_tables(train, ids, embeddings, params)
        rankers[f"recommender, text_weight={weight:g}"] = Recommender(tables, params.scoring, device="cpu")
    rankers["plain co-occurrence"] = CooccurrenceRanker(ids, steps)
    rankers["text-only profile"] = TextProfileRanker(ids, embeddings, tables.popularity)
    rankers["popularity"] = PopularityRanker(ids, tables.popularity)
    users = item_users(steps, len(ids))
    cold = [c for c in cases if users[index[c.target]] < args.cold_users]
    print(
        f"synthetic stream: seed={args.seed} users={args.users} items={args.items} events={len(events)}; "
        f"held-out users={len(cases)} (cold targets: {len(cold)})"
    )
    _table(rankers, cases, args.k, "all held-out users")
    _table(rankers, cold, args.k, f"targets with < {args.cold_users} training users")
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


def _table(rankers: dict[str, Ranker], cases: Sequence[Case], k: int, title: str) -> None:
    print(f"\n{title} (n={len(cases)})")
    print(f"| {'method':<30} | HR@{k:<3} | NDCG@{k:<3} |")
    print(f"|{'-' * 32}|{'-' * 8}|{'-' * 10}|")
    for name, ranker in rankers.items():
        m = evaluate(ranker, cases, k) if cases else {"hr": float(np.nan), "ndcg": float(np.nan)}
        print(f"| {name:<30} | {m['hr']:.4f} | {m['ndcg']:.4f}   |")


if __name__ == "__main__":
    raise SystemExit(main())
