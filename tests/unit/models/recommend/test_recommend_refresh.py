"""The stream refresh: gated promotion through the registry, catalog deletions and new items,
rollback; on a small generated stream with a files-only registry (no Triton)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from channelpulse.config import REPO_ROOT
from channelpulse.models.recommend.artifacts import save_tables
from channelpulse.models.recommend.embedding_cache import CachedEmbedder
from channelpulse.models.recommend.recommender import Recommender
from channelpulse.models.recommend.refresh import SOURCE, RefreshParams, refresh
from channelpulse.models.recommend.replay import basket_metrics, leave_last_basket_out
from channelpulse.models.recommend.text_neighbours import item_text
from channelpulse.models.recommend.training import TrainParams, fit_tables
from channelpulse.models.registry import ModelRegistry, ModelRepository
from tests.unit.models.recommend.conftest import bag_of_words

Stream = tuple[list[dict[str, Any]], list[dict[str, Any]]]
MODEL = "recommender"
PARAMS = RefreshParams(train=TrainParams(), max_history=20, gate_cases=200, min_gate_cases=10)


@pytest.fixture()
def registry(tmp_path: Path) -> ModelRegistry:
    """A repository holding the shipped config and version 1 (synthetic world, seed 7)."""
    source = REPO_ROOT / "models" / "repository" / MODEL
    target = tmp_path / "repo" / MODEL
    target.mkdir(parents=True)
    shutil.copy(source / "config.pbtxt", target / "config.pbtxt")
    shutil.copytree(source / "1", target / "1")
    return ModelRegistry(ModelRepository(tmp_path / "repo"))


def served(registry: ModelRegistry) -> tuple[int | None, Recommender]:
    version = registry.served_version(MODEL)
    assert version is not None
    return version, Recommender.load(registry.repository.version_dir(MODEL, version), device="cpu")


def test_a_stream_learned_version_is_promoted_and_an_unchanged_stream_is_left_alone(
    registry: ModelRegistry, small_stream: Stream
) -> None:
    catalog, events = small_stream
    first = refresh(events, catalog, registry, MODEL, PARAMS, embed=bag_of_words)
    assert first.action == "promoted", first.detail
    assert first.previous_version == 1 and first.version == 2
    version, model = served(registry)
    assert version == 2 and model.items == [str(i["item_id"]) for i in catalog]
    meta = registry.list(MODEL)[MODEL][-1].meta
    assert meta["source"] == SOURCE and meta["gate"]["cases"] >= PARAMS.min_gate_cases
    assert meta["gate"]["candidate"]["hr"] >= meta["gate"]["serving"]["hr"]
    again = refresh(events, catalog, registry, MODEL, PARAMS, embed=bag_of_words)
    assert again.action == "unchanged" and registry.served_version(MODEL) == 2


def test_a_candidate_worse_than_the_serving_version_is_not_promoted(
    registry: ModelRegistry, small_stream: Stream, tmp_path: Path
) -> None:
    catalog, events = small_stream
    ids = [str(i["item_id"]) for i in catalog]
    # serving: fitted on every click, the held-out baskets included (it has seen the answers), and
    # not marked as learned from this stream, so all of them are eligible as gate cases
    cheat = tmp_path / "cheat"
    save_tables(cheat, fit_tables(events, ids, None, PARAMS.train), {"scoring": {}})
    info = registry.add_version(MODEL, cheat, {"note": "fitted on the gate's answers"})
    registry.promote(MODEL, info.version)
    outcome = refresh(events, catalog, registry, MODEL, PARAMS)
    assert outcome.action == "rejected", outcome.detail
    assert outcome.gate["candidate"]["hr"] < outcome.gate["serving"]["hr"]
    assert registry.served_version(MODEL) == info.version
    assert registry.repository.version_numbers(MODEL) == [1, info.version]  # the candidate was not added


def test_deleted_items_are_never_recommended_even_when_the_gate_keeps_the_old_evidence(
    registry: ModelRegistry, small_stream: Stream
) -> None:
    catalog, events = small_stream
    assert refresh(events, catalog, registry, MODEL, PARAMS).action == "promoted"
    _, before = served(registry)
    popular = [i for i, _ in before.recommend([[]], [set()], 20)[0]]
    kept = [item for item in catalog if str(item["item_id"]) not in popular]
    # the same clicks, a catalog without the 20 most popular items: the candidate's HR is lower
    # (the targets among them are unreachable), so the gate fails, and a catalog sync serves instead
    outcome = refresh(events, kept, registry, MODEL, replace_min(PARAMS))
    assert outcome.action in ("promoted", "catalog-sync"), outcome.detail
    _, after = served(registry)
    _, cases = leave_last_basket_out(events, PARAMS.max_history)
    lists = after.recommend([c.history for c in cases], [set(c.exclude) for c in cases], 10)
    assert set(after.items) == {str(i["item_id"]) for i in kept}
    assert not {i for rec in lists for i, _ in rec} & set(popular)


def replace_min(params: RefreshParams) -> RefreshParams:
    """Gate on every case, even those the serving version has seen (so the catalog path is taken)."""
    return RefreshParams(params.train, params.max_history, params.k, params.gate_cases, min_gate_cases=10**6)


def test_a_new_catalog_item_is_recommendable_at_once_next_to_its_look_alikes(
    registry: ModelRegistry, small_stream: Stream, tmp_path: Path
) -> None:
    catalog, events = small_stream
    assert refresh(events, catalog, registry, MODEL, PARAMS, embed=bag_of_words).action == "promoted"
    _, model = served(registry)
    twin_of = catalog[0]
    new = {**twin_of, "item_id": "brand-new", "title": twin_of["title"]}
    embed = CachedEmbedder(bag_of_words, tmp_path / "emb.npz")
    outcome = refresh(events, [*catalog, new], registry, MODEL, PARAMS, embed=embed)
    assert outcome.action in ("promoted", "catalog-sync"), outcome.detail
    _, model = served(registry)
    assert "brand-new" in model.items
    # users who bought the twin's click neighbours are shown the new item among the twin's peers
    scores = model.scores([[str(twin_of["item_id"])]])[0]
    rank = int((scores > scores[model.index["brand-new"]]).sum())
    assert rank < len(model.items) // 4
    assert embed.encoded == len(catalog)  # the new item's text is its twin's: encoded once

    def no_encoder(texts: object) -> np.ndarray:
        raise AssertionError("a cached text was encoded again")

    cached = CachedEmbedder(no_encoder, tmp_path / "emb.npz")
    assert cached([item_text(new)]) == pytest.approx(bag_of_words([item_text(new)]))


def test_rollback_serves_the_previous_version(registry: ModelRegistry, small_stream: Stream) -> None:
    catalog, events = small_stream
    assert refresh(events, catalog, registry, MODEL, PARAMS).action == "promoted"
    assert registry.served_version(MODEL) == 2
    registry.rollback(MODEL, note="test")
    assert registry.served_version(MODEL) == 1


def test_basket_metrics_count_a_hit_per_case_and_grade_ranks() -> None:
    m = basket_metrics([["a", "b", "c"], ["x", "y", "z"]], [frozenset({"b", "q"}), frozenset({"n"})], 3)
    assert m["hr"] == 0.5
    ideal = 1.0 + 1.0 / np.log2(3)
    assert m["ndcg"] == pytest.approx((1.0 / np.log2(3)) / ideal / 2)
    assert m["recall"] == pytest.approx(0.25)


def test_the_text_budget_bounds_the_encoder_calls_per_refresh(tmp_path: Path) -> None:
    calls: list[int] = []

    def counting(texts: object) -> np.ndarray:
        batch = list(texts)  # type: ignore[call-overload]
        calls.append(len(batch))
        return bag_of_words(batch)

    cache = CachedEmbedder(counting, tmp_path / "emb.npz", cached_only=True)
    texts = [f"item number {n}" for n in range(25)]
    assert cache.prefetch(texts, 10) == 15 and cache.prefetch(texts, 10) == 5
    vectors = cache(texts)  # cached_only: the 5 not placed yet get zeros, the encoder is not called
    assert calls == [10, 10]
    assert np.count_nonzero(np.abs(vectors).sum(axis=1)) == 20
    assert cache.prefetch(texts, 10) == 0 and calls == [10, 10, 5]
