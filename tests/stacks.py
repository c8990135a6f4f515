"""Settings of a local stack started by the tests: every port free, state in a folder of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from channelpulse.config import Settings
from channelpulse.infra.stack.process import free_port


def on_free_ports(state_dir: Path, **updates: Any) -> Settings:
    """Settings whose Kafka, Triton, Prometheus and worker ports are free now, state under ``state_dir``;
    no recommender learning (it would promote new versions mid-test) unless ``updates`` turn it on."""
    ports = ("kafka_port", "kafka_controller_port", "triton_http_port", "triton_grpc_port", "triton_metrics_port",
             "prometheus_port", "worker_metrics_port", "worker_web_port")
    fields: dict[str, Any] = {"recommender_refresh_s": 0.0, **{p: free_port() for p in ports}, **updates}
    return Settings(state_dir=state_dir, **fields)
