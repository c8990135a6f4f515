"""`channelpulse bench`: start (or find) the stack, run the live measurements in a private namespace,
write bench.json and bench.png, print the summary."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from channelpulse.bench import report as reporting
from channelpulse.bench.hardware import describe_hardware, load_average
from channelpulse.bench.learning import learning_ratio
from channelpulse.bench.live import LiveBench
from channelpulse.bench.loadgen import producer_for
from channelpulse.bench.namespace import bench_settings, delete_run_topics, run_id
from channelpulse.bench.options import BenchOptions
from channelpulse.bench.plot import plot_report
from channelpulse.bench.stack_guard import running_stack
from channelpulse.bench.workers import WorkerGroup
from channelpulse.bench.workload import build_sources
from channelpulse.config import Settings
from channelpulse.streams.kafka_io import ensure_topics

log = logging.getLogger(__name__)


_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", flush=True)


async def section(
    out: dict[str, Any], key: str, what: Awaitable[dict[str, Any]], timings: dict[str, float], label: str
) -> bool:
    """``out[key] = await what``, its duration in ``timings[label]``; an error is recorded in
    ``out[key]`` (the run goes on). True on success."""
    started = time.monotonic()
    try:
        out[key] = await what
        return True
    except Exception as exc:  # one broken section must not lose the others' figures
        log.exception("bench section %s failed", label)
        out[key] = {"error": f"{type(exc).__name__}: {exc}"}
        return False
    finally:
        timings[label] = round(time.monotonic() - started, 1)


async def run_live(settings: Settings, options: BenchOptions) -> dict[str, Any]:
    """Every measurement on the running stack of ``settings``; the run's topics are deleted after."""
    run = run_id()
    bs = bench_settings(settings, run)
    await asyncio.to_thread(ensure_topics, bs)
    sources = build_sources(bs, options.pipelines)
    group = WorkerGroup(bs)
    producer = producer_for(bs)
    await producer.start()
    bench = LiveBench(bs, run, options, producer, group, sources)
    timings: dict[str, float] = {}
    out: dict[str, Any] = {
        "run_id": run,
        "pipelines": {},
        "limits": {},
        "section_seconds": timings,
    }
    try:
        say(f"run {run}: starting a worker (app id {bs.app_id})")
        out["worker_start_s"] = round(await asyncio.to_thread(group.add), 2)
        for name in options.pipelines:
            say(f"{name}: warm-up, backlog drain, fixed rates")
            await section(out["pipelines"], name, bench.pipeline(name), timings, f"pipeline {name}")
        measured = [n for n in options.pipelines if n in bench.max_rates]
        for name in measured:
            say(f"{name}: limits")
            await section(out["limits"], name, bench.limits(name), timings, f"limits {name}")
        scaled = options.scaling_pipelines(measured)
        if options.scaling and scaled:
            say(f"scaling: a second worker ({', '.join(scaled)})")
            await section(out, "scaling", bench.scaling(scaled), timings, "scaling")
            say(f"lag drain: {scaled[0]} burst with no worker running")
            await section(out, "lag_drain", bench.lag_drain(scaled[0]), timings, "lag drain")
        if options.learning_refresh_s > 0 and "recommendation" in options.pipelines:
            say(f"recommendation: learning off / on / on / off (refresh every {options.learning_refresh_s:g}s)")
            await section(out, "learning", learning_ratio(bench, options.learning_refresh_s), timings, "learning")
            say(f"recommendation learning on / off: {out['learning'].get('ratio')}")
    finally:
        await bench.close()
        await producer.stop()
        await asyncio.to_thread(group.stop_all)
        await asyncio.to_thread(delete_run_topics, settings, run)
    return out


def run_bench(settings: Settings, options: BenchOptions, command: str) -> dict[str, Any]:
    """The whole bench; returns the report (also written to ``options.out_dir``)."""
    started = time.monotonic()
    report: dict[str, Any] = {
        "command": command,
        "mode": "quick" if options.quick else "full",
        "started_at": datetime.now(timezone.utc).isoformat(),
        "hardware": describe_hardware(),
        "settings": {
            "batch_max_size": settings.batch_max_size,
            "batch_max_wait_ms": settings.batch_max_wait_ms,
            "partitions": settings.partitions,
            "duration_s": options.duration_s,
            "rates": [r.label for r in options.rates],
            "pipelines": options.pipelines,
        },
    }
    # SIGTERM ends the run like Ctrl-C: workers stopped, topics deleted, the stack it started stopped
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with running_stack(settings) as stack_info:
        s = stack_info.settings
        report["stack"] = {
            "started_here": stack_info.started_here,
            "kafka": s.bootstrap_servers,
            "triton": s.triton_grpc_url,
        }
        report.update(asyncio.run(run_live(s, options)))
    report["ratios"] = reporting.ratios(report["pipelines"], report["limits"])
    report["targets"] = reporting.targets(report)
    report["load_average_end"] = load_average()
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    finish(report, options.out_dir)
    return report


def finish(report: dict[str, Any], out_dir: Path) -> None:
    path = reporting.write_json(report, out_dir)
    plot = plot_report(report, out_dir / "bench.png")
    for line in reporting.summary_lines(report):
        print(line)
    say(f"wrote {path}" + (f" and {plot}" if plot else ""))
