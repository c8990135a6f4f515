"""The dashboards and alert rules against live exporters: a real worker on the test stack scores a
few events, then every metric name any dashboard query or alert expression reads must be exported
by the worker's /metrics or Triton's metrics endpoint (``up`` by Prometheus itself), every query
must run on the real Prometheus, and each query whose series exist must return data.

The worker gets its own topics and consumer group, so it shares nothing with other tests but the
stack. Events go only to topics whose Triton model is loaded (others may still be in the making).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from channelpulse.config import Settings
from channelpulse.infra.grafana.promql import metric_names, with_intervals
from channelpulse.infra.grafana.queries import (
    HISTOGRAM_SUFFIXES,
    PROMETHEUS_METRIC_NAMES,
    TRITON_GPU_METRIC_NAMES,
    alert_expressions,
    dashboard_queries,
    load_dashboards,
)
from channelpulse.infra.stack.prometheus import RULES
from channelpulse.models import contract
from channelpulse.schemas.events import EXAMPLES, EventKind
from channelpulse.streams.kafka_io import ensure_topics, publish
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.promql import wait_for_query

MODEL_TOPICS: dict[str, tuple[EventKind, ...]] = {
    contract.ANOMALY_MODEL: (EventKind.SENSOR,),
    contract.SENTIMENT_MODEL: (EventKind.REVIEW, EventKind.SOCIAL),
    contract.RECOMMENDER_MODEL: (EventKind.CLICK,),
}
"""The input kinds each model scores; a kind is published only when its model is loaded."""

SERIES_THE_EVENTS_CREATE = (
    "channelpulse_events_in_total",
    "channelpulse_events_out_total",
    "channelpulse_events_deadlettered_total",
    "channelpulse_batch_size_bucket",
    "channelpulse_triton_latency_seconds_bucket",
    "channelpulse_end_to_end_latency_seconds_bucket",
    "channelpulse_consumer_lag",
    "channelpulse_model_info",
)

_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)")
_TYPE = re.compile(r"^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)")


@dataclass(frozen=True)
class Exposition:
    """The metric names of one /metrics page: declared (by # TYPE) or with samples."""

    sampled: frozenset[str]
    declared: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Exposition:
        sampled: set[str] = set()
        declared: set[str] = set()
        for line in text.splitlines():
            if m := _TYPE.match(line):
                name, kind = m.groups()
                if kind == "histogram":
                    declared.update(name + s for s in HISTOGRAM_SUFFIXES)
                elif kind == "summary":
                    declared.update((name, name + "_sum", name + "_count"))
                else:
                    declared.add(name)
            elif m := _SAMPLE.match(line):
                sampled.add(m.group(1))
        return cls(frozenset(sampled), frozenset(declared | sampled))


@dataclass(frozen=True)
class Live:
    settings: Settings
    worker: Exposition
    triton: Exposition
    published: tuple[EventKind, ...]


def http_get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return str(resp.read().decode())


def model_ready(settings: Settings, model: str) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{settings.triton_http_port}/v2/models/{model}/ready", timeout=5
        ) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def isolated(stack: Settings) -> Settings:
    """The stack's settings with topics and consumer group of this module only."""
    run = uuid.uuid4().hex[:6]
    topics = {f: f"dash{run}.{getattr(stack, f)}" for f in Settings.model_fields if f.startswith("topic_")}
    return stack.model_copy(update={**topics, "app_id": f"dashboards-{run}"})


def events(kind: EventKind, n: int) -> list[tuple[bytes | None, bytes]]:
    """``n`` valid events of ``kind`` (the schema's example with a fresh id and time)."""
    out: list[tuple[bytes | None, bytes]] = []
    for i in range(n):
        payload = dict(EXAMPLES[kind])
        payload["event_id"] = f"dash-{kind.value}-{uuid.uuid4().hex[:10]}"
        payload["occurred_at"] = datetime.now(timezone.utc).isoformat()
        if kind is EventKind.SENSOR:
            payload["value"] = 70.0 + i % 3
        key = str(payload.get("sensor_id") or payload.get("user_id") or payload["event_id"]).encode()
        out.append((key, json.dumps(payload).encode()))
    return out


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def live(stack: Settings) -> Iterator[Live]:
    settings = isolated(stack)
    kinds = tuple(k for model, ks in MODEL_TOPICS.items() if model_ready(settings, model) for k in ks)
    assert kinds, "no ChannelPulse model is loaded on the test stack's Triton"
    topic_of = {
        EventKind.CLICK: settings.topic_clicks,
        EventKind.REVIEW: settings.topic_reviews,
        EventKind.SOCIAL: settings.topic_social,
        EventKind.SENSOR: settings.topic_sensors,
    }
    ensure_topics(settings)
    for kind in kinds:
        publish(settings, topic_of[kind], events(kind, 5))
    publish(settings, topic_of[kinds[0]], [(b"broken", b"{not json")])  # one dead letter
    n_published = 5 * len(kinds) + 1

    worker = WorkerProcess(settings, name="dashboards-worker")
    worker.start()
    try:
        wait_for(lambda: worker.metric("channelpulse_events_in_total") >= n_published, 180, "the events consumed")
        wait_for(lambda: worker.metric("channelpulse_events_out_total") >= 5 * len(kinds), 180, "the scored outputs")
        wait_for(
            lambda: "channelpulse_consumer_lag" in Exposition.parse(worker_text(worker)).sampled,
            30,
            "the consumer lag report (a 5 s timer)",
        )
        yield Live(
            settings=settings,
            worker=Exposition.parse(worker_text(worker)),
            triton=Exposition.parse(http_get(f"http://127.0.0.1:{settings.triton_metrics_port}/metrics")),
            published=kinds,
        )
    finally:
        worker.stop()


