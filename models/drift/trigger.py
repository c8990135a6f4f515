"""Hysteresis and cooldown between "this window drifted" and "retrain now".

States: ``armed`` -> (``consecutive`` drifted windows in a row) -> one retrain request ->
``cooldown`` for ``cooldown_windows`` windows -> ``rearming`` -> (``rearm_windows`` clear windows in
a row, i.e. windows whose p-value is back above the clear level) -> ``armed``. A new reference
(a new model version) or :meth:`RetrainTrigger.rearm` arms it at once. So a sustained shift asks
for one retrain, and a shift that persists after it (e.g. a rejected candidate) asks for no more
until the stream looks like the reference again or someone re-arms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TriggerState(str, Enum):
    ARMED = "armed"
    COOLDOWN = "cooldown"
    REARMING = "rearming"


@dataclass(frozen=True)
class TriggerPolicy:
    consecutive: int = 3
    """Drifted windows in a row that make a retrain request."""
    cooldown_windows: int = 10
    """Windows after a request during which nothing can trigger."""
    rearm_windows: int = 2
    """Clear windows in a row that re-arm after the cooldown (0: re-arm when the cooldown ends)."""

    def __post_init__(self) -> None:
        if self.consecutive < 1 or self.cooldown_windows < 0 or self.rearm_windows < 0:
            raise ValueError("consecutive must be >= 1, cooldown_windows and rearm_windows >= 0")


class RetrainTrigger:
    """The state machine; :meth:`update` once per completed window."""

    def __init__(self, policy: TriggerPolicy | None = None) -> None:
        self.policy = policy or TriggerPolicy()
        self.rearm()

    def rearm(self) -> None:
        """Back to ``armed`` with no history (after a new model version is served)."""
        self.state = TriggerState.ARMED
        self.drift_streak = 0
        self.clear_streak = 0
        self.cooldown_left = 0

    def update(self, drifted: bool, clear: bool) -> bool:
        """Feed one window's verdicts; True exactly when this window makes a retrain request."""
        self.drift_streak = self.drift_streak + 1 if drifted else 0
        self.clear_streak = self.clear_streak + 1 if clear else 0
        if self.state is TriggerState.COOLDOWN:
            self.cooldown_left -= 1
            if self.cooldown_left <= 0:
                self._end_cooldown()
            return False
        if self.state is TriggerState.REARMING:
            if self.clear_streak >= self.policy.rearm_windows:
                self.state = TriggerState.ARMED
                self.drift_streak = 0
            return False
        if self.drift_streak >= self.policy.consecutive:
            self.state = TriggerState.COOLDOWN
            self.cooldown_left = self.policy.cooldown_windows
            self.drift_streak = 0
            if self.cooldown_left == 0:
                self._end_cooldown()
            return True
        return False

    def _end_cooldown(self) -> None:
        self.clear_streak = 0
        self.drift_streak = 0  # armed again, a new request needs `consecutive` fresh drifted windows
        self.state = TriggerState.REARMING if self.policy.rearm_windows > 0 else TriggerState.ARMED
