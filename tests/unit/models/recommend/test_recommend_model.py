from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from channelpulse.models.recommend.artifacts import ITEMS_FILE, META_FILE, WEIGHTS_FILE, ItemTables
from channelpulse.models.recommend.baselines import CooccurrenceRanker, PopularityRanker
from channelpulse.models.recommend.evaluation import evaluate, leave_last_out
from channelpulse.models.recommend.recommender import Recommender, ScoringParams
from channelpulse.models.recommend.sequences import user_steps, vocabulary
from channelpulse.models.recommend.state import UserState
from channelpulse.models.recommend.training import TrainParams, fit_tables
from tests.unit.models.recommend.conftest import bag_of_words

Stream = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _tables(neighbours: dict[int, list[tuple[int, float]]], popularity: list[float]) -> ItemTables:
    n = len(popularity)
    index = np.zeros((n, 2), dtype=np.int32)
    score = np.zeros((n, 2), dtype=np.float32)
    for row, pairs in neighbours.items():
        for col, (item, value) in enumerate(pairs):
            index[row, col], score[row, col] = item, value
    return ItemTables([f"i{n}" for n in range(n)], index, score, np.array(popularity, dtype=np.float32))


def test_recent_items_weigh_more_and_results_come_best_first() -> None:
    tables = _tables({0: [(2, 1.0)], 1: [(3, 1.0)]}, [0.1, 0.2, 0.3, 1.0])
    model = Recommender(tables, ScoringParams(recency_decay=0.5, popularity_prior=0.0), device="cpu")
    newest_first = model.recommend([["i0", "i1"]], [set()], 2)[0]
    assert [i for i, _ in newest_first] == ["i3", "i2"]
    assert newest_first[0][1] == pytest.approx(1.0) and newest_first[1][1] == pytest.approx(0.5)
    assert [i for i, _ in model.recommend([["i1", "i0"]], [set()], 2)[0]] == ["i2", "i3"]


def test_unknown_items_are_ignored_and_empty_history_gets_popular_items() -> None:
    tables = _tables({0: [(2, 1.0)], 1: [(3, 1.0)]}, [0.1, 0.2, 0.3, 1.0])
    model = Recommender(tables, device="cpu")
    known, with_unknown, empty, unknown = model.recommend(
        [["i0"], ["nope", "i0", "gone"], [], ["nope"]], [set(), set(), set(), {"i3"}], 3
    )
    assert known == with_unknown
    assert [i for i, _ in empty] == ["i3", "i2", "i1"]
    assert [i for i, _ in unknown] == ["i2", "i1", "i0"]


def test_top_k_is_the_true_top_of_the_scores(small_version: tuple[Path, dict[str, Any]]) -> None:
    model = Recommender.load(small_version[0], device="cpu")
    rng = random.Random(1)
    histories = [rng.sample(model.items, rng.randint(1, 8)) for _ in range(20)]
    scores = model.scores(histories)
    for history, recs, row in zip(histories, model.recommend(histories, [set()] * 20, 10), scores, strict=True):
        values = [s for _, s in recs]
        assert values == sorted(values, reverse=True) and len(recs) == 10
        assert values[-1] >= torch.topk(row, 10).values[-1].item() - 1e-6
        assert len({i for i, _ in recs}) == 10, history


def test_never_recommends_an_excluded_or_bought_item(small_version: tuple[Path, dict[str, Any]]) -> None:
    """Property-style: random histories, random purchases (including the items the model likes
    most), any k: no purchased item ever comes back, lists are best-first and at most k long."""
    model = Recommender.load(small_version[0], device="cpu")
    rng = random.Random(7)
    for _ in range(40):
        histories, excludes, ks = [], [], []
        for _ in range(16):
            state = UserState(max_history=rng.randint(1, 20))
            for _ in range(rng.randint(0, 30)):
                item = rng.choice(model.items) if rng.random() < 0.9 else f"unknown-{rng.randint(0, 9)}"
                state.update(item, rng.choice(["view", "click", "add_to_cart", "purchase"]))
            histories.append(state.history)
            favourites = [i for i, _ in model.recommend([state.history], [set()], 5)[0]]
            excludes.append(set(state.purchased) | set(rng.sample(favourites, rng.randint(0, 5))))
            ks.append(rng.randint(1, 60))
        k = max(ks)
        for recs, exclude in zip(model.recommend(histories, excludes, k), excludes, strict=True):
            items = [i for i, _ in recs]
            assert not set(items) & exclude
            assert len(items) == len(set(items)) == min(k, len(model.items) - len(exclude & set(model.items)))
            assert [s for _, s in recs] == sorted((s for _, s in recs), reverse=True)


def test_everything_excluded_gives_an_empty_list() -> None:
    tables = _tables({0: [(1, 1.0)]}, [1.0, 0.5])
    model = Recommender(tables, device="cpu")
    assert model.recommend([["i0"]], [{"i0", "i1"}], 5) == [[]]
    assert model.recommend([["i0"]], [set()], 0) == [[]]


def test_beats_popularity_and_plain_cooccurrence_on_held_out_clicks(small_stream: Stream) -> None:
    catalog, events = small_stream
    train, cases = leave_last_out(events)
    ids = vocabulary(catalog, events)
    params = TrainParams()
    tables = fit_tables(train, ids, None, params)
    model = evaluate(Recommender(tables, params.scoring, device="cpu"), cases)
    popularity = evaluate(PopularityRanker(ids, tables.popularity), cases)
    plain = evaluate(CooccurrenceRanker(ids, user_steps(train, {i: n for n, i in enumerate(ids)})), cases)
    assert len(cases) > 250
    assert model["hr"] > 2 * popularity["hr"] and model["ndcg"] > 2 * popularity["ndcg"]
    assert model["hr"] > plain["hr"] and model["ndcg"] > plain["ndcg"]


def test_version_files_round_trip(small_version: tuple[Path, dict[str, Any]], small_stream: Stream) -> None:
    out, report = small_version
    assert {p.name for p in out.iterdir()} == {WEIGHTS_FILE, ITEMS_FILE, META_FILE}
    assert json.loads((out / META_FILE).read_text()) == report
    assert report["version"] == 1 and report["items"] == 200 and report["events"] == 15_000
    assert report["holdout"]["model"]["hr"] > report["holdout"]["popularity"]["hr"]
    catalog, events = small_stream
    ids = vocabulary(catalog, events)
    direct = Recommender(fit_tables(events, ids, bag_of_words_embeddings(catalog, ids), TrainParams()), device="cpu")
    loaded = Recommender.load(out, device="cpu")
    histories = [[e["item_id"] for e in events[n : n + 5]] for n in range(0, 500, 50)]
    assert loaded.recommend(histories, [set()] * 10, 10) == direct.recommend(histories, [set()] * 10, 10)


def bag_of_words_embeddings(catalog: list[dict[str, Any]], ids: list[str]) -> np.ndarray:
    from channelpulse.models.recommend.text_neighbours import catalog_embeddings

    return catalog_embeddings(catalog, ids, bag_of_words)
