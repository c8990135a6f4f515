"""docker-compose.yml and its Prometheus config agree with the Settings defaults and the alert rules.

Docker is not needed: the files are parsed and cross-checked (ports, addresses, topics, the model
repository, scrape jobs); the Prometheus config is also checked by promtool when installed.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from channelpulse.cli import build_parser
from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.grafana.queries import DASHBOARDS_DIR, PROVISIONING_DIR, alert_expressions
from channelpulse.infra.stack.prometheus import RULES, config_text
from channelpulse.streams.kafka_io import topic_specs

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS_CONFIG = REPO_ROOT / "infra" / "prometheus" / "prometheus-compose.yml"
CHANNELPULSE_SERVICES = sorted(
    n for n, s in SERVICES.items() if s["image"].split(":")[0] in {"channelpulse", "channelpulse-train"}
)


@pytest.fixture(autouse=True)
def defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() here means the class defaults, whatever CHANNELPULSE_* the shell has."""
    for var in [v for v in os.environ if v.startswith("CHANNELPULSE_")]:
        monkeypatch.delenv(var)


def service_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a ChannelPulse container of service ``name`` runs with."""
    for var, value in SERVICES[name]["environment"].items():
        monkeypatch.setenv(var, str(value))
    settings = Settings()
    for var in SERVICES[name]["environment"]:
        monkeypatch.delenv(var)
    return settings


def host_ports(service: dict[str, Any]) -> dict[int, int]:
    """container port -> host port of a service's published ports ("127.0.0.1:9092:9092")."""
    out = {}
    for spec in service.get("ports", []):
        *_, host, container = str(spec).split(":")
        out[int(container)] = int(host)
    return out


def flags(command: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in command if arg.startswith("--") and "=" in arg)


