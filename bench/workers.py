"""The bench's consumer group of real `channelpulse worker` subprocesses (channelpulse.streams.worker_process)."""

from __future__ import annotations

import atexit
import contextlib
import signal
from collections.abc import Iterator

from channelpulse.config import Settings
from channelpulse.streams.worker_process import Sample, WorkerProcess, metric_sum


class WorkerGroup:
    """The workers of one consumer group (the bench's app id)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers: list[WorkerProcess] = []
        self.started = 0
        atexit.register(self.stop_all)  # no worker outlives the bench, whatever ends it

    def __len__(self) -> int:
        return len(self.workers)

    def add(self) -> float:
        """Start one more worker; returns the seconds until it served /metrics."""
        self.started += 1
        worker = WorkerProcess(self.settings, f"{self.settings.app_id}-worker-{self.started}")
        self.workers.append(worker)
        return worker.start()

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
