"""The measurements that need the running stack: each pipeline through real workers, its limits on
the same batches, one worker against two, and the drain of a burst."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from channelpulse.bench import phases
from channelpulse.bench.batches import scoring_batches
from channelpulse.bench.collector import OutputCollector
from channelpulse.bench.limits import latest_version_dir
from channelpulse.bench.limits.kafka import measure_bare_loop
from channelpulse.bench.limits.model import load_runner, measure_model
from channelpulse.bench.limits.triton import measure_triton
from channelpulse.bench.loadgen import LoadGenerator
from channelpulse.bench.namespace import topic_prefix
from channelpulse.bench.options import BenchOptions
from channelpulse.bench.stack_guard import model_ready
from channelpulse.bench.workers import WorkerGroup
from channelpulse.bench.workload import MalformedSource, PipelineSpec, Source, TemplateSource, pipeline_specs
from channelpulse.config import Settings
from channelpulse.streams.worker_process import metric_sum
from channelpulse.triton_tls import triton_grpc_options

log = logging.getLogger(__name__)

LIMIT_BATCHES = 64
SEARCH_STEPS = 4


class LiveBench:
    """One run's workers, producer and sources, in a bench namespace (see channelpulse.bench.namespace)."""

    def __init__(
        self,
        settings: Settings,
        run: str,
        options: BenchOptions,
        producer: AIOKafkaProducer,
        group: WorkerGroup,
        sources: dict[str, Source],
    ) -> None:
        self.settings = settings
        self.run = run
        self.options = options
        self.producer = producer
        self.group = group
        self.sources = sources
        self.specs = pipeline_specs(settings)
        self.generators = {name: LoadGenerator(producer, src, name) for name, src in sources.items()}
        self.collectors: dict[str, OutputCollector] = {}
        self.max_rates: dict[str, float] = {}

    @property
    def batch(self) -> int:
        return self.settings.batch_max_size

    async def collector(self, name: str) -> OutputCollector:
        if name not in self.collectors:
            topic = self.specs[name].output_topic
            collector = OutputCollector(self.settings, topic)
            await collector.start(await self.producer.partitions_for(topic))
            self.collectors[name] = collector
        return self.collectors[name]

    async def close(self) -> None:
        for collector in self.collectors.values():
            await collector.stop()

    def backlog_size(self, events_per_s: float) -> int:
        """Events that keep the workers busy for about ``duration_s`` at ``events_per_s``."""
        floor = (2 if self.options.quick else 4) * self.batch
        return int(min(200_000, max(floor, events_per_s * self.options.duration_s)))

    # --- one pipeline through the workers ----------------------------------------------------
    async def pipeline(self, name: str) -> dict[str, Any]:
        spec = self.specs[name]
        if spec.model is not None and not model_ready(self.settings, spec.model):
            return {"skipped": f"model {spec.model!r} is not ready on Triton {self.settings.triton_grpc_url}"}
        collector = await self.collector(name)
        gen = self.generators[name]
        settle = self.options.settle_timeout_s
        settled, warm_s = await phases.warm_up(collector, gen, 2 * self.batch, settle)
        if not settled:
            return {"failed": f"no two prompt warm-up probes in a row within {settle:.0f}s", "warmup_s": warm_s}
        estimate = await phases.probe(collector, gen, 8 * self.batch, settle)
        drain = await phases.drain_backlog(
            self.group, gen, spec, self.backlog_size(estimate.events_per_s), self.options.drain_timeout_s
        )
        result: dict[str, Any] = {
            "input_topics": list(spec.input_topics),
            "output_topic": spec.output_topic,
            "warmup_s": round(warm_s, 2),
            "probe_events_per_s": round(estimate.events_per_s, 1),
            "max": drain.to_dict(),
            "rates": [],
        }
        if drain.events_per_s is None:
            result["failed"] = "the backlog did not drain in time"
            return result
        self.max_rates[name] = drain.events_per_s
        sustainable, search = await self.sustainable_rate(collector, gen, drain.events_per_s)
        result["sustainable_search"] = search
        result["max_sustainable_per_s"] = sustainable
        for spec_rate in self.options.rates:
            rate = spec_rate.resolve(sustainable or drain.events_per_s)
            if rate is None:
                continue
            measured = await phases.at_rate(collector, gen, spec_rate.label, rate, *self.rate_phase)
            result["rates"].append(measured.to_dict())
        return result

    @property
    def rate_phase(self) -> tuple[float, float]:
        """(duration, time allowed for the outputs after the last send) of a fixed-rate phase."""
        return self.options.duration_s, max(15.0, 2 * self.options.duration_s)

    async def sustainable_rate(
        self, collector: OutputCollector, gen: LoadGenerator, capacity: float
    ) -> tuple[float | None, list[dict[str, Any]]]:
        """The highest offered rate the pipeline keeps pace with: the drain capacity, else 0.75 of the
        previous try (at most ``SEARCH_STEPS`` tries; none in a quick run, where the capacity stands)."""
        if self.options.quick:
            return None, []
        tries = []
        rate = capacity
        for _ in range(SEARCH_STEPS):
            measured = await phases.at_rate(collector, gen, f"{rate:.0f}/s", rate, *self.rate_phase)
            tries.append(measured.to_dict())
            if measured.sustained:
                return round(rate, 1), tries
            rate *= 0.75
        return None, tries

    # --- the limits on the same batches ------------------------------------------------------
    async def limits(self, name: str) -> dict[str, Any]:
        spec = self.specs[name]
        if spec.model is None:
            return {"bare_aiokafka_loop": await self.bare_loop(name)}
        source = self.sources[name]
        assert isinstance(source, TemplateSource)
        batches = scoring_batches(name, source.bodies[: LIMIT_BATCHES * self.batch], self.settings)
        out: dict[str, Any] = {}
        version_dir = latest_version_dir(self.settings.model_repository, spec.model)
        if version_dir is None:
            out["model_alone"] = {"skipped": f"no version of {spec.model} in {self.settings.model_repository}"}
        else:
            runner = await asyncio.to_thread(load_runner, name, version_dir)
            measured = await asyncio.to_thread(measure_model, runner, batches, self.options.limit_duration_s)
            out["model_alone"] = {"version_dir": str(version_dir), **measured}
        # one request in flight per agent feeding the model, per worker (like the workers)
        concurrency = len(spec.input_topics) * max(1, len(self.group))
        out["triton_alone"] = await measure_triton(
            self.settings.triton_grpc_url, name, batches, concurrency, self.options.limit_duration_s,
            tls=triton_grpc_options(self.settings),
        )
        return out

    async def bare_loop(self, name: str) -> dict[str, Any]:
        spec = self.specs[name]
        prefix = topic_prefix(self.run)
        n = self.backlog_size(self.max_rates.get(name, 1000.0) * 2)
        source = MalformedSource(spec.input_topics[0], self.settings.max_event_bytes, seed=11)
        return await measure_bare_loop(
            self.settings, source, n, f"{prefix}bare-in", f"{prefix}bare-out", self.options.drain_timeout_s
        )

    # --- scaling -----------------------------------------------------------------------------
    async def scaling(self, names: list[str]) -> dict[str, Any]:
        """One worker against two on ``settings.partitions`` partitions (backlog drain rates)."""
        startup = await asyncio.to_thread(self.group.add)
        out: dict[str, Any] = {"second_worker_start_s": round(startup, 2), "pipelines": {}}
        settled = time.monotonic()
        if not await self.settle("deadletter" if "deadletter" in names else names[0]):
            timeout = self.options.settle_timeout_s
            out["failed"] = f"after the rebalance, not both workers consumed a probe within {timeout:.0f}s"
            return out
        out["rebalance_s"] = round(time.monotonic() - settled, 2)
        for name in names:
            one = self.max_rates[name]
            drain = await phases.drain_backlog(
                self.group, self.generators[name], self.specs[name], self.backlog_size(2 * one),
                self.options.drain_timeout_s,
            )
            two = drain.events_per_s
            out["pipelines"][name] = {
                "one_worker_events_per_s": round(one, 1),
                "two_workers_events_per_s": round(two, 1) if two else None,
                "speedup": round(two / one, 2) if two else None,
                "two_workers": drain.to_dict(),
            }
        return out

    async def settle(self, name: str) -> bool:
        """After a rebalance: probe until two probes in a row are prompt and every worker consumed part
        of each (each worker got partitions and finished recovering its tables)."""
        spec = self.specs[name]
        deadline = time.monotonic() + self.options.settle_timeout_s
        good = 0
        while good < 2 and time.monotonic() < deadline:
            before = [self._consumed(w.scrape(), spec) for w in self.group.workers]
            left = max(1.0, deadline - time.monotonic())
            result = await phases.probe(await self.collector(name), self.generators[name], 4 * self.batch, left)
            after = [self._consumed(w.scrape(), spec) for w in self.group.workers]
            prompt = result.complete and phases.prompt(result)
            everyone = all(a > b for a, b in zip(after, before, strict=True))
            good = good + 1 if prompt and everyone else 0
        return good >= 2

    @staticmethod
    def _consumed(samples: list[Any], spec: PipelineSpec) -> float:
        return sum(metric_sum(samples, "channelpulse_events_in_total", topic=t) for t in spec.input_topics)

    async def lag_drain(self, name: str) -> dict[str, Any]:
        """Stop every worker, publish a burst (about ``duration_s`` of work), start one worker. Its time
        includes the new worker's start and table recovery (the whole changelogs for a worker with a fresh
        table folder), so the phase may take the start-up allowance on top of the drain's."""
        n = self.backlog_size(self.max_rates[name])
        timeout_s = self.options.drain_timeout_s + self.options.settle_timeout_s
        result = await phases.burst_after_stop(self.group, self.generators[name], self.specs[name], n, timeout_s)
        return {"pipeline": name, **result}
