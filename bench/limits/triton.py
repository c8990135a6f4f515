"""(b) Triton alone: the same batches sent with tritonclient's gRPC asyncio client (through the
workers' own TritonScorer, so the requests are byte for byte the workers'), with as many requests in
flight as the workers have agents feeding that model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from channelpulse.bench.batches import Batch, batch_events
from channelpulse.streams.scoring.triton import TritonScorer


def scorer_call(scorer: TritonScorer, pipeline: str) -> Any:
    return {"sentiment": scorer.sentiment, "recommendation": scorer.recommend, "sensors": scorer.anomaly}[pipeline]


async def measure_triton(
    url: str, pipeline: str, batches: list[Batch], concurrency: int, duration_s: float, timeout_s: float = 30.0,
    tls: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Requests per lane back to back for about ``duration_s`` seconds; events/s over all lanes."""
    if not batches:
        raise ValueError("no batches to score")
    scorer = TritonScorer(url, timeout_s, tls)
    call = scorer_call(scorer, pipeline)
    times: list[float] = []
    counter = {"next": 0, "events": 0}
    try:
        await call(*batches[0])

        async def lane(deadline: float) -> None:
            while time.perf_counter() < deadline:
                batch = batches[counter["next"] % len(batches)]
                counter["next"] += 1
                t0 = time.perf_counter()
                await call(*batch)
                times.append(time.perf_counter() - t0)
                counter["events"] += batch_events(batch)

        started = time.perf_counter()
        await asyncio.gather(*(lane(started + duration_s) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await scorer.close()
    return {
        "events_per_s": round(counter["events"] / elapsed, 2),
        "requests": len(times),
        "concurrency": concurrency,
        "batch_size": round(counter["events"] / max(1, len(times)), 1),
        "request_p50_ms": round(float(np.median(times)) * 1000, 2),
        "request_p99_ms": round(float(np.percentile(times, 99)) * 1000, 2),
    }
