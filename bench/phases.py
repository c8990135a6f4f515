"""The measurements on the live pipeline: warm-up, backlog drain (the maximum sustainable rate),
fixed offered rates (end-to-end latency) and the drain of a burst published while no worker ran."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

from channelpulse.bench.collector import OutputCollector, PhaseOutputs
from channelpulse.bench.loadgen import LoadGenerator, SendLog
from channelpulse.bench.stats import LatencySummary, steady_rate, summarize_latencies
from channelpulse.bench.workers import WorkerGroup
from channelpulse.bench.workload import PipelineSpec
from channelpulse.streams.worker_process import metric_sum

POLL_S = 0.1


@dataclass(frozen=True)
class Probe:
    """A first burst through a warm pipeline: a rough rate that sizes the backlog of the drain."""

    events: int
    seconds: float
    complete: bool
    first_output_s: float | None

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def probe(collector: OutputCollector, gen: LoadGenerator, n: int, timeout_s: float) -> Probe:
    """Send ``n`` events at once and time until the last output (ends after ``timeout_s``)."""
    await collector.skip_to_end()
    log = SendLog()
    outputs = PhaseOutputs(log)
    started = time.time()
    complete = await collector.during(outputs, _sent(gen, n, log), timeout_s)
    last = max(outputs.produced_at, default=time.time())
    first = min(outputs.produced_at, default=None)
    return Probe(n, max(1e-3, last - started), complete, None if first is None else first - started)


def prompt(result: Probe, steady_s: float = 3.0) -> bool:
    """The probe's first output came within ``steady_s`` (or 60% of the probe, for slow models),
    not after a stall."""
    return result.first_output_s is not None and result.first_output_s < max(steady_s, 0.6 * result.seconds)


async def warm_up(
    collector: OutputCollector, gen: LoadGenerator, n: int, timeout_s: float, steady_s: float = 3.0
) -> tuple[bool, float]:
    """Probe until two probes in a row complete with their first output within ``steady_s`` (or 60% of
    the probe, for slow models) rather than after a stall: the model is loaded and the consumer group
    settled (a fresh worker rebalances once its tables' changelog
    topics exist, which stalls it for a while). Returns (settled, seconds taken)."""
    started = time.monotonic()
    steady = 0
    while steady < 2:
        left = timeout_s - (time.monotonic() - started)
        if left <= 0:
            return False, time.monotonic() - started
        result = await probe(collector, gen, n, left)
        steady = steady + 1 if result.complete and prompt(result, steady_s) else 0
    return True, time.monotonic() - started


async def _sent(gen: LoadGenerator, n: int, log: SendLog) -> None:
    await gen.burst(n, log)


@dataclass(frozen=True)
class DrainResult:
    """A backlog of ``events`` published while the workers were paused, then drained."""

    events: int
    completed: int
    seconds: float
    events_per_s: float | None
    mean_batch: float | None
    workers: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _batch_totals(group: WorkerGroup, kinds: tuple[str, ...]) -> tuple[float, float]:
    samples = group.scrape()
    total = sum(metric_sum(samples, "channelpulse_batch_size_sum", pipeline=k) for k in kinds)
    count = sum(metric_sum(samples, "channelpulse_batch_size_count", pipeline=k) for k in kinds)
    return total, count


async def _poll_produced(
    group: WorkerGroup, topic: str, base: float, n: int, timeout_s: float
) -> list[tuple[float, float]]:
    """(time, outputs since ``base``) every POLL_S seconds until ``n`` outputs or ``timeout_s``."""
    start = time.monotonic()
    samples = [(start, 0.0)]
    while samples[-1][1] < n and time.monotonic() - start < timeout_s:
        await asyncio.sleep(POLL_S)
        done = await asyncio.to_thread(group.produced, topic)
        samples.append((time.monotonic(), max(samples[-1][1], done - base)))
    return samples


async def drain_backlog(
    group: WorkerGroup, gen: LoadGenerator, spec: PipelineSpec, n: int, timeout_s: float
) -> DrainResult:
    """The maximum sustainable rate: pause the workers, publish ``n`` events, resume them and take
    the output rate between 10% and 90% of the backlog (start-up and tail left out)."""
    base = await asyncio.to_thread(group.produced, spec.output_topic)
    batch_before = await asyncio.to_thread(_batch_totals, group, spec.kinds)
    with group.paused():
        await gen.burst(n)
    samples = await _poll_produced(group, spec.output_topic, base, n, timeout_s)
    batch_after = await asyncio.to_thread(_batch_totals, group, spec.kinds)
    batches = batch_after[1] - batch_before[1]
    return DrainResult(
        events=n,
        completed=int(samples[-1][1]),
        seconds=round(samples[-1][0] - samples[0][0], 3),
        events_per_s=steady_rate(samples, n),
        mean_batch=round((batch_after[0] - batch_before[0]) / batches, 1) if batches > 0 else None,
        workers=len(group),
    )


@dataclass(frozen=True)
class RateResult:
    """One fixed offered rate: what was sent, what came out, and the end-to-end latencies."""

    label: str
    offered_per_s: float
    sent_per_s: float | None
    events: int
    completed: int
    output_per_s: float | None
    latency: LatencySummary | None
    duration_s: float
    tail_s: float | None  # from the last send to the last output

    @property
    def sustained(self) -> bool:
        """The pipeline kept pace: the sender kept (within 5%) to the offered rate, every output
        arrived, and the last one within max(1 s, a fifth of the phase) of the last send (no backlog
        built up)."""
        return (
            self.completed >= self.events
            and (self.sent_per_s or 0.0) >= 0.95 * self.offered_per_s
            and self.tail_s is not None
            and self.tail_s <= max(1.0, 0.2 * self.duration_s)
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["latency"] = self.latency.to_dict() if self.latency else None
        out["sustained"] = self.sustained
        return out


async def at_rate(
    collector: OutputCollector, gen: LoadGenerator, label: str, rate: float, duration_s: float, timeout_s: float
) -> RateResult:
    """Offer ``rate`` events/s for ``duration_s``; latency = output's Kafka timestamp - send time."""
    await collector.skip_to_end()
    log = SendLog()
    outputs = PhaseOutputs(log)
    await collector.during(outputs, gen.at_rate(rate, duration_s, log), timeout_s)
    produced = sorted(outputs.produced_at)
    span = produced[-1] - produced[0] if len(produced) > 1 else 0.0
    return RateResult(
        label=label,
        offered_per_s=round(rate, 2),
        sent_per_s=round(r, 2) if (r := log.send_rate()) is not None else None,
        events=log.count,
        completed=outputs.matched,
        output_per_s=round((len(produced) - 1) / span, 2) if span > 0 else None,
        latency=summarize_latencies(outputs.latencies),
        duration_s=duration_s,
        tail_s=round(produced[-1] - log.last_s, 3) if produced and log.last_s is not None else None,
    )


