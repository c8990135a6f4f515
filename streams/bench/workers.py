"""Real `channelpulse worker` subprocesses for the bench, each on its own metrics and web ports, with
their Prometheus metrics read straight from /metrics."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from prometheus_client.parser import text_string_to_metric_families

from channelpulse.config import Settings
from infra.stack.process import free_port, port_is_open

Sample = tuple[str, dict[str, str], float]


def parse_metrics(text: str) -> list[Sample]:
    """(name, labels, value) of every sample of a Prometheus text exposition."""
    families = text_string_to_metric_families(text)
    return [(s.name, dict(s.labels), float(s.value)) for fam in families for s in fam.samples]


def metric_sum(samples: list[Sample], name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items()))


class BenchWorker:
    """One worker process; its output goes to ``<state_dir>/run/<name>.log``."""

    def __init__(self, settings: Settings, name: str) -> None:
        host = settings.bind_host
        self.settings = settings.model_copy(
            update={"worker_metrics_port": free_port(host), "worker_web_port": free_port(host)}
        )
        self.name = name
        self.log_path = settings.state_dir / "run" / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://{self.settings.bind_host}:{self.settings.worker_metrics_port}/metrics"

    def start(self) -> None:
        env = {**os.environ, **self.settings.to_env(), "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "channelpulse", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        """Until the worker serves /metrics (its consumer may still be joining the group)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited; see {self.log_path}")
            if port_is_open(self.settings.bind_host, self.settings.worker_metrics_port):
                return
            time.sleep(0.25)
        raise RuntimeError(f"worker {self.name} not serving metrics after {timeout_s:.0f}s; see {self.log_path}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.running():
            self.proc.send_signal(sig)

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM (a clean shutdown commits the offsets), SIGKILL after ``timeout_s``."""
        if self.proc is None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def scrape(self) -> list[Sample]:
        """The worker's current samples (empty when it does not answer)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
                return parse_metrics(resp.read().decode())
        except (urllib.error.URLError, OSError):
            return []


class WorkerGroup:
    """The workers of one consumer group (the bench's app id)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers: list[BenchWorker] = []
        self.started = 0
        atexit.register(self.stop_all)  # no worker outlives the bench, whatever ends it

    def __len__(self) -> int:
        return len(self.workers)

    def add(self) -> float:
        """Start one more worker; returns the seconds until it served /metrics."""
        started = time.monotonic()
        self.started += 1
        worker = BenchWorker(self.settings, f"{self.settings.app_id}-worker-{self.started}")
        worker.start()
        self.workers.append(worker)
        worker.wait_ready()
        return time.monotonic() - started

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """SIGSTOP every worker for the block (seconds only: well inside the consumer session timeout),
        so that a backlog can be published before they drain it."""
        for worker in self.workers:
            worker.signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for worker in self.workers:
                worker.signal(signal.SIGCONT)

    def scrape(self) -> list[Sample]:
        return [s for worker in self.workers for s in worker.scrape()]

    def produced(self, topic: str) -> float:
        """Records the group produced (and had acknowledged) to ``topic``."""
        return metric_sum(self.scrape(), "channelpulse_events_out_total", topic=topic)
