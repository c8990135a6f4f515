"""`channelpulse bench --model-speed` pieces: the held-out mix, interleaved timing, the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from channelpulse.bench.model_speed import QUICK, agreement_with, batches_of, figures_for, held_out, time_batches
from channelpulse.models.sentiment.data import load_vader
from channelpulse.models.sentiment.labels import NEUTRAL


class Recorder:
    """A stand-in runtime that records the order it is called in."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = name
        self.calls = calls

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(self.name)
        return np.zeros((len(texts), 3)), np.zeros((len(texts), 4))


def test_held_out_mixes_tweets_and_reviews_in_a_fixed_shuffled_order(data_dir: Path) -> None:
    mix = held_out(data_dir, QUICK)
    assert len(mix) == QUICK.tweets + QUICK.reviews
    assert held_out(data_dir, QUICK).texts == mix.texts
    assert "semeval" in mix.source and "amazon" in mix.source
    first_half = mix.texts[: len(mix) // 2]
    reviews = set(load_vader(data_dir / "sentiment" / "vader_amazon_snippets.tsv").texts)
    assert sum(t in reviews for t in mix.texts) == QUICK.reviews
    assert 0 < sum(t in reviews for t in first_half) < len(first_half)  # shuffled, not concatenated
    assert (mix.labels != NEUTRAL).sum() > len(mix) / 2
    lengths = [len(t) for t in mix.texts]
    assert max(lengths) > 2 * np.median(lengths) > 4 * min(lengths)  # short and long sentences


def test_runtimes_are_timed_interleaved_batch_by_batch() -> None:
    calls: list[str] = []
    runtimes = {"a": Recorder("a", calls), "b": Recorder("b", calls)}
    totals = time_batches(runtimes, batches_of(["x"] * 5, 2), reps=2)  # type: ignore[arg-type]
    assert set(totals) == {"a", "b"}
    assert all(0 <= t["best"] <= t["median"] for t in totals.values())
    assert calls[:2] == ["a", "b"]  # one untimed call each
    assert calls[2:] == ["a", "b"] * 2 * 3  # 3 batches x 2 reps, interleaved


def test_figures_compare_with_the_baseline() -> None:
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]], np.float32)
    emb = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    other = (np.array([[0.6, 0.1, 0.3], [0.6, 0.1, 0.3]], np.float32), np.array([[1.0, 0.0], [0.6, 0.8]], np.float32))
    agreement = agreement_with((probs, emb), other)
    assert agreement == {"argmax_agreement": 0.5, "max_abs_prob_diff": 0.5, "min_embedding_cosine": 0.8}
    fig = figures_for({"median": 2.0, "best": 1.0}, 100, {"median": 8.0, "best": 2.0}, {"median": 4.0, "best": 3.0},
                      0.905, 0.91, agreement)
    assert fig["sentences_per_s"] == 50.0 and fig["sentences_per_s_best"] == 100.0
    assert fig["speedup"] == 4.0 and fig["speedup_best"] == 2.0 and fig["speedup_vs_bucketed_torch_fp32"] == 2.0
    assert fig["accuracy_drop_points"] == 0.5