async def burst_after_stop(
    group: WorkerGroup, gen: LoadGenerator, spec: PipelineSpec, n: int, timeout_s: float
) -> dict[str, Any]:
    """Consumer-lag drain: with no worker running, publish ``n`` events; start one worker and time
    until every event has its output (lag 0), also reading the worker's channelpulse_consumer_lag."""
    group.stop_all()
    await gen.burst(n)
    started = time.monotonic()
    startup_s = await asyncio.to_thread(group.add)
    samples = await _poll_produced(group, spec.output_topic, 0.0, n, timeout_s)
    first = next((t for t, done in samples if done > 0), None)
    lag_zero = await _wait_lag_zero(group, spec, started, timeout_s=max(12.0, timeout_s / 4))
    return {
        "events": n,
        "completed": int(samples[-1][1]),
        "worker_start_s": round(startup_s, 2),
        "first_output_s": round(first - started, 2) if first is not None else None,
        "lag_zero_s": round(samples[-1][0] - started, 2) if samples[-1][1] >= n else None,
        "drain_events_per_s": steady_rate([(t, d) for t, d in samples if t >= started], n),
        "lag_metric_zero_s": lag_zero,
    }


async def _wait_lag_zero(group: WorkerGroup, spec: PipelineSpec, started: float, timeout_s: float) -> float | None:
    """Seconds from ``started`` until the worker's lag gauge (refreshed every 5 s) reads 0 on every
    input partition it reports; None when it does not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        samples = await asyncio.to_thread(group.scrape)
        lags = [
            v for n, lab, v in samples if n == "channelpulse_consumer_lag" and lab.get("topic") in spec.input_topics
        ]
        if lags and sum(lags) == 0:
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.5)
    return None
