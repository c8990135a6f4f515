"""Drift detection: a model's live predictions and inputs against its version's reference profile.

:class:`ReferenceProfile` summarises held-out reference data (``profile.json`` beside the weights);
:class:`DriftMonitor` tests windows of the live stream against it and, through the hysteresis of
:class:`TriggerPolicy`, raises ``should_retrain`` once per sustained shift. See docs/lifecycle.md.
"""

from models.drift.compare import WindowStatistics, compare_window
from models.drift.monitor import DriftMonitor, DriftReport
from models.drift.profile import PROFILE_FILE, ReferenceProfile, prediction_scores
from models.drift.trigger import RetrainTrigger, TriggerPolicy, TriggerState

__all__ = [
    "PROFILE_FILE",
    "DriftMonitor",
    "DriftReport",
    "ReferenceProfile",
    "RetrainTrigger",
    "TriggerPolicy",
    "TriggerState",
    "WindowStatistics",
    "compare_window",
    "prediction_scores",
]
