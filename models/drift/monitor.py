"""DriftMonitor: sliding windows over a model's live outputs, tested against its reference profile."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from channelpulse.models.drift.compare import WindowStatistics, compare_window
from channelpulse.models.drift.profile import ReferenceProfile, prediction_scores
from channelpulse.models.drift.trigger import RetrainTrigger, TriggerPolicy, TriggerRequest

DEFAULT_WINDOW = 500
DEFAULT_ALPHA = 0.01
DEFAULT_CLEAR_ALPHA = 0.1


@dataclass(frozen=True)
class DriftReport:
    """What one completed window showed and what the monitor decided."""

    model: str
    window_index: int
    events_seen: int
    statistics: WindowStatistics
    drifted: bool
    """The window's family-wise p-value is below alpha."""
    clear: bool
    """The window's family-wise p-value is at or above the clear level (counts towards re-arming)."""
    state: str
    drift_streak: int
    request: TriggerRequest | None
    """The retrain request this window made (see channelpulse.models.drift.trigger), if any."""
    episode: int | None
    """Number of the drift episode open after this window (None: none is)."""

    @property
    def should_retrain(self) -> bool:
        return self.request is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window_index": self.window_index,
            "events_seen": self.events_seen,
            "drifted": self.drifted,
            "clear": self.clear,
            "state": self.state,
            "drift_streak": self.drift_streak,
            "should_retrain": self.should_retrain,
            "episode": self.episode,
            "statistics": self.statistics.to_dict(),
        }


class DriftMonitor:
    """Feeds live ``(probs, embeddings)`` batches into windows of ``window`` rows, one evaluated
    every ``step`` rows (``step == window``: tumbling windows, the default; smaller: sliding).

    A window has drifted when the Bonferroni-combined p-value of all its tests (predicted classes,
    score histogram, KS per embedding projection) is below ``alpha``: a per-window false-alarm rate
    of at most ``alpha`` on a stationary stream, whatever the window size. ``policy`` turns drifted
    windows into retrain requests with hysteresis and a cooldown. Holds only each row's class,
    score and projections, never the embeddings. ``clock`` (seconds) times the trigger's cooldown.
    """

    def __init__(
        self,
        reference: ReferenceProfile,
        window: int = DEFAULT_WINDOW,
        step: int | None = None,
        *,
        alpha: float = DEFAULT_ALPHA,
        clear_alpha: float = DEFAULT_CLEAR_ALPHA,
        policy: TriggerPolicy | None = None,
        model: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window < 10:
            raise ValueError("window must be at least 10 rows")
        if step is not None and not 1 <= step <= window:
            raise ValueError("step must lie in 1..window")
        if not 0.0 < alpha <= clear_alpha < 1.0:
            raise ValueError("need 0 < alpha <= clear_alpha < 1")
        self.window = window
        self.step = step or window
        self.alpha = alpha
        self.clear_alpha = clear_alpha
        self.model = model
        self.clock = clock
        self.trigger = RetrainTrigger(policy)
        self.events_seen = 0
        self.windows_done = 0
        self.set_reference(reference)

    def set_reference(self, reference: ReferenceProfile) -> None:
        """Measure against a new reference (a new model version is served): empties the window
        and re-arms the trigger."""
        self.reference = reference
        self._projection = reference.projections()
        self._classes = np.empty(0, dtype=np.int64)
        self._scores = np.empty(0, dtype=np.float64)
        self._projected = np.empty((0, reference.num_projections), dtype=np.float64)
        self._since_last = 0
        self.trigger.rearm()

    def observe(self, probs: np.ndarray, embeddings: np.ndarray) -> DriftReport | None:
        """Add a batch; the report of the window it completed (None when none completed).

        When a batch completes several windows, the (first) one that asked for a retrain wins, else the last.
        """
        reports = self.observe_all(probs, embeddings)
        triggering = [r for r in reports if r.should_retrain]
        return triggering[0] if triggering else (reports[-1] if reports else None)

    def observe_all(self, probs: np.ndarray, embeddings: np.ndarray) -> list[DriftReport]:
        """Add a batch; the reports of every window it completed, in order."""
        p = np.asarray(probs, dtype=np.float64)
        x = np.asarray(embeddings, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != len(self.reference.labels):
            raise ValueError(f"probs must be [n, {len(self.reference.labels)}]")
        if x.ndim != 2 or x.shape != (len(p), self.reference.dim):
            raise ValueError(f"embeddings must be [{len(p)}, {self.reference.dim}]")
        classes = p.argmax(axis=1)
        scores = prediction_scores(p)
        projected = ((x - self.reference.embedding_mean) / self.reference.embedding_std) @ self._projection
        reports = []
        start = 0
        while start < len(p):
            # rows until the next evaluation point: the window must be full and `step` rows new
            need = max(self.step - self._since_last, self.window - len(self._classes), 1)
            end = min(len(p), start + need)
            self._append(classes[start:end], scores[start:end], projected[start:end])
            self.events_seen += end - start
            self._since_last += end - start
            start = end
            if len(self._classes) >= self.window and self._since_last >= self.step:
                reports.append(self._evaluate())
        return reports

    def tick(self) -> TriggerRequest | None:
        """Let time pass without a window (a timer): a cooldown that is over ends, maybe with a request."""
        return self.trigger.tick(self.clock())

    def _append(self, classes: np.ndarray, scores: np.ndarray, projected: np.ndarray) -> None:
        self._classes = np.concatenate([self._classes, classes])[-self.window :]
        self._scores = np.concatenate([self._scores, scores])[-self.window :]
        self._projected = np.concatenate([self._projected, projected])[-self.window :]

    def _evaluate(self) -> DriftReport:
        self._since_last = 0
        stats = compare_window(self.reference, self._classes, self._scores, self._projected)
        drifted = stats.p_value < self.alpha
        clear = stats.p_value >= self.clear_alpha
        request = self.trigger.update(stats.p_value, drifted, clear, self.clock())
        report = DriftReport(
            model=self.model,
            window_index=self.windows_done,
            events_seen=self.events_seen,
            statistics=stats,
            drifted=drifted,
            clear=clear,
            state=self.trigger.state.value,
            drift_streak=self.trigger.drift_streak,
            request=request,
            episode=None if self.trigger.episode is None else self.trigger.episode.number,
        )
        self.windows_done += 1
        return report
