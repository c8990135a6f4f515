"""A `channelpulse worker` subprocess on its own metrics and web ports, with its Prometheus metrics
read straight from /metrics: what the bench and the integration tests start, kill and watch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from signal import SIGCONT, SIGKILL, SIGTERM

from prometheus_client.parser import text_string_to_metric_families

from channelpulse.config import Settings
from channelpulse.net import free_port, port_is_open

Sample = tuple[str, dict[str, str], float]


def parse_metrics(text: str) -> list[Sample]:
    """(name, labels, value) of every sample of a Prometheus text exposition."""
    families = text_string_to_metric_families(text)
    return [(s.name, dict(s.labels), float(s.value)) for fam in families for s in fam.samples]


def metric_sum(samples: list[Sample], name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items()))


class WorkerProcess:
    """One worker process (free metrics and web ports unless given); its output goes to
    ``<state_dir>/run/<name>.log``."""

    def __init__(
        self, settings: Settings, name: str, metrics_port: int | None = None, web_port: int | None = None
    ) -> None:
        host = settings.bind_host
        self.settings = settings.model_copy(
            update={
                "worker_metrics_port": metrics_port or free_port(host),
                "worker_web_port": web_port or free_port(host),
            }
        )
        self.name = name
        self.log_path = settings.state_dir / "run" / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://{self.settings.bind_host}:{self.settings.worker_metrics_port}/metrics"

    def start(self, timeout_s: float = 180.0) -> float:
        """Start the worker and wait until it serves /metrics (its consumer may still be joining the
        group); returns the seconds that took."""
        started = time.monotonic()
        env = {**os.environ, **self.settings.to_env(), "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "channelpulse", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if port_is_open(self.settings.bind_host, self.settings.worker_metrics_port):
                return time.monotonic() - started
            time.sleep(0.25)
        raise RuntimeError(f"worker {self.name} not serving metrics after {timeout_s:.0f}s; see {self.log_path}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.running():
            self.proc.send_signal(sig)

    def kill(self, sig: int = SIGKILL) -> None:
        """Send ``sig`` and wait until the process is gone and its metrics port closed."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while port_is_open(self.settings.bind_host, self.settings.worker_metrics_port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name}: metrics port still open after it died")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM (a clean shutdown commits the offsets), SIGKILL after ``timeout_s``; the exit code."""
        if self.proc is None:
            return None
        self.signal(SIGCONT)
        self.signal(SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def scrape(self) -> list[Sample]:
        """The worker's current samples (empty when it does not answer)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
                return parse_metrics(resp.read().decode())
        except (urllib.error.URLError, OSError):
            return []

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the worker's samples named ``name`` with ``labels`` (0 when absent or down)."""
        return metric_sum(self.scrape(), name, **labels)

    def metric_stable(self, name: str, seconds: float) -> bool:
        first = self.metric(name)
        time.sleep(seconds)
        return self.metric(name) == first

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the worker's log (for failure messages)."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
