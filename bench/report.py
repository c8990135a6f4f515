"""The bench's findings: ratios against the limits, the targets (met or not), the JSON file and the
printed summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channelpulse.bench.stats import ratio

THROUGHPUT_TARGETS = (
    ("sentiment", "triton_alone", 0.9),
    ("recommendation", "triton_alone", 0.5),
    ("sensors", "triton_alone", 0.5),
    ("deadletter", "bare_aiokafka_loop", 0.5),
)
"""(pipeline, limit, least drain capacity / limit) of issue 12: the limits are measured in the same run."""
MAX_P99_MS_AT_HALF = 250.0
P99_TARGET_PIPELINES = ("recommendation", "sensors", "deadletter")
"""The pipelines with a p99 target at half the maximum sustainable rate (sentiment's is reported, not a target)."""
MIN_MODEL_SPEEDUP = 3.0
MAX_ACCURACY_DROP_POINTS = 1.0


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def ratios(pipelines: dict[str, Any], limits: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Each pipeline's maximum sustainable rate divided by each of its limits."""
    out: dict[str, dict[str, float | None]] = {}
    for name, result in pipelines.items():
        pipeline_max = _get(result, "max", "events_per_s")
        out[name] = {
            f"vs_{limit}": ratio(pipeline_max, _get(measured, "events_per_s"))
            for limit, measured in limits.get(name, {}).items()
        }
    return out


def rate_at(result: dict[str, Any], label: str) -> dict[str, Any] | None:
    return next((r for r in result.get("rates", []) if r["label"] == label), None)


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with what was measured and whether it was met (None: not measured in this run)."""
    out = []
    r = report.get("ratios", {})

    def add(name: str, goal: str, measured: float | None, met: bool | None) -> None:
        out.append({"target": name, "goal": goal, "measured": measured, "met": met})

    if "pipelines" in report:
        for name, limit, least in THROUGHPUT_TARGETS:
            value = _get(r, name, f"vs_{limit}")
            met = None if value is None else value >= least
            add(f"{name} drain capacity / {limit.replace('_', ' ')}", f">= {least:g}", value, met)
    for name, result in report.get("pipelines", {}).items():
        if name not in P99_TARGET_PIPELINES:
            continue
        half = rate_at(result, "0.5x")
        p99 = _get(half, "latency", "p99_ms") if half else None
        met = None if p99 is None else p99 <= MAX_P99_MS_AT_HALF
        add(f"{name}: p99 at 0.5x max", f"<= {MAX_P99_MS_AT_HALF:g} ms", p99, met)
    speed = report.get("model_speed")
    if speed and "best" in speed:
        best = speed["best"]
        met = best["speedup"] >= MIN_MODEL_SPEEDUP and best["accuracy_drop_points"] <= MAX_ACCURACY_DROP_POINTS
        goal = f">= {MIN_MODEL_SPEEDUP:g}x at <= {MAX_ACCURACY_DROP_POINTS:g} point accuracy lost"
        add(f"CPU sentiment model speed-up ({best['runtime']})", goal, best["speedup"], met)
    return out


def write_json(report: dict[str, Any], out_dir: Path, name: str = "bench.json") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A plain-text summary: per pipeline the max rate, latency at each offered rate, the ratios."""
    lines = []
    hw = report.get("hardware", {})
    lines.append(f"hardware: {hw.get('cpu_model')} x{hw.get('usable_cores')} cores, gpus: {hw.get('gpus') or 'none'}, "
                 f"load {hw.get('load_average')}")
    for name, result in report.get("pipelines", {}).items():
        if "max" not in result:
            lines.append(f"{name:<15} {result.get('skipped') or result.get('failed')}")
            continue
        lines.append(f"{name:<15} max {_fmt(_get(result, 'max', 'events_per_s'))} events/s draining a backlog "
                     f"(mean batch {_fmt(_get(result, 'max', 'mean_batch'))}); "
                     f"max sustainable {_fmt(result.get('max_sustainable_per_s'))}/s")
        for rate in result.get("rates", []):
            lat = rate.get("latency") or {}
            lines.append(
                f"{'':<15} at {rate['label']:>6} = {rate['offered_per_s']:>8.1f}/s: out {_fmt(rate['output_per_s'])}/s"
                f"  p50 {_fmt(lat.get('p50_ms'))} p95 {_fmt(lat.get('p95_ms'))} p99 {_fmt(lat.get('p99_ms'))} ms"
                f"{'' if rate['sustained'] else '  (not sustained)'}"
            )
        for limit, measured in report.get("limits", {}).get(name, {}).items():
            if "events_per_s" in measured:
                rat = _get(report, "ratios", name, f"vs_{limit}")
                lines.append(f"{'':<15} limit {limit}: {_fmt(measured['events_per_s'])} events/s"
                             f" -> pipeline/limit {_fmt(rat, '.2f')}")
            else:
                lines.append(f"{'':<15} limit {limit}: {measured.get('skipped') or measured.get('failed')}")
    scaling = report.get("scaling") or {}
    for name, result in scaling.get("pipelines", {}).items():
        one, two = result.get("one_worker_events_per_s"), result.get("two_workers_events_per_s")
        lines.append(f"scaling {name}: 1 worker {_fmt(one)}/s, 2 workers {_fmt(two)}/s"
                     f" (x{_fmt(result.get('speedup'), '.2f')})")
    lag = report.get("lag_drain")
    if lag:
        lines.append(f"lag drain ({lag['pipeline']}, {lag['events']} events): worker up in {lag['worker_start_s']}s, "
                     f"lag 0 after {lag['lag_zero_s']}s, drain {_fmt(lag['drain_events_per_s'])}/s")
    speed = report.get("model_speed")
    if speed and "runtimes" in speed:
        lines.append(f"model speed: {speed['model_dir']} (version {speed['model_version']}), batches of "
                     f"{speed['batch']}, {speed['threads']} threads, isa {speed['isa']['label']}")
        for runtime, figures in speed["runtimes"].items():
            lines.append(f"model speed {runtime:<18} {figures['sentences_per_s']:>8.1f} sentences/s  "
                         f"x{figures['speedup']:.2f} (fastest calls x{figures['speedup_best']:.2f})  "
                         f"binary accuracy {figures['binary_accuracy']:.4f} "
                         f"({figures['accuracy_drop_points']:+.2f} points lost)")
    for target in report.get("targets", []):
        state = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        lines.append(f"target {target['target']} {target['goal']}: {_fmt(target['measured'], '.3g')} -> {state}")
    return lines
