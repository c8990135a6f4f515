"""(a) The model alone: the same batches scored in this process by the code Triton's adapter wraps
(for the sentiment classifier: the same runtime, chosen the same way)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from channelpulse.bench.batches import Batch, batch_events

Runner = Callable[..., Any]


def load_runner(pipeline: str, version_dir: Path) -> Runner:
    """The in-process scoring call of ``pipeline`` for the version in ``version_dir``."""
    if pipeline == "sentiment":
        from channelpulse.models.sentiment.classifier import is_classifier_dir

        if is_classifier_dir(version_dir):
            return ServedSentiment(version_dir)
        from channelpulse.models.sentiment.model import SentimentModel

        model = SentimentModel.load(version_dir)
        return lambda texts: model.predict(texts, batch_size=len(texts))
    if pipeline == "recommendation":
        from channelpulse.models.recommend.recommender import Recommender

        return Recommender.load(version_dir).recommend
    if pipeline == "sensors":
        from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams

        detector = OnlineDetector(OnlineParams.from_meta(version_dir / "meta.json"))
        return lambda states, values, times: detector.run(detector.adopt(states), values, times)
    raise ValueError(f"pipeline {pipeline!r} has no model")


class ServedSentiment:
    """The fine-tuned classifier under the runtime Triton's adapter picks (models/sentiment/runtime.py:
    $CHANNELPULSE_SENTIMENT_RUNTIME, else auto), on CUDA when there is one; ``info`` says which."""

    def __init__(self, version_dir: Path) -> None:
        import torch

        from channelpulse.models.sentiment.runtime import load_runtime, runtime_info

        self.runtime = load_runtime(version_dir, None, "cuda" if torch.cuda.is_available() else "cpu")
        self.info = runtime_info(self.runtime)

    def __call__(self, texts: list[str]) -> Any:
        return self.runtime.predict(texts)


def measure_model(runner: Runner, batches: list[Batch], duration_s: float) -> dict[str, Any]:
    """Score batches in turn (after one untimed warm-up call) for about ``duration_s`` seconds."""
    if not batches:
        raise ValueError("no batches to score")
    runner(*batches[0])
    events = calls = 0
    times = []
    started = time.perf_counter()
    while calls == 0 or time.perf_counter() - started < duration_s:
        batch = batches[calls % len(batches)]
        t0 = time.perf_counter()
        runner(*batch)
        times.append(time.perf_counter() - t0)
        events += batch_events(batch)
        calls += 1
    elapsed = time.perf_counter() - started
    info = getattr(runner, "info", None)
    return {
        **({"runtime": info} if info else {}),
        "events_per_s": round(events / elapsed, 2),
        "batches": calls,
        "batch_size": round(events / calls, 1),
        "batch_p50_ms": round(float(np.median(times)) * 1000, 2),
    }
