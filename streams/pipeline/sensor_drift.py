"""Drift of sensor values: per sensor group (channel + metric), the scored readings feed a
DriftMonitor (models/drift) whose reference is the group's own first readings; every completed
window becomes a report on ``drift.reports`` (a recalibrated device, an offset or a changed range
shows up as drifted windows). No retrain request: the anomaly model learns each sensor online.

The monitor of a group tests ``probs = [1 - score, score]`` (the anomaly scores) and the raw values
``[n, 1]`` (the input family: a KS test of the values against the reference's quantiles). The state
is in memory (per worker): after a restart a group's reference is learned again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from channelpulse.config import Settings
from channelpulse.models.contract import ANOMALY_MODEL
from channelpulse.models.drift.monitor import DriftMonitor
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.drift.trigger import TriggerPolicy
from channelpulse.schemas.lifecycle import DriftReportRecord, now_utc
from channelpulse.schemas.validation import encode
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.records import Emit

LABELS = ("normal", "anomalous")


def group_of(event: Any) -> str:
    """The sensor group a reading belongs to: ``<channel>/<metric>``."""
    return f"{event.channel}/{event.metric}"


class SensorGroupDrift:
    """One group: readings collected until the reference is full, then a DriftMonitor against it."""

    def __init__(self, reference_size: int, window: int, alpha: float) -> None:
        self.reference_size = reference_size
        self.window = window
        self.alpha = alpha
        self.pending_scores: list[float] = []
        self.pending_values: list[float] = []
        self.monitor: DriftMonitor | None = None

    def observe(self, scores: np.ndarray, values: np.ndarray) -> list[Any]:
        """Feed readings; the DriftReports of the windows they completed."""
        if self.monitor is None:
            room = self.reference_size - len(self.pending_values)
            self.pending_scores.extend(scores[:room].tolist())
            self.pending_values.extend(values[:room].tolist())
            scores, values = scores[room:], values[room:]
            if len(self.pending_values) < self.reference_size:
                return []
            ref_scores = np.asarray(self.pending_scores)
            reference = ReferenceProfile.build(
                np.column_stack([1.0 - ref_scores, ref_scores]), np.asarray(self.pending_values)[:, None], LABELS
            )
            self.monitor = DriftMonitor(
                reference, self.window, alpha=self.alpha, clear_alpha=max(self.alpha, 0.1), policy=TriggerPolicy()
            )
            self.pending_scores, self.pending_values = [], []
        if len(values) == 0:
            return []
        return self.monitor.observe_all(np.column_stack([1.0 - scores, scores]), values[:, None])


class SensorDriftWatch:
    """All sensor groups of this worker; ``observe(events, scores)`` after each scored batch."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.groups: dict[str, SensorGroupDrift] = {}

    def observe(self, events: Sequence[Any], scores: np.ndarray) -> list[Emit]:
        s = self.settings
        if s.sensor_drift_reference <= 0:
            return []
        members: dict[str, list[int]] = {}
        for i, event in enumerate(events):
            members.setdefault(group_of(event), []).append(i)
        emits = []
        for group, indices in members.items():
            state = self.groups.setdefault(
                group, SensorGroupDrift(s.sensor_drift_reference, s.sensor_drift_window, s.drift_alpha)
            )
            values = np.array([events[i].value for i in indices], dtype=np.float64)
            group_scores = np.clip(np.asarray(scores, dtype=np.float64)[indices], 0.0, 1.0)
            for report in state.observe(group_scores, values):
                p_value = float(report.statistics.p_value)
                label = f"{ANOMALY_MODEL}:{group}"
                metrics.DRIFT_P_VALUE.labels(model=label).set(p_value)
                metrics.DRIFT_WINDOWS.labels(model=label, drifted=str(report.drifted).lower()).inc()
                record = DriftReportRecord(
                    model=ANOMALY_MODEL,
                    version=f"group:{group}",
                    window_index=report.window_index,
                    events_seen=report.events_seen,
                    drifted=report.drifted,
                    should_retrain=False,
                    state=report.state,
                    p_value=p_value,
                    statistics={"sensor_group": group, **report.statistics.to_dict()},
                    reported_at=now_utc(),
                )
                key = f"{ANOMALY_MODEL}:{group}".encode()
                emits.append(Emit(s.topic_drift_reports, key, encode(record), pipeline="lifecycle"))
        return emits
