"""Every Grafana panel and alert rule reads series that the workers, Triton or Prometheus export,
is valid PromQL (promtool), and the dashboards are well-formed and wired to the provisioned
datasource."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from channelpulse.infra.grafana.promql import metric_names, with_intervals
from channelpulse.infra.grafana.queries import (
    PROMETHEUS_METRIC_NAMES,
    PROVISIONING_DIR,
    TRITON_GPU_METRIC_NAMES,
    TRITON_METRIC_NAMES,
    alert_expressions,
    dashboard_queries,
    load_dashboards,
    panels,
    series_names,
)
from channelpulse.infra.stack.prometheus import RULES
from channelpulse.streams import metrics

DASHBOARDS = load_dashboards()


def worker_series() -> frozenset[str]:
    histograms = {family.name for family in metrics.REGISTRY.collect() if family.type == "histogram"}
    return series_names(metrics.METRIC_NAMES, histograms)


KNOWN = worker_series() | TRITON_METRIC_NAMES | TRITON_GPU_METRIC_NAMES | PROMETHEUS_METRIC_NAMES


def all_queries() -> list[tuple[str, str]]:
    """(where, expr) of every dashboard target and alert rule."""
    found = [(name, expr) for name, board in DASHBOARDS.items() for expr in dashboard_queries(board)]
    found += [(f"alert {alert}", expr) for alert, expr in alert_expressions(RULES).items()]
    return found


def test_there_are_dashboards_and_alerts() -> None:
    assert {"channelpulse-overview.json", "channelpulse-triton.json"} <= set(DASHBOARDS)
    assert len(all_queries()) > 20


def test_histograms_are_only_read_through_their_series() -> None:
    series = worker_series()
    assert "channelpulse_batch_size_bucket" in series
    assert "channelpulse_batch_size" not in series  # a histogram has no series of its bare name
    assert "channelpulse_events_in_total" in series


@pytest.mark.parametrize(("where", "expr"), all_queries())
def test_every_query_reads_known_series(where: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"{where}: no metric in {expr!r}"
    unknown = names - KNOWN
    assert not unknown, f"{where}: {sorted(unknown)} are exported by no worker, Triton or Prometheus"


def test_the_metric_list_names_every_registered_worker_metric() -> None:
    """METRIC_NAMES is what the dashboards are checked against: a metric added without it would escape."""
    registered = {f.name + ("_total" if f.type == "counter" else "") for f in metrics.REGISTRY.collect()}
    assert registered == metrics.METRIC_NAMES


def test_every_worker_metric_is_on_a_dashboard() -> None:
    used = {name for board in DASHBOARDS.values() for expr in dashboard_queries(board) for name in metric_names(expr)}
    histograms = {family.name for family in metrics.REGISTRY.collect() if family.type == "histogram"}
    for name in metrics.METRIC_NAMES:
        wanted = {name + "_bucket"} if name in histograms else {name}
        assert wanted & used, f"{name} is on no dashboard"


def test_the_triton_dashboard_shows_latency_and_batching() -> None:
    used = {name for expr in dashboard_queries(DASHBOARDS["channelpulse-triton.json"]) for name in metric_names(expr)}
    for name in (
        "nv_inference_request_success",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_inference_count",
        "nv_inference_exec_count",
    ):
        assert name in used


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    rules = [
        {"record": f"check:query_{i}", "expr": with_intervals(expr, "1m")} for i, (_, expr) in enumerate(all_queries())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    out = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules)} rules found" in out.stdout


def test_promtool_rejects_a_broken_query(tmp_path: Path) -> None:
    """The check above can fail: promtool refuses an unbalanced expression."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool (Debian package prometheus) not installed")
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": "sum(rate(a[1m])"}]}]}))
    out = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode != 0


def provisioned_datasource() -> dict[str, Any]:
    doc = yaml.safe_load((PROVISIONING_DIR / "datasources" / "prometheus.yml").read_text())
    (source,) = doc["datasources"]
    return dict(source)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_is_well_formed(name: str) -> None:
    board = DASHBOARDS[name]
    uid = provisioned_datasource()["uid"]
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    occupied: set[tuple[int, int]] = set()
    for panel in panels(board):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & occupied, f"{panel['title']!r} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel["id"]
        assert panel["datasource"]["uid"] == uid
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        assert all(t["datasource"]["uid"] == uid for t in panel["targets"])


def test_dashboard_uids_are_unique() -> None:
    uids = [board["uid"] for board in DASHBOARDS.values()]
    assert len(uids) == len(set(uids))


def test_datasource_is_the_default_prometheus() -> None:
    source = provisioned_datasource()
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"].startswith("http://")
