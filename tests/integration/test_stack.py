"""The foundation against the real services: Kafka round trip, Triton inference, Prometheus scraping."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka
from channelpulse.infra.stack import stack as local_stack
from channelpulse.infra.stack.process import ServiceProcess
from channelpulse.models import contract
from channelpulse.streams.kafka_io import ensure_topics, publish, read_topic
from tests.integration.drills import write_stand_in_model
from tests.integration.promql import wait_for_query


def test_status_reports_every_service_up(stack: Settings) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "channelpulse", "stack", "status", "--json"],
        env={**stack.to_env(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout)
    assert info["kafka"] == stack.bootstrap_servers
    assert info["triton_grpc"] == stack.triton_grpc_url
    assert info["prometheus"] == f"http://127.0.0.1:{stack.prometheus_port}"
    assert info["kafka_up"] and info["triton_up"] and info["prometheus_up"] and info["up"]


@pytest.mark.kafka39
def test_the_broker_runs_the_configured_kafka_release(stack: Settings) -> None:
    pid = ServiceProcess("kafka", stack.state_dir / "run").pid()
    command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert f"{kafka.jars_dir(stack)}/*" in command
    assert (kafka.jars_dir(stack) / f"kafka_2.13-{stack.kafka_version}.jar").is_file()


def test_a_record_round_trips_through_kafka(stack: Settings) -> None:
    ensure_topics(stack)
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    payloads = [(f"k{i}".encode(), f"value-{i}-\u00e9".encode()) for i in range(20)]
    assert publish(stack, topic, payloads) == 20
    got = [(r.key, r.value) for r in read_topic(stack, topic, idle_timeout_s=5)]
    assert sorted(got) == sorted(payloads)


def test_an_inference_round_trips_through_triton(stack: Settings) -> None:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    texts = np.array(
        [[b"An absolutely wonderful, delightful film."], [b"Awful. A total waste of money."]],
        dtype=np.object_,
    )
    tensor = grpcclient.InferInput(contract.SENTIMENT_IN_TEXT, [2, 1], "BYTES")
    tensor.set_data_from_numpy(texts)
    result = client.infer(contract.SENTIMENT_MODEL, [tensor])
    probs = result.as_numpy(contract.SENTIMENT_OUT_PROBS)
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    positive, negative = (
        contract.SENTIMENT_LABELS.index("positive"),
        contract.SENTIMENT_LABELS.index("negative"),
    )
    assert probs[0].argmax() == positive and probs[1].argmax() == negative


def test_prometheus_scrapes_triton(stack: Settings) -> None:
    value = wait_for_query(stack, 'up{job="triton"}', lambda v: v == 1.0)
    assert value == 1.0


def test_down_leaves_no_process(stack_settings: Settings, tmp_path: Path) -> None:
    """A second, private stack: up, then down, then none of its processes is left. Its Triton serves
    the drills' stand-in model: what is tested is the services' start and stop, not the models (the
    session stack loads the real ones; loading them again cost minutes)."""
    from channelpulse.infra.stack.process import free_port

    other = stack_settings.model_copy(
        update={
            "state_dir": stack_settings.state_dir.parent / "stack-down-test",
            "model_repository_source": write_stand_in_model(tmp_path / "repository"),
            "kafka_port": free_port(),
            "kafka_controller_port": free_port(),
            "triton_http_port": free_port(),
            "triton_grpc_port": free_port(),
            "triton_metrics_port": free_port(),
            "prometheus_port": free_port(),
        }
    )
    local_stack.up(other)
    pids = [ServiceProcess(n, other.state_dir / "run").pid() for n in local_stack.SERVICES]
    assert all(pids)
    assert sorted(local_stack.down(other)) == sorted(local_stack.SERVICES)
    from channelpulse.infra.stack.process import pid_alive

    assert not any(pid_alive(p) for p in pids if p)
    assert not local_stack.status(other)["up"]
