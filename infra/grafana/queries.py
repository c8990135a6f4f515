"""The PromQL that the dashboards and alert rules run, and the series names they may use.

Worker metric names come from :data:`channelpulse.streams.metrics.METRIC_NAMES`; Triton's own are listed here
(Triton 2.51, the server of the pytriton wheel and of the ``24.10-py3`` image). Tests check every
query against these lists (unit) and against what a live worker and Triton really export
(integration).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

GRAFANA_DIR = Path(__file__).resolve().parent
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
PROVISIONING_DIR = GRAFANA_DIR / "provisioning"

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

TRITON_METRIC_NAMES = frozenset(
    {
        "nv_inference_request_success",
        "nv_inference_request_failure",
        "nv_inference_count",
        "nv_inference_exec_count",
        "nv_inference_request_duration_us",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_input_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_inference_compute_output_duration_us",
        "nv_inference_pending_request_count",
        "nv_cpu_utilization",
        "nv_cpu_memory_total_bytes",
        "nv_cpu_memory_used_bytes",
    }
)
"""Triton metrics exported on every machine once a model is loaded (per-model ones carry
``model`` and ``version`` labels)."""

TRITON_GPU_METRIC_NAMES = frozenset(
    {
        "nv_gpu_utilization",
        "nv_gpu_memory_total_bytes",
        "nv_gpu_memory_used_bytes",
        "nv_gpu_power_usage",
    }
)
"""Triton metrics exported only when the server sees a GPU (label ``gpu_uuid``)."""

PROMETHEUS_METRIC_NAMES = frozenset({"up"})
"""Series Prometheus writes itself for every scrape target (label ``job``)."""


def series_names(metric_names: Iterable[str], histograms: Iterable[str]) -> frozenset[str]:
    """The series an exporter's metrics produce: each name, except that a histogram exists only as
    its ``_bucket``/``_sum``/``_count`` series."""
    hist = set(histograms)
    out: set[str] = set()
    for name in metric_names:
        if name in hist:
            out.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
        else:
            out.add(name)
    return frozenset(out)


def load_dashboards(folder: Path = DASHBOARDS_DIR) -> dict[str, dict[str, Any]]:
    """Every dashboard JSON in ``folder``, by file name."""
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard: Mapping[str, Any]) -> list[str]:
    """The PromQL expression of every panel target."""
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]


def alert_expressions(rules_file: Path) -> dict[str, str]:
    """alert name -> PromQL expression of a Prometheus rules file."""
    doc = yaml.safe_load(rules_file.read_text())
    return {rule["alert"]: str(rule["expr"]) for group in doc["groups"] for rule in group["rules"] if "alert" in rule}
