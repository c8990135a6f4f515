"""Drift watch: each scored sentiment batch feeds the serving version's DriftMonitor; completed
windows become drift reports, and a sustained shift one retrain request."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from channelpulse.config import Settings
from models.drift.monitor import DriftMonitor
from models.drift.profile import ReferenceProfile
from models.drift.trigger import TriggerPolicy
from schemas.lifecycle import DriftReportRecord, RetrainRequest, now_utc
from schemas.validation import encode
from streams import metrics
from streams.pipeline.records import Emit

log = logging.getLogger(__name__)

ProfileLoader = Callable[[str, str], ReferenceProfile | None]


def repository_profiles(repository: Path) -> ProfileLoader:
    """Reference profiles stored next to each version's weights: <repo>/<model>/<version>/profile.json."""

    def load(model: str, version: str) -> ReferenceProfile | None:
        path = repository / model / version / "profile.json"
        return ReferenceProfile.load(path) if path.exists() else None

    return load


class DriftWatch:
    """One DriftMonitor per model, re-created when the serving version changes."""

    def __init__(self, settings: Settings, profiles: ProfileLoader) -> None:
        self.settings = settings
        self.profiles = profiles
        self.monitors: dict[str, tuple[str, DriftMonitor | None]] = {}

    def monitor_for(self, model: str, version: str) -> DriftMonitor | None:
        current = self.monitors.get(model)
        if current is not None and current[0] == version:
            return current[1]
        profile = self.profiles(model, version)
        if profile is None:
            log.warning("no reference profile for %s version %s: drift is not monitored", model, version)
            monitor = None
        else:
            s = self.settings
            monitor = DriftMonitor(
                profile,
                s.drift_window,
                alpha=s.drift_alpha,
                model=model,
                policy=TriggerPolicy(consecutive=s.drift_consecutive, cooldown_windows=s.drift_cooldown_windows),
            )
        self.monitors[model] = (version, monitor)
        return monitor

    def observe(self, model: str, version: str, probs: np.ndarray, embeddings: np.ndarray) -> list[Emit]:
        monitor = self.monitor_for(model, version)
        if monitor is None:
            return []
        emits = []
        key = model.encode("utf-8")
        for report in monitor.observe_all(probs, embeddings):
            p_value = float(report.statistics.p_value)
            metrics.DRIFT_P_VALUE.labels(model=model).set(p_value)
            metrics.DRIFT_WINDOWS.labels(model=model, drifted=str(report.drifted).lower()).inc()
            record = DriftReportRecord(
                model=model,
                version=version,
                window_index=report.window_index,
                events_seen=report.events_seen,
                drifted=report.drifted,
                should_retrain=report.should_retrain,
                state=report.state,
                p_value=p_value,
                statistics=report.statistics.to_dict(),
                reported_at=now_utc(),
            )
            emits.append(Emit(self.settings.topic_drift_reports, key, encode(record), pipeline="lifecycle"))
            if report.should_retrain:
                metrics.RETRAIN_REQUESTS.labels(model=model).inc()
                request = RetrainRequest(
                    request_id=f"drift-{model}-{uuid.uuid4().hex[:12]}",
                    model=model,
                    source="drift",
                    reason=f"{monitor.trigger.policy.consecutive} drifted windows in a row "
                    f"(latest p={p_value:.2g} < alpha={monitor.alpha}) against version {version}",
                    serving_version=version,
                    requested_at=now_utc(),
                )
                log.info("drift: %s", request.reason)
                emits.append(Emit(self.settings.topic_retrain_requests, key, encode(request), pipeline="lifecycle"))
        return emits
