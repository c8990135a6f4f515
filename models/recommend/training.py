"""Train a recommender version from click events and the catalog.

``fit_tables`` learns the neighbour tables; ``train_version`` also measures HR@10 / NDCG@10 on a
leave-last-out split of the same events (against popularity), then refits on all events and
writes the version's files (weights, vocabulary, metadata); the model registry adds the Triton
adapter (model.py) when it installs the folder as a new version.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from channelpulse.models.recommend.artifacts import ItemTables, save_tables
from channelpulse.models.recommend.baselines import PopularityRanker
from channelpulse.models.recommend.cooccurrence import (
    Coo,
    item_mass,
    item_users,
    normalise,
    sequence_cooccurrence,
    top_n,
)
from channelpulse.models.recommend.evaluation import evaluate, leave_last_out
from channelpulse.models.recommend.recommender import Recommender, ScoringParams
from channelpulse.models.recommend.sequences import Decay, event_time, user_steps, vocabulary
from channelpulse.models.recommend.text_neighbours import (
    Embedder,
    borrow_neighbours,
    catalog_embeddings,
    look_alikes,
    shared_embedder,
    text_neighbours,
    warmth,
)

EVAL_K = 10
COLD_USERS_FACTOR = 5.0


@dataclass(frozen=True)
class TrainParams:
    """Hyper-parameters (see cooccurrence.py and text_neighbours.py for their meaning)."""

    window: int = 5
    forward: float = 1.0
    backward: float = 0.5
    distance_decay: float = 0.7
    row_exponent: float = 0.5
    popularity_damping: float = 0.5
    neighbours: int = 50
    text_neighbours: int = 20
    text_floor: float = 0.3
    text_weight: float = 1.0
    warm_users: float = 2.0
    half_life_days: float = 0.0
    """Time decay of the click evidence (0: none): an event this many days older than the newest
    one counts half, in the co-occurrence and the popularity prior."""
    scoring: ScoringParams = field(default_factory=ScoringParams)


def fit_tables(
    events: Sequence[Mapping[str, Any]],
    ids: Sequence[str],
    embeddings: np.ndarray | None,
    params: TrainParams,
) -> ItemTables:
    """Neighbour tables over the vocabulary ``ids`` from ``events`` (+ text, when ``embeddings``)."""
    index = {item: n for n, item in enumerate(ids)}
    decay = None
    if params.half_life_days > 0 and events:
        decay = Decay(max(event_time(e) for e in events), params.half_life_days)
    steps = user_steps(events, index, decay)
    n = len(ids)
    mass = item_mass(steps, n)
    counts = sequence_cooccurrence(steps, n, params.window, params.forward, params.backward, params.distance_decay)
    matrix = normalise(counts, mass, params.row_exponent, params.popularity_damping)
    if embeddings is not None and params.text_weight > 0:
        users = item_users(steps, n)
        item_warmth = warmth(users.astype(np.float64), params.warm_users)
        # only items with little click evidence borrow from look-alikes (the weight of what they
        # borrow is 1 - warmth < exp(-5) past 5 * warm_users users): search neighbours for those
        cold = np.flatnonzero(users < COLD_USERS_FACTOR * params.warm_users)
        similar = text_neighbours(embeddings, params.text_neighbours, params.text_floor, rows=cold)
        clicks = Coo.from_table(*top_n(matrix, params.neighbours))
        matrix = borrow_neighbours(clicks, look_alikes(similar, item_warmth), item_warmth, params.text_weight)
    index_table, score_table = top_n(matrix, params.neighbours)
    popularity = mass / max(float(mass.max()), 1e-12) if mass.size else mass
    return ItemTables(list(ids), index_table.astype(np.int32), score_table, popularity.astype(np.float32))


def holdout_metrics(
    events: Sequence[Mapping[str, Any]], ids: Sequence[str], embeddings: np.ndarray | None, params: TrainParams
) -> dict[str, Any]:
    """Leave-last-out HR@10 / NDCG@10 of this model and of popularity on ``events``."""
    train, cases = leave_last_out(events)
    tables = fit_tables(train, ids, embeddings, params)
    model = Recommender(tables, params.scoring, device="cpu")
    popular = PopularityRanker(ids, tables.popularity)
    return {
        "cases": len(cases),
        "k": EVAL_K,
        "model": evaluate(model, cases, EVAL_K),
        "popularity": evaluate(popular, cases, EVAL_K),
    }


def train_version(
    clicks: Sequence[Mapping[str, Any]],
    catalog: Sequence[Mapping[str, Any]],
    out_dir: str | Path,
    params: TrainParams | None = None,
    embed: Embedder | None = None,
    extra_meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train on ``clicks`` (wire-format click events) + ``catalog`` and write the version into
    ``out_dir``; returns the report (also saved as meta.json). ``embed`` defaults to the shared
    sentence encoder; ``extra_meta`` is merged into the metadata (e.g. how the data was made)."""
    started = time.perf_counter()
    params = params or TrainParams()
    out = Path(out_dir)
    ids = vocabulary(catalog, clicks)
    embeddings = None
    if params.text_weight > 0:
        embeddings = catalog_embeddings(catalog, ids, embed or shared_embedder())
    holdout = holdout_metrics(clicks, ids, embeddings, params)
    tables = fit_tables(clicks, ids, embeddings, params)
    report: dict[str, Any] = {
        "model": "recommender",
        **({"version": int(out.name)} if out.name.isdigit() else {}),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "items": len(ids),
        "catalog_items": len(catalog),
        "events": len(clicks),
        "users": len({str(e["user_id"]) for e in clicks}),
        "neighbours": int(tables.neighbour_index.shape[1]),
        "params": {k: v for k, v in asdict(params).items() if k != "scoring"},
        "scoring": asdict(params.scoring),
        "holdout": holdout,
        **dict(extra_meta or {}),
    }
    report["train_seconds"] = round(time.perf_counter() - started, 2)
    save_tables(out, tables, report)
    return report
