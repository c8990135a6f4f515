"""Secured Kafka: a broker whose clients must speak SASL_SSL (certificates made here, SCRAM users
created when its storage is formatted), a real `channelpulse worker` scoring and dead-lettering
through it, and a worker with wrong credentials or an untrusted certificate refused in one line.
No log line of the worker, the CLI or the broker holds the password. Also run against Kafka 3.9
(marker kafka39, the CLI and the end-to-end worker: kafka-python's SASL, and Faust's consumer group,
commits and table changelogs)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from pydantic import SecretStr

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka
from channelpulse.infra.stack.process import ServiceProcess, free_port
from channelpulse.kafka_security import kafka_python_options
from channelpulse.streams.kafka_io import committed_offsets, ensure_topics, publish, read_topic
from channelpulse.streams.sample import SampleStream
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import snapshot
from tests.integration.test_streaming import expected_topic, wait_until
from tests.tls import make_certificates

USER = "channelpulse-worker"
PASSWORD = f"pw-{secrets.token_hex(12)}"  # unique: any occurrence in a log is a leak
WRONG_PASSWORD = f"wrong-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def secure(stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Client settings for a second broker with a SASL_SSL listener; Triton is the test stack's (only
    the end-to-end test starts it: a refused worker never reaches it)."""
    stack = stack_settings
    folder = tmp_path_factory.mktemp("secure-kafka")
    certs = make_certificates(folder / "certs")
    broker = stack.model_copy(
        update={"state_dir": folder, "kafka_port": free_port(), "kafka_controller_port": free_port()}
    )
    listener = kafka.SaslSslListener(free_port(), certs.keystore, certs.keystore_password, {USER: PASSWORD})
    kafka.start(broker, listener)
    client = stack.model_copy(
        update={
            "kafka_bootstrap": f"{stack.bind_host}:{listener.port}",
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_sasl_username": USER,
            "kafka_sasl_password": SecretStr(PASSWORD),
            "kafka_ssl_cafile": certs.ca_pem,
            "app_id": "channelpulse-secure",
            "lake_dir": folder / "lake",
            "pseudonym_key": SecretStr(secrets.token_hex(16)),
        }
    )
    try:
        yield client
    finally:
        ServiceProcess("kafka", folder / "run").stop()
    assert PASSWORD not in (folder / "run" / "kafka.log").read_text(errors="replace")


def outputs(settings: Settings, topic: str) -> list[dict[str, object]]:
    """The records on ``topic`` once it stayed quiet for 3 s: what an assertion reads."""
    return [json.loads(r.value or b"{}") for r in read_topic(settings, topic, idle_timeout_s=3)]


def outputs_now(settings: Settings, topic: str) -> list[dict[str, object]]:
    """The records on ``topic`` up to its end offsets now, no idle wait: what a poll reads."""
    return [json.loads(r.value or b"{}") for r in snapshot(settings, topic)]


def end_offsets(settings: Settings, topic: str) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings))
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {(tp.topic, tp.partition): offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def run_worker(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "channelpulse", "worker"], env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"kafka_sasl_password": SecretStr(WRONG_PASSWORD)}, "SaslAuthenticationFailed"),
        (
            {"kafka_sasl_mechanism": "PLAIN", "kafka_sasl_password": SecretStr(WRONG_PASSWORD)},
            "SaslAuthenticationFailed",
        ),
        ({"kafka_ssl_cafile": None}, "certificate verify failed"),
    ],
    ids=["wrong-scram-password", "wrong-plain-password", "untrusted-certificate"],
)
def test_a_refused_worker_says_why_in_one_line_and_exits_non_zero(
    secure: Settings, change: dict[str, object], cause: str
) -> None:
    proc = run_worker(secure.model_copy(update=change))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    refusals = [line for line in output.splitlines() if "refusing to start" in line]
    assert len(refusals) == 1, output
    assert cause in refusals[0] and secure.bootstrap_servers in refusals[0]
    assert "Traceback" not in output
    assert WRONG_PASSWORD not in output and PASSWORD not in output


@pytest.mark.kafka39
def test_the_cli_publishes_and_tails_over_sasl_ssl_without_printing_the_password(
    secure: Settings, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    marker = secrets.token_hex(8)
    events.write_text(json.dumps({"user_id": "u1", "marker": marker}) + "\n")
    env = {**os.environ, **secure.to_env()}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "channelpulse", "-v", *args], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )

    published = cli("publish", "cli.secure", "--file", str(events))
    tailed = cli("tail", "cli.secure", "--from-beginning", "--idle", "3", "--max", "1")
    assert published.returncode == 0 and tailed.returncode == 0, published.stderr + tailed.stderr
    assert marker in tailed.stdout
    for proc in (published, tailed):
        assert PASSWORD not in proc.stdout + proc.stderr


@pytest.mark.kafka39
@pytest.mark.timeout(900)
def test_a_worker_scores_and_dead_letters_over_sasl_ssl(stack: Settings, secure: Settings) -> None:
    ensure_topics(secure)
    sample = SampleStream(secure, seed=5, malformed_share=0.1)
    catalog = sample.catalog_records()
    for topic in {r.topic for r in catalog}:
        publish(secure, topic, [(r.key, r.value) for r in catalog if r.topic == topic])
    records = list(sample.records(400))
    for topic in {r.topic for r in records}:
        publish(secure, topic, [(r.key, r.value) for r in records if r.topic == topic])
    valid = {r.event_id: expected_topic(secure, r) for r in records if r.valid}
    invalid = {r.value for r in records if not r.valid}
    assert valid and invalid

    out_topics = (secure.topic_sentiment, secure.topic_recommendations, secure.topic_anomalies)

    def scored(read: Callable[[Settings, str], list[dict[str, object]]] = outputs) -> dict[str, str]:
        return {str(o["event_id"]): topic for topic in out_topics for o in read(secure, topic)}

    worker = WorkerProcess(secure, name="secure-worker")
    worker.start()
    try:
        wait_until(lambda: valid.keys() <= scored(outputs_now).keys(), 600, "every valid event scored over SASL_SSL")
        letters = outputs(secure, secure.topic_deadletter)
        wait_until(
            lambda: invalid <= {base64.b64decode(str(d["raw"])) for d in outputs_now(secure, secure.topic_deadletter)},
            120, "every invalid event dead-lettered",
        )
    finally:
        code = worker.stop()
    seen = scored()
    assert all(seen[event_id] == topic for event_id, topic in valid.items())
    assert all(isinstance(d["error"], str) for d in letters)
    assert code == 0, worker.log_tail()
    log = worker.log_path.read_text(errors="replace")
    assert "[worker] consuming" in log
    assert PASSWORD not in log
    # the commit path: the group committed every input partition up to its end on the way out
    ends = {tp: end for topic in secure.input_topics for tp, end in end_offsets(secure, topic).items() if end}
    assert committed_offsets(secure, secure.app_id, ends) == ends
    # the tables wrote their changelogs (Faust created those topics on this broker)
    for table in ("user-state", "sensor-windows"):
        assert sum(end_offsets(secure, f"{secure.app_id}-{table}-changelog").values()) > 0, table