def worker_text(worker: WorkerProcess) -> str:
    s = worker.settings
    return http_get(f"http://{s.bind_host}:{s.worker_metrics_port}/metrics")


def used_names() -> dict[str, set[str]]:
    """metric name -> where it is used (dashboard file or alert)."""
    where: dict[str, set[str]] = {}
    for file, board in load_dashboards().items():
        for expr in dashboard_queries(board):
            for name in metric_names(expr):
                where.setdefault(name, set()).add(file)
    for alert, expr in alert_expressions(RULES).items():
        for name in metric_names(expr):
            where.setdefault(name, set()).add(f"alert {alert}")
    return where


def panel_queries() -> list[str]:
    return [expr for board in load_dashboards().values() for expr in dashboard_queries(board)]


def all_queries() -> list[str]:
    return panel_queries() + list(alert_expressions(RULES).values())


def prometheus_query(settings: Settings, expr: str) -> list[object]:
    """The result of an instant query; raises when Prometheus rejects the expression."""
    url = f"http://127.0.0.1:{settings.prometheus_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    body = json.loads(http_get(url))
    assert body["status"] == "success", (expr, body)
    return list(body["data"]["result"])


def test_every_dashboard_and_alert_metric_is_exported(live: Live) -> None:
    has_gpu = any(name.startswith("nv_gpu_") for name in live.triton.declared)
    exported = live.worker.declared | live.triton.declared
    missing = {
        name: sorted(where)
        for name, where in used_names().items()
        if name not in exported
        and name not in PROMETHEUS_METRIC_NAMES
        and (has_gpu or name not in TRITON_GPU_METRIC_NAMES)
    }
    assert not missing, f"used but exported by neither the worker nor Triton: {missing}"


def test_prometheus_writes_up_for_the_jobs_the_queries_name(live: Live) -> None:
    jobs = {job for expr in all_queries() for job in re.findall(r'job\s*=\s*"([^"]+)"', expr)}
    assert jobs == {"channelpulse-workers", "triton"}
    for job in sorted(jobs):
        assert wait_for_query(live.settings, f'min(up{{job="{job}"}})', lambda v: v == 1.0, 60) == 1.0, job


def test_gpu_panels_read_what_triton_exports_with_a_gpu(live: Live) -> None:
    if not any(name.startswith("nv_gpu_") for name in live.triton.declared):
        pytest.skip("Triton on this machine sees no GPU, so it exports no nv_gpu_* metrics")
    assert {n for n in used_names() if n.startswith("nv_gpu_")} <= live.triton.declared


def test_the_events_create_every_worker_series_the_dashboards_need(live: Live) -> None:
    missing = [name for name in SERIES_THE_EVENTS_CREATE if name not in live.worker.sampled]
    assert not missing, f"no samples after scoring {[k.value for k in live.published]}: {missing}"
    assert {"nv_inference_request_success", "nv_inference_count", "nv_inference_exec_count"} <= live.triton.sampled


def test_every_query_runs_on_prometheus(live: Live) -> None:
    for expr in all_queries():
        prometheus_query(live.settings, with_intervals(expr, "1m"))


def test_every_panel_over_live_series_shows_data(live: Live) -> None:
    """A panel whose series the worker and Triton export returns data on the real Prometheus
    (alert expressions are conditions and rightly return nothing while all is well)."""
    sampled = live.worker.sampled | live.triton.sampled | PROMETHEUS_METRIC_NAMES
    topic = {
        EventKind.SENSOR: live.settings.topic_sensors,
        EventKind.REVIEW: live.settings.topic_reviews,
        EventKind.SOCIAL: live.settings.topic_social,
        EventKind.CLICK: live.settings.topic_clicks,
    }[live.published[0]]
    # this worker's series have been scraped, and a few times more so rate() has two points
    assert wait_for_query(
        live.settings, f'sum(channelpulse_events_in_total{{topic="{topic}"}})', lambda v: v > 0, 60
    )
    time.sleep(5 * live.settings.prometheus_scrape_interval_s)
    checked = [expr for expr in panel_queries() if metric_names(expr) <= sampled]
    assert len(checked) > 20
    empty = [expr for expr in checked if not prometheus_query(live.settings, with_intervals(expr, "1m"))]
    assert not empty, f"panels over live series that show nothing: {empty}"
