"""Drift watch: each scored sentiment batch feeds the serving version's DriftMonitor; completed
windows become drift reports, and drift episodes retrain requests (models/drift/trigger.py). A
worker timer calls :meth:`DriftWatch.tick`, so a cooldown that ends with the shift still in force
asks again even when no window completes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from channelpulse.config import Settings
from channelpulse.models.drift.monitor import DriftMonitor
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.drift.trigger import TriggerPolicy, TriggerRequest
from channelpulse.schemas.lifecycle import DriftReportRecord, RetrainRequest, now_utc
from channelpulse.schemas.validation import encode
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.records import Emit

log = logging.getLogger(__name__)

ProfileLoader = Callable[[str, str], ReferenceProfile | None]


def repository_profiles(repository: Path) -> ProfileLoader:
    """Reference profiles stored next to each version's weights: <repo>/<model>/<version>/profile.json."""

    def load(model: str, version: str) -> ReferenceProfile | None:
        path = repository / model / version / "profile.json"
        return ReferenceProfile.load(path) if path.exists() else None

    return load


class DriftWatch:
    """One DriftMonitor per model, re-created when the serving version changes. ``clock``: seconds
    since the epoch (the trigger's cooldowns and the requests' times)."""

    def __init__(self, settings: Settings, profiles: ProfileLoader, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.profiles = profiles
        self.clock = clock
        self.monitors: dict[str, tuple[str, DriftMonitor | None]] = {}
        self.instance = uuid.uuid4().hex[:8]
        """Makes this worker's episode ids unique: ``<model>-v<version>-<instance>-<n>``."""

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
                policy=TriggerPolicy(
                    consecutive=s.drift_consecutive, cooldown_s=s.drift_cooldown_s, escalation=s.drift_escalation
                ),
                clock=self.clock,
            )
        self.monitors[model] = (version, monitor)
        return monitor

    def episode_id(self, model: str, version: str, number: int | None) -> str | None:
        return None if number is None else f"{model}-v{version}-{self.instance}-{number}"

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
                episode_id=self.episode_id(model, version, report.episode),
            )
            emits.append(Emit(self.settings.topic_drift_reports, key, encode(record), pipeline="lifecycle"))
            if report.request is not None:
                emits.append(self._request(model, version, monitor, report.request, p_value))
        return emits

    def tick(self) -> list[Emit]:
        """The timer: every monitor whose cooldown is over re-evaluates (maybe a reminder request)."""
        emits = []
        for model, (version, monitor) in self.monitors.items():
            if monitor is not None and (request := monitor.tick()) is not None:
                emits.append(self._request(model, version, monitor, request, None))
        return emits

    def _request(
        self, model: str, version: str, monitor: DriftMonitor, trigger: TriggerRequest, p_value: float | None
    ) -> Emit:
        episode = trigger.episode
        episode_id = self.episode_id(model, version, episode.number)
        latest = f"latest p={p_value:.2g}" if p_value is not None else "no window since; timer"
        what = {
            "new": f"{monitor.trigger.policy.consecutive} drifted windows in a row",
            "reminder": "the shift is still in force after the cooldown",
            "escalation": f"a shift at least {monitor.trigger.policy.escalation:g}x stronger than episode "
            f"{self.episode_id(model, version, trigger.superseded.number if trigger.superseded else None)}",
        }[trigger.kind]
        request = RetrainRequest(
            request_id=f"drift-{model}-{uuid.uuid4().hex[:12]}",
            model=model,
            source="drift",
            reason=f"{what} ({latest}, alpha={monitor.alpha}; evidence -log10 p >= {trigger.evidence:.1f}) "
            f"against version {version}, episode {episode_id}",
            serving_version=version,
            requested_at=datetime.fromtimestamp(self.clock(), timezone.utc),
            episode_id=episode_id,
            episode_started_at=datetime.fromtimestamp(episode.started_at, timezone.utc),
            evidence=trigger.evidence,
            trigger=trigger.kind,
            supersedes=self.episode_id(model, version, trigger.superseded.number) if trigger.superseded else None,
        )
        metrics.RETRAIN_REQUESTS.labels(model=model, trigger=trigger.kind).inc()
        log.info("drift: %s", request.reason)
        return Emit(self.settings.topic_retrain_requests, model.encode("utf-8"), encode(request), pipeline="lifecycle")
