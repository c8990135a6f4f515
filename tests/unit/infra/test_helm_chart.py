"""The Helm chart (infra/helm/channelpulse) lints, renders, and agrees with the code.

`helm` is built from its Go module by scripts/build_helm.sh (once, cached; `make test` builds it
during bootstrap). The chart is rendered with `helm template` for several value sets, and the
manifests are checked against the code: the worker's environment is read back into `Settings`
(so every CHANNELPULSE_* name must be a real setting), the KEDA triggers must name the Faust app's
consumer group and the input topics, probes and scrape targets the ports the processes serve, the
alert rules and dashboards must be the repository's files. No cluster is involved.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from channelpulse.cli import build_parser
from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.grafana.queries import DASHBOARDS_DIR, alert_expressions
from channelpulse.infra.stack.process import free_port
from channelpulse.infra.stack.prometheus import RULES, config_text

CHART = REPO_ROOT / "infra" / "helm" / "channelpulse"
CI_VALUES = CHART / "ci" / "external-kafka-sasl-ssl-values.yaml"
BUILD_HELM = REPO_ROOT / "scripts" / "build_helm.sh"
RELEASE = "cp"

# The pod's mounted certificate files do not exist here: an app built from its settings gets the
# default trust store instead (what is checked of it is the group, topics and ports, not TLS).
NO_PEM_FILES = {"kafka_ssl_cafile": None, "kafka_ssl_certfile": None, "kafka_ssl_keyfile": None}

SECRET_PLACEHOLDER = "from-a-kubernetes-secret-0123456789"

# Value sets the consistency checks run on: the CI values (SASL_SSL with a private CA), plain
# TLS with a client certificate, and every setting the chart reads changed from its default.
VARIANTS: dict[str, list[str]] = {
    "sasl-ssl": [],
    "mtls": [
        "--set", "kafka.securityProtocol=SSL",
        "--set", "kafka.tls.clientSecret=channelpulse-kafka-client",
    ],
    "overridden": [
        "--set", "settings.app_id=pulse-eu",
        "--set", "settings.partitions=12",
        "--set", "settings.topic_clicks=eu.clicks",
        "--set", "settings.topic_sensors=eu.sensors",
        "--set", "settings.worker_web_port=7066",
        "--set", "settings.worker_metrics_port=7100",
        "--set", "settings.retrainer_metrics_port=7101",
        "--set", "settings.triton_grpc_port=9001",
        "--set", "settings.triton_http_port=9000",
        "--set", "settings.triton_metrics_port=9002",
        "--set", "settings.batch_max_size=32",
    ],
}


@pytest.fixture(autouse=True)
def defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() here means the class defaults, whatever CHANNELPULSE_* the shell has."""
    for var in [v for v in os.environ if v.startswith("CHANNELPULSE_")]:
        monkeypatch.delenv(var)


