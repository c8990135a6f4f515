"""A `channelpulse worker` subprocess for integration tests, with its metrics read directly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from channelpulse.config import Settings
from infra.stack.process import port_is_open


class WorkerProcess:
    """Start, kill and restart one worker on the test stack; its log goes to the stack's run folder."""

    def __init__(
        self,
        settings: Settings,
        name: str = "worker",
        metrics_port: int | None = None,
        web_port: int | None = None,
    ) -> None:
        self.settings = settings.model_copy(
            update={
                "worker_metrics_port": metrics_port or settings.worker_metrics_port,
                "worker_web_port": web_port or settings.worker_web_port,
            }
        )
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = settings.state_dir / "run" / f"{name}.log"

    def start(self, timeout_s: float = 120.0) -> None:
        env = {**os.environ, **self.settings.to_env(), "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "channelpulse", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}; log {self.log_path}")
            if port_is_open(self.settings.bind_host, self.settings.worker_metrics_port):
                return
            time.sleep(0.5)
        raise RuntimeError(f"worker metrics port not open after {timeout_s}s; log {self.log_path}")

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the worker's log (for failure messages)."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while port_is_open(self.settings.bind_host, self.settings.worker_metrics_port):
            if time.monotonic() > deadline:
                raise RuntimeError("metrics port still open after the worker died")
            time.sleep(0.2)

    def stop(self) -> int | None:
        """SIGTERM (clean shutdown); returns the exit code."""
        if not self.running():
            return None if self.proc is None else self.proc.returncode
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def metric(self, name: str) -> float:
        """Sum of all samples named ``name`` on the worker's /metrics (0 when absent or down)."""
        url = f"http://{self.settings.bind_host}:{self.settings.worker_metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                text = resp.read().decode()
        except (urllib.error.URLError, OSError):
            return 0.0
        return sum(
            s.value for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name
        )

    def metric_stable(self, name: str, seconds: float) -> bool:
        first = self.metric(name)
        time.sleep(seconds)
        return self.metric(name) == first
