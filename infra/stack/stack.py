"""`channelpulse stack up | status | down`: the whole local stack, in dependency order."""

from __future__ import annotations

import shutil
from typing import Any

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka, prometheus, triton
from channelpulse.infra.stack.process import ServiceProcess, StackError, port_is_open

SERVICES = ("kafka", "triton", "prometheus")


def check_prerequisites() -> list[str]:
    """Problems that would stop the stack from starting, in words (empty when all is there)."""
    problems = []
    if shutil.which("java") is None:
        problems.append("Java 17+ is missing (apt-get install openjdk-17-jre-headless)")
    if shutil.which("prometheus") is None:
        problems.append("the Prometheus server is missing (apt-get install prometheus)")
    return problems


def up(settings: Settings) -> dict[str, Any]:
    """Start Kafka, Triton and Prometheus (those not yet running) and wait until each is ready."""
    problems = check_prerequisites()
    if problems:
        raise StackError("cannot start the stack: " + "; ".join(problems))
    print(f"[stack] Kafka {settings.kafka_version} on {settings.bootstrap_servers} ...", flush=True)
    kafka.start(settings)
    print(f"[stack] Triton on grpc {settings.triton_grpc_url}, http {triton.http_url(settings)} ...", flush=True)
    triton.start(settings)
    print(f"[stack] Prometheus on {prometheus.url(settings)} ...", flush=True)
    prometheus.start(settings)
    return status(settings)


def down(settings: Settings) -> list[str]:
    """Stop every service this stack started (reverse order); returns the names that were running."""
    stopped = []
    for name in reversed(SERVICES):
        if ServiceProcess(name, settings.state_dir / "run").stop():
            stopped.append(name)
    return stopped


def status(settings: Settings) -> dict[str, Any]:
    """One JSON-able object: each service's address and whether it is up."""
    run = settings.state_dir / "run"
    return {
        "kafka": settings.bootstrap_servers,
        "kafka_up": port_is_open(settings.bind_host, settings.kafka_port),
        "kafka_pid": ServiceProcess("kafka", run).pid(),
        "triton_grpc": settings.triton_grpc_url,
        "triton_http": triton.http_url(settings),
        "triton_up": triton.live(settings),  # ready would turn false while one model reloads
        "triton_pid": ServiceProcess("triton", run).pid(),
        "prometheus": prometheus.url(settings),
        "prometheus_up": prometheus.ready(settings),
        "prometheus_pid": ServiceProcess("prometheus", run).pid(),
        "model_repository": str(settings.model_repository.resolve()),
        "up": all(
            (
                port_is_open(settings.bind_host, settings.kafka_port),
                triton.live(settings),
                prometheus.ready(settings),
            )
        ),
    }
