"""The click pipeline with the recommender learning from the stream against learning off, in the
same run: the same backlog drained by fresh workers with ``recommender_refresh_s = 0`` (off) and
with a refresh of the recommender every ``refresh_s`` seconds (on, streams/recommend_refresh.py),
in the order off, on, on, off, so that a load that drifts steadily during the phase (other work on
the machine) weighs on both sides alike.

The drains are sized to last about six refresh intervals at the drain rate measured earlier in the
run, so the learning worker runs refreshes (lake flush, fit in its niced child process, promotion
on Triton) while it drains. Every run starts on the version served before the phase (a refresh
may have promoted another one; the served version's item count sets the scoring cost), and that
version serves again after it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from channelpulse.bench import phases
from channelpulse.bench.workers import WorkerGroup
from channelpulse.models.contract import RECOMMENDER_MODEL
from channelpulse.models.registry import ModelRegistry, RegistryError
from channelpulse.streams.live_registry import registry_for

if TYPE_CHECKING:
    from channelpulse.bench.live import LiveBench

PIPELINE = "recommendation"
REFRESHES_PER_DRAIN = 6


async def learning_ratio(bench: LiveBench, refresh_s: float) -> dict[str, Any]:
    """Drain rates with learning off, on, on, off; ``ratio`` = mean(on) / mean(off)."""
    settings = bench.settings
    registry = registry_for(settings)
    served = registry.served_version(RECOMMENDER_MODEL)
    await asyncio.to_thread(bench.group.stop_all)
    spec, gen = bench.specs[PIPELINE], bench.generators[PIPELINE]
    collector = await bench.collector(PIPELINE)
    rate = bench.max_rates.get(PIPELINE, 500.0)
    n = int(min(200_000, max(bench.backlog_size(rate), rate * REFRESHES_PER_DRAIN * refresh_s)))
    out: dict[str, Any] = {"pipeline": PIPELINE, "refresh_s": refresh_s, "events": n, "runs": []}
    try:
        for label, interval in (("off", 0.0), ("on", refresh_s), ("on", refresh_s), ("off", 0.0)):
            # every run starts on the same served version (its item count sets the scoring cost)
            await asyncio.to_thread(_serve, registry, served)
            group = WorkerGroup(settings.model_copy(update={"recommender_refresh_s": interval}))
            try:
                await asyncio.to_thread(group.add)
                settled, _ = await phases.warm_up(collector, gen, 2 * bench.batch, bench.options.settle_timeout_s)
                drain = await phases.drain_backlog(group, gen, spec, n, bench.options.drain_timeout_s)
            finally:
                await asyncio.to_thread(group.stop_all)
            out["runs"].append({"learning": label, "settled": settled, **drain.to_dict()})
    finally:
        try:
            await asyncio.to_thread(_serve, registry, served)
        except RegistryError as exc:
            out["restore_error"] = str(exc)
    off = [r["events_per_s"] for r in out["runs"] if r["learning"] == "off" and r["events_per_s"]]
    on = [r["events_per_s"] for r in out["runs"] if r["learning"] == "on" and r["events_per_s"]]
    out["ratio"] = round((sum(on) / len(on)) / (sum(off) / len(off)), 3) if on and off else None
    return out


def _serve(registry: ModelRegistry, version: int | None) -> None:
    """Serve ``version`` again if a refresh promoted another one."""
    if version is not None and registry.served_version(RECOMMENDER_MODEL) != version:
        registry.promote(RECOMMENDER_MODEL, version, note="bench: learning phase, back to the version before it")