def volume_specs(service: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(source, target, mode) of each short-syntax volume "source:target[:mode]"; the source may
    hold a ${VAR:-default} with colons of its own."""
    for spec in service.get("volumes", []):
        parts = str(spec).split(":")
        mode = parts.pop() if parts[-1] in ("ro", "rw") else "rw"
        target = parts.pop()
        yield ":".join(parts), target, mode


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """mount target -> source (a named volume or a path relative to the repository)."""
    return {target: source for source, target, _ in volume_specs(service)}


def read_only(service: dict[str, Any], target: str) -> bool:
    return any(t == target and mode == "ro" for _, t, mode in volume_specs(service))


def listeners(value: str) -> dict[str, str]:
    """KAFKA_LISTENERS-style "NAME://host:port,..." -> {NAME: "host:port"}."""
    return dict(item.split("://", 1) for item in value.split(","))


def prometheus_config() -> dict[str, Any]:
    return dict(yaml.safe_load(PROMETHEUS_CONFIG.read_text()))


def scrape_job(name: str) -> dict[str, Any]:
    (job,) = [j for j in prometheus_config()["scrape_configs"] if j["job_name"] == name]
    return dict(job)


# --- Kafka -----------------------------------------------------------------------------------


def test_kafka_is_the_settings_version_in_kraft_mode() -> None:
    kafka = SERVICES["kafka"]
    env = kafka["environment"]
    assert kafka["image"] == f"apache/kafka:{Settings().kafka_version}"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert int(env["KAFKA_NUM_PARTITIONS"]) == Settings().partitions
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    # KRaft storage is formatted with CLUSTER_ID: a UUID as 22 characters of URL-safe base64
    cluster_id = str(env["CLUSTER_ID"])
    assert len(cluster_id) == 22 and len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_kafka_listens_on_the_default_ports() -> None:
    env = SERVICES["kafka"]["environment"]
    defaults = Settings()
    bound = {name: int(addr.rsplit(":", 1)[1]) for name, addr in listeners(env["KAFKA_LISTENERS"]).items()}
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert bound[controller] == defaults.kafka_controller_port
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith(f":{defaults.kafka_controller_port}")
    # host clients with the default settings reach the broker through the published port
    host_listener = [n for n, a in advertised.items() if a == defaults.bootstrap_servers]
    assert host_listener, f"no listener advertised as {defaults.bootstrap_servers}"
    assert host_ports(SERVICES["kafka"]) == {bound[host_listener[0]]: defaults.kafka_port}


@pytest.mark.parametrize("name", CHANNELPULSE_SERVICES)
def test_containers_reach_kafka_on_an_advertised_internal_listener(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = SERVICES["kafka"]["environment"]
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"]).values()
    bootstrap = service_settings(name, monkeypatch).bootstrap_servers
    assert bootstrap in advertised
    assert bootstrap.split(":")[0] in ("kafka", SERVICES["kafka"].get("hostname"))


# --- the ChannelPulse containers -------------------------------------------------------------


@pytest.mark.parametrize("name", CHANNELPULSE_SERVICES)
def test_environment_names_real_settings(name: str) -> None:
    fields = set(Settings.model_fields)
    for var in SERVICES[name]["environment"]:
        assert var.startswith("CHANNELPULSE_") and var.removeprefix("CHANNELPULSE_").lower() in fields, var


@pytest.mark.parametrize("name", CHANNELPULSE_SERVICES)
def test_topics_partitions_and_ports_are_the_defaults(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = service_settings(name, monkeypatch)
    defaults = Settings()
    assert topic_specs(settings) == topic_specs(defaults)
    assert settings.all_topics == defaults.all_topics
    assert settings.partitions == defaults.partitions
    assert settings.worker_metrics_port == defaults.worker_metrics_port
    assert settings.app_id == defaults.app_id


@pytest.mark.parametrize("name", CHANNELPULSE_SERVICES)
def test_containers_reach_triton_on_its_grpc_port(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    grpc_port = int(flags(SERVICES["triton"]["command"])["grpc-port"])
    assert service_settings(name, monkeypatch).triton_grpc_url == f"triton:{grpc_port}"


def test_topics_are_created_by_the_one_shot_init_with_the_workers_code() -> None:
    init = SERVICES["kafka-init"]
    script = " ".join(init["entrypoint"])
    assert "ensure_topics(Settings())" in script
    assert init["restart"] == "no"
    for name in ("worker", "retrainer"):
        assert SERVICES[name]["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize(("name", "command"), [("worker", "worker"), ("retrainer", "retrainer")])
def test_long_running_services_run_cli_commands(name: str, command: str) -> None:
    assert SERVICES[name]["command"] == [command]
    assert build_parser().parse_args([command]).command == command


def test_workers_serve_metrics_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = service_settings("worker", monkeypatch)
    assert settings.bind_host == "0.0.0.0"
    assert str(settings.worker_metrics_port) in [str(p) for p in SERVICES["worker"]["expose"]]


# --- Triton and the model repository ---------------------------------------------------------


def test_triton_ports_are_the_defaults() -> None:
    triton = SERVICES["triton"]
    defaults = Settings()
    opts = flags(triton["command"])
    ports = {
        int(opts["http-port"]): defaults.triton_http_port,
        int(opts["grpc-port"]): defaults.triton_grpc_port,
        int(opts["metrics-port"]): defaults.triton_metrics_port,
    }
    assert all(container == host for container, host in ports.items())
    assert host_ports(triton) == ports
    assert f":{opts['http-port']}/v2/health/ready" in " ".join(triton["healthcheck"]["test"])


def test_triton_runs_explicit_model_control_on_a_gpu() -> None:
    triton = SERVICES["triton"]
    opts = flags(triton["command"])
    assert triton["command"][0] == "tritonserver"
    assert opts["model-control-mode"] == "explicit" and opts["load-model"] == "*"
    (device,) = triton["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert triton["build"]["dockerfile"] == "infra/docker/triton.Dockerfile"


def test_model_repository_is_a_volume_seeded_from_the_shipped_one(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = SERVICES["model-repository-init"]
    triton = SERVICES["triton"]
    live = flags(triton["command"])["model-repository"]
    # the shipped repository, read-only, is what Settings().model_repository_source points at
    (source_target,) = [t for t, s in mounts(seed).items() if s.startswith(".")]
    assert (REPO_ROOT / mounts(seed)[source_target]).resolve() == Settings().model_repository_source.resolve()
    assert read_only(seed, source_target)
    assert source_target in " ".join(seed["entrypoint"]) and live in " ".join(seed["entrypoint"])
    # one named volume: seeded by the init, served by Triton, written by the retrainer
    volume = mounts(seed)[live]
    assert volume in COMPOSE["volumes"]
    assert mounts(triton)[live] == volume and mounts(SERVICES["retrainer"])[live] == volume
    assert not read_only(SERVICES["retrainer"], live)
    assert str(service_settings("retrainer", monkeypatch).model_repository) == live
    assert triton["depends_on"]["model-repository-init"]["condition"] == "service_completed_successfully"


# --- Prometheus and Grafana ------------------------------------------------------------------


def alert_jobs() -> set[str]:
    return {job for expr in alert_expressions(RULES).values() for job in re.findall(r'job\s*=\s*"([^"]+)"', expr)}


def test_prometheus_scrapes_every_job_the_alerts_use() -> None:
    jobs = {job["job_name"] for job in prometheus_config()["scrape_configs"]}
    assert alert_jobs() == {"channelpulse-workers", "triton"}
    assert alert_jobs() <= jobs
    # and the local stack's config names the same jobs
    local = {job["job_name"] for job in yaml.safe_load(config_text(Settings()))["scrape_configs"]}
    assert jobs == local


def test_prometheus_finds_every_worker_replica_by_dns() -> None:
    (sd,) = scrape_job("channelpulse-workers")["dns_sd_configs"]
    assert sd["names"] == ["worker"] and "worker" in SERVICES
    assert sd["type"] == "A" and sd["port"] == Settings().worker_metrics_port


def test_prometheus_scrapes_tritons_metrics_port() -> None:
    (static,) = scrape_job("triton")["static_configs"]
    assert static["targets"] == [f"triton:{flags(SERVICES['triton']['command'])['metrics-port']}"]
    assert static["targets"] == [f"triton:{Settings().triton_metrics_port}"]


def test_prometheus_container_mounts_its_config_and_the_alert_rules() -> None:
    prom = SERVICES["prometheus"]
    opts = flags(prom["command"])
    files = mounts(prom)
    assert (REPO_ROOT / files[opts["config.file"]]).resolve() == PROMETHEUS_CONFIG
    (rules_path,) = prometheus_config()["rule_files"]
    assert (REPO_ROOT / files[rules_path]).resolve() == RULES
    assert opts["web.listen-address"] == f":{Settings().prometheus_port}"
    assert host_ports(prom) == {Settings().prometheus_port: Settings().prometheus_port}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_accepts_the_compose_config(tmp_path: Path) -> None:
    config = prometheus_config()
    config["rule_files"] = [str(RULES)]  # the in-container path, pointed at the repository's file
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    out = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_grafana_is_provisioned_with_the_datasource_and_dashboards() -> None:
    grafana = SERVICES["grafana"]
    files = {target: (REPO_ROOT / source).resolve() for target, source in mounts(grafana).items() if "/" in source}
    assert files["/etc/grafana/provisioning"] == PROVISIONING_DIR
    provider = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "channelpulse.yml").read_text())
    (entry,) = provider["providers"]
    assert files[entry["options"]["path"]] == DASHBOARDS_DIR
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (DASHBOARDS_DIR / Path(home).name).exists() and home.startswith(entry["options"]["path"])
    datasource = yaml.safe_load((PROVISIONING_DIR / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == f"http://prometheus:{Settings().prometheus_port}"
    assert datasource["jsonData"]["timeInterval"] == prometheus_config()["global"]["scrape_interval"]
