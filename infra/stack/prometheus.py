"""The Prometheus server (Debian package ``prometheus``) scraping the workers and Triton."""

from __future__ import annotations

import shutil
from pathlib import Path

from channelpulse.config import Settings
from channelpulse.infra.stack.process import ServiceProcess, StackError, http_ok, port_is_open

RULES = Path(__file__).resolve().parent.parent / "prometheus" / "alerts.yml"


def config_text(settings: Settings) -> str:
    host = settings.bind_host
    interval = f"{settings.prometheus_scrape_interval_s:g}s"
    return f"""# written by `channelpulse stack up`
global:
  scrape_interval: {interval}
  evaluation_interval: {interval}
rule_files:
  - {RULES}
scrape_configs:
  - job_name: channelpulse-workers
    file_sd_configs:
      - files: ['{settings.worker_targets_file}']
        refresh_interval: 2s
  - job_name: triton
    static_configs:
      - targets: ['{host}:{settings.triton_metrics_port}']
  - job_name: prometheus
    static_configs:
      - targets: ['{host}:{settings.prometheus_port}']
"""


def url(settings: Settings) -> str:
    return f"http://{settings.bind_host}:{settings.prometheus_port}"


def ready(settings: Settings) -> bool:
    return http_ok(f"{url(settings)}/-/ready")


def start(settings: Settings) -> ServiceProcess:
    proc = ServiceProcess("prometheus", settings.state_dir / "run")
    if proc.pid() is not None:
        return proc
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackError("the Prometheus server is missing: apt-get install prometheus")
    if port_is_open(settings.bind_host, settings.prometheus_port):
        raise StackError(
            f"port {settings.prometheus_port} is taken by another program; stop it or set "
            "CHANNELPULSE_PROMETHEUS_PORT"
        )
    home = settings.state_dir.resolve() / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    targets = settings.worker_targets_file
    if not targets.exists():
        targets.write_text("[]")
    cfg = home / "prometheus.yml"
    cfg.write_text(config_text(settings))
    proc.start(
        [
            binary,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address={settings.bind_host}:{settings.prometheus_port}",
            "--web.enable-lifecycle",
        ]
    )
    proc.wait_ready(lambda: ready(settings), timeout_s=60, what="Prometheus")
    return proc
