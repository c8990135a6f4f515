"""Prometheus metrics of a worker, its /metrics endpoint and its registration with Prometheus.

Every metric name is listed in :data:`METRIC_NAMES`; the Grafana dashboards and alert rules in infra/
may only use these (a test checks it against the live worker).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_IN = Counter(
    "channelpulse_events_in", "Records consumed from an input topic.", ["topic"], registry=REGISTRY
)
EVENTS_OUT = Counter(
    "channelpulse_events_out", "Records produced (and acknowledged by Kafka) to an output topic.", ["topic"],
    registry=REGISTRY,
)
EVENTS_DEADLETTERED = Counter(
    "channelpulse_events_deadlettered", "Invalid input records sent to the dead-letter topic.", ["topic"],
    registry=REGISTRY,
)
EVENTS_SKIPPED = Counter(
    "channelpulse_events_skipped",
    "Input records delivered but not processed: already processed (duplicate), fetched past an offset that is in "
    "the log but never came (gap: the partition is read again from it), during that re-read (wait), "
    "or no longer assigned to this worker (not-assigned).",
    ["topic", "reason"],
    registry=REGISTRY,
)
SCORING_ERRORS = Counter(
    "channelpulse_scoring_errors",
    "Failed scoring requests (transient ones are retried, permanent ones split the batch).", ["model"],
    registry=REGISTRY,
)
SCORING_RETRIES = Counter(
    "channelpulse_scoring_retries",
    "Scoring requests retried after a transient failure, by reason (unavailable, deadline-exceeded, overloaded, "
    "cancelled, aborted, model-not-ready, connection).",
    ["model", "reason"],
    registry=REGISTRY,
)
SCORING_ISOLATED = Counter(
    "channelpulse_scoring_isolated",
    "Input records the model failed on permanently (found by splitting their batch) and dead-lettered.",
    ["topic"],
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "channelpulse_batch_size", "Events per micro-batch (one Triton request).", ["pipeline"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=REGISTRY,
)
TRITON_LATENCY = Histogram(
    "channelpulse_triton_latency_seconds", "Latency of one Triton inference request.", ["model"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=REGISTRY,
)
END_TO_END_LATENCY = Histogram(
    "channelpulse_end_to_end_latency_seconds", "From an event's occurred_at to its output being produced.",
    ["pipeline"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "channelpulse_consumer_lag", "Records behind the partition's high watermark.", ["topic", "partition"],
    registry=REGISTRY,
)
COMMIT_AGE = Gauge(
    "channelpulse_commit_age_seconds",
    "Seconds since the partition's committed offset last advanced, while it has lag (0 when caught up).",
    ["topic", "partition"],
    registry=REGISTRY,
)
COMMIT_ERRORS = Counter(
    "channelpulse_commit_errors",
    "Offset commits that failed and are retried (reason: rebalance, error).", ["reason"], registry=REGISTRY,
)
BUFFER_REREADS = Counter(
    "channelpulse_buffer_rereads",
    "Partitions read again because Faust emptied the agents' buffers with the flow active (the end of a table "
    "recovery, after the stream partitions were resumed): events fetched into them meanwhile are read again.",
    registry=REGISTRY,
)
AGENT_RESUMES = Counter(
    "channelpulse_agent_resumes",
    "Batches whose processing or producing raised: their partitions are read again from the last done offset.",
    ["topic"],
    registry=REGISTRY,
)
ANALYTICS_LATE = Counter(
    "channelpulse_analytics_late",
    "Observations that came after their analytics window had closed (not counted in any window).",
    registry=REGISTRY,
)
ANALYTICS_DUPLICATES = Counter(
    "channelpulse_analytics_duplicates",
    "Observations (and ticks) the analytics skipped as already counted: read again, or produced again by a "
    "replay of their input.",
    registry=REGISTRY,
)
ANALYTICS_EVICTED = Counter(
    "channelpulse_analytics_evicted",
    "Analytics windows closed early and surge baselines dropped to keep a partition's state within "
    "CHANNELPULSE_ANALYTICS_MAX_CHANNELS channels.",
    registry=REGISTRY,
)
CHANGELOG_RECORDS_READ = Counter(
    "channelpulse_changelog_records_read",
    "Table changelog records this worker read back into its local store: recovering a partition it was "
    "assigned (from the offset its store already holds) and keeping its standby partitions warm.",
    ["table"],
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Histogram(
    "channelpulse_event_loop_lag_seconds",
    "How much later than asked a 0.25 s sleep ended on an event loop (streams/loop_lag.py): how long the loop was "
    "held by a synchronous step or waited for a CPU. loop: main (agents, timers, producer) or consumer (Faust's "
    "consumer thread, where the group heartbeats are sent; a lag near the session timeout drops the worker).",
    ["loop"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
    registry=REGISTRY,
)
EVENT_LOOP_LAG_MAX = Gauge(
    "channelpulse_event_loop_lag_max_seconds",
    "The longest event-loop lag (see channelpulse_event_loop_lag_seconds) since the worker started.",
    ["loop"],
    registry=REGISTRY,
)
MODEL_INFO = Gauge(
    "channelpulse_model_info", "1 for the model version that scored the latest batch.", ["model", "version"],
    registry=REGISTRY,
)

METRIC_NAMES = frozenset(
    {
        "channelpulse_events_in_total",
        "channelpulse_events_out_total",
        "channelpulse_events_deadlettered_total",
        "channelpulse_events_skipped_total",
        "channelpulse_scoring_errors_total",
        "channelpulse_scoring_retries_total",
        "channelpulse_scoring_isolated_total",
        "channelpulse_commit_age_seconds",
        "channelpulse_commit_errors_total",
        "channelpulse_agent_resumes_total",
        "channelpulse_analytics_late_total",
        "channelpulse_analytics_duplicates_total",
        "channelpulse_analytics_evicted_total",
        "channelpulse_buffer_rereads_total",
        "channelpulse_changelog_records_read_total",
        "channelpulse_batch_size",
        "channelpulse_triton_latency_seconds",
        "channelpulse_end_to_end_latency_seconds",
        "channelpulse_consumer_lag",
        "channelpulse_event_loop_lag_seconds",
        "channelpulse_event_loop_lag_max_seconds",
        "channelpulse_model_info",
    }
)

_served_versions: dict[str, str] = {}


def set_model_version(model: str, version: str) -> None:
    """Record which version of ``model`` is serving (the previous version's series goes to 0)."""
    previous = _served_versions.get(model)
    if previous == version:
        return
    if previous is not None:
        MODEL_INFO.labels(model=model, version=previous).set(0)
    MODEL_INFO.labels(model=model, version=version).set(1)
    _served_versions[model] = version


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve /metrics of this process on host:port (a daemon thread)."""
    start_http_server(port, addr=host, registry=REGISTRY)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.with_suffix(".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _rewrite_targets(path: Path, add: str | None, remove: str | None) -> None:
    with _locked(path):
        try:
            groups = json.loads(path.read_text())
        except (OSError, ValueError):
            groups = []
        groups = [g for g in groups if remove is None or remove not in g.get("targets", [])]
        if add is not None:
            groups.append({"targets": [add], "labels": {"instance_name": f"{socket.gethostname()}:{os.getpid()}"}})
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups))
        tmp.replace(path)


def register_target(targets_file: Path, address: str) -> None:
    """Add this worker's metrics address to Prometheus' file-based discovery."""
    _rewrite_targets(targets_file, add=address, remove=address)


def unregister_target(targets_file: Path, address: str) -> None:
    """Remove this worker's metrics address (on clean shutdown)."""
    _rewrite_targets(targets_file, add=None, remove=address)

DRIFT_P_VALUE = Gauge(
    "channelpulse_drift_p_value", "Family-wise p-value of the latest drift window.", ["model"], registry=REGISTRY
)
DRIFT_WINDOWS = Counter(
    "channelpulse_drift_windows", "Completed drift windows.", ["model", "drifted"], registry=REGISTRY
)
RETRAIN_REQUESTS = Counter(
    "channelpulse_retrain_requests",
    "Retrain requests this worker's drift monitor made, by trigger (new episode, reminder, escalation).",
    ["model", "trigger"],
    registry=REGISTRY,
)
RETRAIN_REQUESTS_DROPPED = Counter(
    "channelpulse_retrain_requests_dropped",
    "Retrain requests the retrainer dropped: stale_version (measured against a version no longer served), "
    "before_last_retrain, superseded (by a newer request), rows_deadline (labelled rows never came).",
    ["model", "reason"],
    registry=REGISTRY,
)
METRIC_NAMES = METRIC_NAMES | {
    "channelpulse_drift_p_value",
    "channelpulse_drift_windows_total",
    "channelpulse_retrain_requests_total",
    "channelpulse_retrain_requests_dropped_total",
}
