"""Drift detection: a model's live predictions and inputs against its version's reference profile.

:class:`ReferenceProfile` summarises held-out reference data (``profile.json`` beside the weights);
:class:`DriftMonitor` tests windows of the live stream against it and, through the hysteresis of
:class:`TriggerPolicy`, turns drift episodes into retrain requests (a cooldown in time, reminders
while a shift lasts, escalation to a stronger shift). See docs/lifecycle.md.
"""

from channelpulse.models.drift.compare import WindowStatistics, compare_window
from channelpulse.models.drift.monitor import DriftMonitor, DriftReport
from channelpulse.models.drift.profile import PROFILE_FILE, ReferenceProfile, prediction_scores
from channelpulse.models.drift.trigger import (
    Episode,
    RetrainTrigger,
    TriggerPolicy,
    TriggerRequest,
    TriggerState,
    evidence,
)

__all__ = [
    "PROFILE_FILE",
    "DriftMonitor",
    "DriftReport",
    "Episode",
    "ReferenceProfile",
    "RetrainTrigger",
    "TriggerPolicy",
    "TriggerRequest",
    "TriggerState",
    "WindowStatistics",
    "compare_window",
    "evidence",
    "prediction_scores",
]
