"""From drifted windows to retrain requests: drift episodes, a cooldown in time, reminders, escalation.

An **episode** is one shift as a monitor sees it. It opens when ``consecutive`` windows in a row
drifted (p < alpha) while the trigger was ``armed``, and closes once ``rearm_windows`` windows in a
row are clear again (p >= clear_alpha), or when a new reference (a new model version) is set. Its
**strength** is the weakest evidence among the windows that opened it: ``-log10`` of their largest
p-value (so six windows at 1e-25..1e-35 have strength 25).

States::

    armed ──(k drifted in a row: an episode opens)──► request ──► cooldown (cooldown_s seconds)
      ▲                                                              │ over (at a window or a tick):
      │                                                              ├─ rearm_windows clear in a row ─► armed
      │                                                              ├─ drifted windows since the request,
      │                                                              │  the latest not clear ─► reminder, cooldown
      └──(rearm_windows clear windows in a row)── watching ◄─────────┴─ otherwise
                                                   │ the next drifted window ─► reminder request, cooldown

* **Cooldown in time, re-evaluated by a timer**: :meth:`RetrainTrigger.tick` ends a cooldown
  without any new window, so a shift still in force when the cooldown ends gets its (reminder)
  request then, even if no event arrives any more. A reminder needs evidence newer than the last
  request (a drifted window since), so a stream that stopped does not ask again every cooldown.
* **Escalation**: ``consecutive`` drifted windows in a row, each at least ``escalation`` times as
  strong as the open episode (``-log10 p >= escalation * strength``), open a new, stronger episode
  with its own request at once, whatever the state: a mild shift's cooldown (and its rejected
  candidate) does not hide a strong one. The new episode supersedes the old one.
* Windows that are neither drifted nor clear keep an episode open without adding evidence.

Pure logic: time is the ``now`` (seconds, any clock) passed to :meth:`update` and :meth:`tick`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Literal

MAX_STRENGTH = 300.0
"""-log10 p is capped here (a p-value of 0 underflowed)."""


def evidence(p_value: float) -> float:
    """``-log10 p``, capped at :data:`MAX_STRENGTH`: how strongly a window says "drifted"."""
    return MAX_STRENGTH if p_value <= 10.0**-MAX_STRENGTH else min(MAX_STRENGTH, -math.log10(p_value))


class TriggerState(str, Enum):
    ARMED = "armed"
    COOLDOWN = "cooldown"
    WATCHING = "watching"


RequestKind = Literal["new", "reminder", "escalation"]


@dataclass(frozen=True)
class TriggerPolicy:
    consecutive: int = 3
    """Drifted windows in a row that open an episode (and make its first request)."""
    cooldown_s: float = 600.0
    """Seconds after a request during which the episode makes no further request (escalation aside)."""
    rearm_windows: int = 2
    """Clear windows in a row that close an episode after its cooldown (0: it closes when the cooldown ends)."""
    escalation: float = 3.0
    """A new episode opens over an open one when its windows are each this many times stronger (-log10 p)."""

    def __post_init__(self) -> None:
        if self.consecutive < 1 or self.cooldown_s < 0 or self.rearm_windows < 0:
            raise ValueError("consecutive must be >= 1, cooldown_s and rearm_windows >= 0")
        if self.escalation <= 1.0:
            raise ValueError("escalation must be > 1 (a new episode must be stronger than the open one)")


@dataclass(frozen=True)
class Episode:
    number: int
    """1, 2, ... per trigger (the caller turns it into a globally unique id)."""
    started_at: float
    """When the first window of the drifted streak that opened it was evaluated."""
    strength: float
    """-log10 of the largest p-value among the windows that opened it."""


@dataclass(frozen=True)
class TriggerRequest:
    """A retrain request the trigger asks for."""

    episode: Episode
    kind: RequestKind
    evidence: float
    """-log10 of the largest p-value of the last ``consecutive`` drifted windows (the episode's
    strength for a new or escalated episode)."""
    superseded: Episode | None = None
    """For an escalation: the episode it replaces."""


class RetrainTrigger:
    """The state machine: :meth:`update` once per completed window, :meth:`tick` from a timer."""

    def __init__(self, policy: TriggerPolicy | None = None) -> None:
        self.policy = policy or TriggerPolicy()
        self.episodes_opened = 0
        self.rearm()

    def rearm(self) -> None:
        """Back to ``armed`` with no history and no open episode (a new model version is served)."""
        self.state = TriggerState.ARMED
        self.episode: Episode | None = None
        self.drift_streak = 0
        self.clear_streak = 0
        self.streak_started: float | None = None
        self.recent: deque[float] = deque(maxlen=self.policy.consecutive)
        self.cooldown_until = 0.0
        self.evidence_since_request = 0

    def update(self, p_value: float, drifted: bool, clear: bool, now: float) -> TriggerRequest | None:
        """Feed one window's verdicts; the request this window makes, if any."""
        if drifted:
            if self.drift_streak == 0:
                self.streak_started = now
            self.drift_streak += 1
            self.recent.append(evidence(p_value))
        else:
            self.drift_streak = 0
            self.recent.clear()
        self.clear_streak = self.clear_streak + 1 if clear else 0
        streak = self.drift_streak >= self.policy.consecutive
        if self.episode is None:
            return self._open("new", now) if streak else None
        if drifted:
            self.evidence_since_request += 1
        if streak and min(self.recent) >= self.policy.escalation * self.episode.strength:
            return self._open("escalation", now)
        if self.state is TriggerState.COOLDOWN:
            return self.tick(now)
        if self.clear_streak >= self.policy.rearm_windows:
            self._close()
            return None
        return self._remind(now) if drifted else None

    def tick(self, now: float) -> TriggerRequest | None:
        """Time passes without a window: ends a cooldown that is over (and makes its reminder, if due)."""
        if self.state is not TriggerState.COOLDOWN or now < self.cooldown_until:
            return None
        if self.clear_streak >= self.policy.rearm_windows:
            self._close()
            return None
        if self.evidence_since_request > 0 and self.clear_streak == 0:
            return self._remind(now)
        self.state = TriggerState.WATCHING
        return None

    def _open(self, kind: RequestKind, now: float) -> TriggerRequest:
        self.episodes_opened += 1
        strength = min(self.recent)
        superseded = self.episode
        started = self.streak_started if self.streak_started is not None else now
        self.episode = Episode(self.episodes_opened, started, strength)
        self._cool(now)
        return TriggerRequest(self.episode, kind, strength, superseded)

    def _remind(self, now: float) -> TriggerRequest:
        assert self.episode is not None
        self._cool(now)
        return TriggerRequest(self.episode, "reminder", min(self.recent) if self.recent else self.episode.strength)

    def _cool(self, now: float) -> None:
        self.state = TriggerState.COOLDOWN
        self.cooldown_until = now + self.policy.cooldown_s
        self.evidence_since_request = 0

    def _close(self) -> None:
        self.state = TriggerState.ARMED
        self.episode = None
        self.drift_streak = 0
        self.recent.clear()
