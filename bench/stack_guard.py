"""The stack the bench drives: the configured one when it is up, else one started for the bench (on
the configured ports when they are free, otherwise on free ports in a private state folder) and
stopped again afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from channelpulse.infra.stack import stack
from channelpulse.infra.stack.process import free_port, port_is_open
from channelpulse.triton_tls import triton_grpc_options

PORT_FIELDS = (
    "kafka_port",
    "kafka_controller_port",
    "triton_http_port",
    "triton_grpc_port",
    "triton_metrics_port",
    "prometheus_port",
)


@dataclass(frozen=True)
class StackInfo:
    settings: Settings
    started_here: bool


def private_settings(settings: Settings) -> Settings:
    """``settings`` on free ports with a state folder of its own."""
    update: dict[str, object] = {name: free_port(settings.bind_host) for name in PORT_FIELDS}
    update["state_dir"] = settings.state_dir / "bench-stack"
    return settings.model_copy(update=update)


@contextlib.contextmanager
def running_stack(settings: Settings) -> Iterator[StackInfo]:
    """Yield the settings of a running stack; stop it on exit when it was started here."""
    if stack.status(settings)["up"]:
        yield StackInfo(settings, started_here=False)
        return
    taken = [name for name in PORT_FIELDS if port_is_open(settings.bind_host, getattr(settings, name))]
    target = private_settings(settings) if taken else settings
    if taken:
        print(f"[bench] the configured stack is not up and {', '.join(taken)} are taken: a private stack on free ports")
    try:
        stack.up(target)
        yield StackInfo(target, started_here=True)
    finally:
        stack.down(target)


def model_ready(settings: Settings, model: str) -> bool:
    """Whether Triton serves ``model`` (any version) right now."""
    client = grpcclient.InferenceServerClient(url=settings.triton_grpc_url, **triton_grpc_options(settings))
    try:
        return bool(client.is_model_ready(model))
    except Exception:  # unknown model or server gone: not ready either way
        return False
    finally:
        client.close()
