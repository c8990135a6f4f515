"""The PNG of a bench run: per pipeline, end-to-end latency against throughput at each offered rate,
with the maximum sustainable rate and the limits as vertical lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LIMIT_STYLES = {
    "model_alone": ("tab:green", "model alone"),
    "triton_alone": ("tab:purple", "Triton alone"),
    "bare_aiokafka_loop": ("tab:brown", "bare aiokafka loop"),
}


def plot_report(report: dict[str, Any], path: Path) -> Path | None:
    """Draw the pipelines that have measurements; returns the path, or None when there is nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    measured = {n: r for n, r in report.get("pipelines", {}).items() if r.get("rates") or "max" in r}
    if not measured:
        return None
    cols = 2 if len(measured) > 1 else 1
    rows = (len(measured) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax, (name, result) in zip(axes.flat, measured.items(), strict=False):
        tried = [*result.get("sustainable_search", []), *result.get("rates", [])]
        points = sorted(
            (r for r in tried if r.get("latency") and r.get("output_per_s")), key=lambda r: r["output_per_s"]
        )
        xs = [r["output_per_s"] for r in points]
        for key, style, label in (("p50_ms", "o--", "p50"), ("p99_ms", "s-", "p99")):
            ax.plot(xs, [r["latency"][key] for r in points], style, color="tab:blue", label=f"pipeline {label}")
        for r in points:
            ax.annotate(r["label"], (r["output_per_s"], r["latency"]["p99_ms"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
        top = (result.get("max") or {}).get("events_per_s")
        if top:
            ax.axvline(top, color="tab:blue", linestyle=":", label=f"pipeline max {top:.0f}/s")
        for limit, figures in report.get("limits", {}).get(name, {}).items():
            rate = figures.get("events_per_s")
            if rate:
                color, label = LIMIT_STYLES.get(limit, ("gray", limit))
                ax.axvline(rate, color=color, linestyle="-.", label=f"{label} {rate:.0f}/s")
        ax.axhline(250, color="tab:red", linewidth=0.8, alpha=0.6, label="250 ms")
        ax.set_yscale("log")
        plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlim(left=0)
        ax.set_title(name)
        ax.set_xlabel("throughput (events/s)")
        ax.set_ylabel("end-to-end latency (ms)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(measured) :]:
        ax.set_visible(False)
    hw = report.get("hardware", {})
    fig.suptitle(f"channelpulse bench ({report.get('mode')}): {hw.get('cpu_model')}, {hw.get('usable_cores')} cores, "
                 f"batch {report.get('settings', {}).get('batch_max_size')}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