@pytest.fixture(scope="module")
def helm() -> str:
    """The helm binary, built now if the cache does not have it yet."""
    out = subprocess.run([str(BUILD_HELM)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        pytest.fail(f"scripts/build_helm.sh failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return out.stdout.strip().splitlines()[-1]


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm, *args], capture_output=True, text=True, check=False, timeout=120)


def render(helm: str, *args: str, values: Path | None = CI_VALUES) -> list[dict[str, Any]]:
    files = ["-f", str(values)] if values else []
    out = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", "streaming", *files, *args)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def render_error(helm: str, *args: str, values: Path | None = CI_VALUES) -> str:
    files = ["-f", str(values)] if values else []
    out = run_helm(helm, "template", RELEASE, str(CHART), *files, *args)
    assert out.returncode != 0, "rendering should have failed"
    return out.stderr


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def manifests(request: pytest.FixtureRequest, helm: str) -> list[dict[str, Any]]:
    return render(helm, *VARIANTS[request.param])


@pytest.fixture(scope="module")
def default_manifests(helm: str) -> list[dict[str, Any]]:
    return render(helm)


def one(docs: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (component is None or component_of(d) == component)]
    assert len(found) == 1, f"{len(found)} {kind} {component or ''}"
    return found[0]


def component_of(doc: dict[str, Any]) -> str | None:
    return doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(main)


def containers(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job", "StatefulSet"):
            spec = doc["spec"]["template"]["spec"]
            yield from spec.get("initContainers", [])
            yield from spec["containers"]


def port(cont: dict[str, Any], name: str) -> int:
    (number,) = [p["containerPort"] for p in cont["ports"] if p["name"] == name]
    return int(number)


def settings_of(cont: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a container runs with: its environment read by the real Settings class
    (values from Secrets are stand-ins)."""
    env = {e["name"]: e.get("value", SECRET_PLACEHOLDER) for e in cont["env"]}
    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return Settings()


def mounts(deployment: dict[str, Any]) -> dict[str, str]:
    """mount path -> the PVC claim (or volume name) mounted there, of the main container."""
    spec = deployment["spec"]["template"]["spec"]
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"] if "persistentVolumeClaim" in v else v["name"]
        for v in spec["volumes"]
    }
    return {m["mountPath"]: claims[m["name"]] for m in container(deployment)["volumeMounts"]}


def flags(args: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)


# --- lint and the values' checks ---------------------------------------------------------------


def test_helm_lint_passes(helm: str) -> None:
    out = run_helm(helm, "lint", "--strict", str(CHART), "-f", str(CI_VALUES))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "kafka.bootstrapServers="], "kafka.bootstrapServers is required"),
        (["--set", "pseudonymKey.secret="], "pseudonymKey.secret is required"),
        (["--set", "kafka.sasl.secret="], "needs kafka.sasl.secret"),
        (["--set", "kafka.securityProtocol=TLS"], "kafka.securityProtocol must be one of"),
        (["--set", "kafka.sasl.mechanism=GSSAPI"], "kafka.sasl.mechanism must be one of"),
        (["--set", "workers.terminationGracePeriodSeconds=30"], "must exceed settings.triton_timeout_s"),
    ],
)
def test_incomplete_values_are_refused_with_the_reason(helm: str, args: list[str], message: str) -> None:
    assert message in render_error(helm, *args)


def test_the_default_values_name_what_is_missing(helm: str) -> None:
    assert "is required" in render_error(helm, values=None)


# --- settings names and defaults -------------------------------------------------------------


def test_every_channelpulse_variable_is_a_setting(manifests: list[dict[str, Any]]) -> None:
    fields = set(Settings.model_fields)
    names = {e["name"] for c in containers(manifests) for e in c.get("env", [])}
    channelpulse = {n for n in names if n.startswith("CHANNELPULSE_")}
    assert "CHANNELPULSE_KAFKA_BOOTSTRAP" in channelpulse
    unknown = {n for n in channelpulse if n.removeprefix("CHANNELPULSE_").lower() not in fields}
    assert not unknown, f"not Settings fields: {sorted(unknown)}"
    # and nothing else in the manifests spells a CHANNELPULSE_ name that is not a setting
    text = yaml.safe_dump_all(manifests)
    spelled = set(re.findall(r"CHANNELPULSE_[A-Z0-9_]+", text))
    assert {n for n in spelled if n.removeprefix("CHANNELPULSE_").lower() not in fields} == set()


def test_values_settings_are_settings_with_their_code_defaults() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["settings"]
    production = {"replication_factor": 3, "min_insync_replicas": 2}  # docs/operations.md, Durability
    for key, value in values.items():
        assert key in Settings.model_fields, key
        expected = production.get(key, Settings.model_fields[key].default)
        assert value == expected, f"settings.{key}: {value!r} in values.yaml, {expected!r} in the code"


def test_secrets_come_from_secrets(default_manifests: list[dict[str, Any]]) -> None:
    for cont in containers(default_manifests):
        env = {e["name"]: e for e in cont.get("env", [])}
        for name in ("PSEUDONYM_KEY", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_USERNAME"):
            name = f"CHANNELPULSE_{name}"
            if name in env:
                assert "value" not in env[name] and "secretKeyRef" in env[name]["valueFrom"], name
    assert not [d for d in default_manifests if d["kind"] in ("Secret", "ConfigMap") and "password" in json.dumps(d)]


# --- workers -----------------------------------------------------------------------------------


def test_workers_run_the_worker_command(manifests: list[dict[str, Any]]) -> None:
    worker = container(one(manifests, "Deployment", "worker"))
    assert worker["args"] == ["worker"]
    assert build_parser().parse_args(worker["args"]).command == "worker"


def test_workers_reach_kafka_and_triton_through_the_chart(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(container(one(manifests, "Deployment", "worker")), monkeypatch)
    assert settings.bootstrap_servers == yaml.safe_load(CI_VALUES.read_text())["kafka"]["bootstrapServers"]
    service = one(manifests, "Service", "triton")
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    name = service["metadata"]["name"]
    assert settings.triton_grpc_url == f"{name}:{ports['grpc']}"
    assert settings.triton_http_url == f"http://{name}:{ports['http']}"
    assert settings.bind_host == "0.0.0.0"  # probes and Prometheus reach the pod's ports


def test_worker_probes_and_ports_are_the_faust_apps(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from channelpulse.streams.app import make_app

    worker = container(one(manifests, "Deployment", "worker"))
    settings = settings_of(worker, monkeypatch).model_copy(update={"state_dir": tmp_path, **NO_PEM_FILES})
    app, _ = make_app(settings, lambda: None)  # type: ignore[arg-type,return-value]  # no scoring here
    assert port(worker, "web") == app.conf.web_port == settings.worker_web_port
    assert port(worker, "metrics") == settings.worker_metrics_port
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/", "port": "web"}, probe


def test_the_worker_probe_path_answers_on_the_faust_web_server(
    default_manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The probes' GET on the web port, against the web server of the worker's own Faust app
    (started alone: no Kafka needed; on a free port rather than the pod's)."""
    from channelpulse.streams.app import make_app

    worker = container(one(default_manifests, "Deployment", "worker"))
    settings = settings_of(worker, monkeypatch).model_copy(
        update={"state_dir": tmp_path, "bind_host": "127.0.0.1", "worker_web_port": free_port(), **NO_PEM_FILES}
    )
    app, _ = make_app(settings, lambda: None)  # type: ignore[arg-type,return-value]
    path = worker["readinessProbe"]["httpGet"]["path"]

    async def probe() -> tuple[int, bytes]:
        app.web.init_server()
        await app.web.start()
        try:
            url = f"http://127.0.0.1:{settings.worker_web_port}{path}"
            with await asyncio.to_thread(urllib.request.urlopen, url, timeout=10) as response:
                return response.status, response.read()
        finally:
            await app.web.stop()

    status, body = asyncio.run(probe())
    assert status == 200 and json.loads(body) == {"status": "OK"}


def test_workers_have_time_to_commit_and_a_disruption_budget(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = one(manifests, "Deployment", "worker")
    settings = settings_of(container(deployment), monkeypatch)
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > settings.triton_timeout_s
    pdb = one(manifests, "PodDisruptionBudget", "worker")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert "replicas" not in deployment["spec"]  # KEDA owns the count; an upgrade must not reset it


def test_keda_scales_the_workers_on_the_lag_of_the_faust_group(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from channelpulse.streams.app import make_app

    deployment = one(manifests, "Deployment", "worker")
    settings = settings_of(container(deployment), monkeypatch).model_copy(
        update={"state_dir": tmp_path, **NO_PEM_FILES}
    )
    app, _ = make_app(settings, lambda: None)  # type: ignore[arg-type,return-value]
    scaled = one(manifests, "ScaledObject")["spec"]
    assert scaled["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["maxReplicaCount"] == settings.partitions  # more workers than partitions idle
    triggers = scaled["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert sorted(t["metadata"]["topic"] for t in triggers) == sorted(settings.input_topics)
    for trigger in triggers:
        meta = trigger["metadata"]
        assert meta["consumerGroup"] == app.conf.id == settings.app_id  # Faust's group id is the app id
        assert meta["bootstrapServers"] == settings.bootstrap_servers
        assert meta["offsetResetPolicy"] == app.conf.consumer_auto_offset_reset
        assert int(meta["lagThreshold"]) > 0


def test_the_chart_without_keda_sets_the_replicas(helm: str) -> None:
    docs = render(helm, "--set", "workers.autoscaling.enabled=false", "--set", "workers.replicas=3")
    assert not [d for d in docs if d["kind"] in ("ScaledObject", "TriggerAuthentication")]
    assert one(docs, "Deployment", "worker")["spec"]["replicas"] == 3


# --- Kafka security ------------------------------------------------------------------------------


def env_of(cont: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in cont["env"]}


def test_sasl_ssl_wires_secrets_files_and_the_keda_auth(default_manifests: list[dict[str, Any]]) -> None:
    values = yaml.safe_load(CI_VALUES.read_text())["kafka"]
    for component in ("worker", "retrainer"):
        deployment = one(default_manifests, "Deployment", component)
        env = env_of(container(deployment))
        assert env["CHANNELPULSE_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["CHANNELPULSE_KAFKA_SASL_MECHANISM"]["value"] == values["sasl"]["mechanism"]
        for var, key in (("USERNAME", "username"), ("PASSWORD", "password")):
            ref = env[f"CHANNELPULSE_KAFKA_SASL_{var}"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": values["sasl"]["secret"], "key": key}
        cafile = Path(env["CHANNELPULSE_KAFKA_SSL_CAFILE"]["value"])
        assert mounts(deployment)[str(cafile.parent)] == "kafka-ca"
        (volume,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "kafka-ca"]
        assert volume["secret"]["secretName"] == values["tls"]["caSecret"]
        assert cafile.name == "ca.crt"
        assert "CHANNELPULSE_KAFKA_SSL_CERTFILE" not in env
    triggers = one(default_manifests, "ScaledObject")["spec"]["triggers"]
    auth = one(default_manifests, "TriggerAuthentication")
    for trigger in triggers:
        assert trigger["metadata"]["sasl"] == "scram_sha512" and trigger["metadata"]["tls"] == "enable"
        assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    refs = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
    assert refs == {
        "username": (values["sasl"]["secret"], "username"),
        "password": (values["sasl"]["secret"], "password"),
        "ca": (values["tls"]["caSecret"], "ca.crt"),
    }


def test_mutual_tls_mounts_the_client_certificate(helm: str) -> None:
    docs = render(helm, *VARIANTS["mtls"])
    deployment = one(docs, "Deployment", "worker")
    env = env_of(container(deployment))
    assert "CHANNELPULSE_KAFKA_SASL_USERNAME" not in env
    for var in ("CHANNELPULSE_KAFKA_SSL_CERTFILE", "CHANNELPULSE_KAFKA_SSL_KEYFILE"):
        assert mounts(deployment)[str(Path(env[var]["value"]).parent)] == "kafka-client"
    (trigger, *_) = one(docs, "ScaledObject")["spec"]["triggers"]
    assert "sasl" not in trigger["metadata"] and trigger["metadata"]["tls"] == "enable"
    params = {r["parameter"] for r in one(docs, "TriggerAuthentication")["spec"]["secretTargetRef"]}
    assert params == {"ca", "cert", "key"}


def test_plaintext_kafka_has_no_security_wiring(helm: str) -> None:
    docs = render(helm, "--set", "kafka.securityProtocol=PLAINTEXT")
    env = env_of(container(one(docs, "Deployment", "worker")))
    assert env["CHANNELPULSE_KAFKA_SECURITY_PROTOCOL"]["value"] == "PLAINTEXT"
    assert not {n for n in env if n.startswith(("CHANNELPULSE_KAFKA_SASL", "CHANNELPULSE_KAFKA_SSL"))}
    assert not [d for d in docs if d["kind"] == "TriggerAuthentication"]


# --- Triton and the model repository -------------------------------------------------------------


def test_triton_serves_the_settings_ports_on_a_gpu(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(container(one(manifests, "Deployment", "worker")), monkeypatch)
    deployment = one(manifests, "Deployment", "triton")
    triton = container(deployment)
    opts = flags(triton["args"])
    assert triton["command"] == ["tritonserver"]
    assert opts["model-control-mode"] == "explicit" and opts["load-model"] == "*"
    assert int(opts["http-port"]) == port(triton, "http") == settings.triton_http_port
    assert int(opts["grpc-port"]) == port(triton, "grpc") == settings.triton_grpc_port
    assert int(opts["metrics-port"]) == port(triton, "metrics") == settings.triton_metrics_port
    assert triton["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert triton["resources"]["limits"]["nvidia.com/gpu"] >= 1
    assert deployment["spec"]["template"]["spec"]["nodeSelector"]
    assert deployment["spec"]["replicas"] == 1  # promotions reach one server through the Service


def test_one_model_repository_and_one_lake_for_triton_the_workers_and_the_retrainer(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    triton = one(manifests, "Deployment", "triton")
    model_claims = {mounts(triton)[flags(container(triton)["args"])["model-repository"]]}
    lake_claims = set()
    for component in ("worker", "retrainer"):
        deployment = one(manifests, "Deployment", component)
        settings = settings_of(container(deployment), monkeypatch)
        model_claims.add(mounts(deployment)[str(settings.model_repository)])
        lake_claims.add(mounts(deployment)[str(settings.lake_root)])
    # Triton serves the versions the retrainer writes; the retrainer reads the lake the workers write
    assert len(model_claims) == 1 and len(lake_claims) == 1
    claims = {d["metadata"]["name"]: d for d in manifests if d["kind"] == "PersistentVolumeClaim"}
    for claim in model_claims | lake_claims:
        assert "ReadWriteMany" in claims[claim]["spec"]["accessModes"]


def test_an_existing_claim_replaces_the_chart_volume(helm: str) -> None:
    docs = render(helm, "--set", "modelRepository.existingClaim=models-nfs")
    claims = [d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert claims == [f"{RELEASE}-channelpulse-lake"]
    assert "models-nfs" in mounts(one(docs, "Deployment", "triton")).values()


# --- the retrainer -------------------------------------------------------------------------------


def test_the_retrainer_runs_the_retrainer_command_on_a_gpu(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = one(manifests, "Deployment", "retrainer")
    retrainer = container(deployment)
    assert retrainer["command"][0] == "channelpulse"
    assert build_parser().parse_args(retrainer["command"][1:]).command == "retrainer"
    assert retrainer["resources"]["limits"]["nvidia.com/gpu"] >= 1
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    settings = settings_of(retrainer, monkeypatch)
    assert port(retrainer, "metrics") == settings.retrainer_metrics_port
    # CUDA torch: by default the Triton image (the worker image's torch is CPU-only)
    assert retrainer["image"] == container(one(manifests, "Deployment", "triton"))["image"]


# --- Prometheus and Grafana ------------------------------------------------------------------------


def local_scrape_jobs() -> dict[str, dict[str, Any]]:
    """The local stack's scrape jobs (infra/stack/prometheus.py), by name."""
    return {job["job_name"]: job for job in yaml.safe_load(config_text(Settings()))["scrape_configs"]}


def monitor_jobs(docs: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """job name -> (monitor, endpoint) of every PodMonitor / ServiceMonitor endpoint."""
    jobs = {}
    for doc in docs:
        if doc["kind"] not in ("PodMonitor", "ServiceMonitor"):
            continue
        for endpoint in doc["spec"].get("podMetricsEndpoints", doc["spec"].get("endpoints", [])):
            (job,) = [r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job"]
            jobs[job] = (doc, endpoint)
    return jobs


def test_prometheus_scrapes_what_the_alerts_and_the_local_stack_name(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = monitor_jobs(manifests)
    used = {job for expr in alert_expressions(RULES).values() for job in re.findall(r'job\s*=\s*"([^"]+)"', expr)}
    assert used <= set(jobs)
    local = local_scrape_jobs()
    settings = settings_of(container(one(manifests, "Deployment", "worker")), monkeypatch)
    targets = {
        "channelpulse-workers": ("worker", settings.worker_metrics_port),
        "channelpulse-retrainer": ("retrainer", settings.retrainer_metrics_port),
        "triton": ("triton", settings.triton_metrics_port),
    }
    assert set(jobs) == set(targets)
    for job, (component, number) in targets.items():
        monitor, endpoint = jobs[job]
        deployment = one(manifests, "Deployment", component)
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        assert port(container(deployment), endpoint["port"]) == number
        # the path the local Prometheus scrapes (its default when the config names none)
        expected_path = local.get(job, local["channelpulse-workers"]).get("metrics_path", "/metrics")
        assert endpoint["path"] == expected_path


def test_the_prometheus_rule_is_the_alert_rules_file(default_manifests: list[dict[str, Any]]) -> None:
    rule = one(default_manifests, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # the CI values' selector label
    assert (CHART / "files" / "alerts.yml").resolve() == RULES


def test_the_dashboards_configmap_holds_every_dashboard(default_manifests: list[dict[str, Any]]) -> None:
    (configmap,) = [d for d in default_manifests if d["kind"] == "ConfigMap" and "dashboards" in d["metadata"]["name"]]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    files = {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}
    assert len(files) >= 2
    assert {name: json.loads(text) for name, text in configmap["data"].items()} == files


def test_monitoring_can_be_turned_off(helm: str) -> None:
    off = ["podMonitor", "serviceMonitor", "prometheusRule", "grafanaDashboards"]
    docs = render(helm, *[a for name in off for a in ("--set", f"monitoring.{name}.enabled=false")])
    kinds = {d["kind"] for d in docs}
    assert not kinds & {"PodMonitor", "ServiceMonitor", "PrometheusRule", "ConfigMap"}
    assert {"Deployment", "Service", "ScaledObject", "PodDisruptionBudget"} <= kinds
