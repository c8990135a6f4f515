"""Which retrain request runs now, which waits and which is dropped: the retrainer's side of the
loop (its cooldown, waiting for labelled rows, stale requests). Pure logic: time is passed in;
streams/retrainer.py feeds it from Kafka. See docs/lifecycle.md, "Retrain requests".

Per model the gate holds at most one **pending** request (the newest) and the **last decided run**
(promoted or rejected, with its start and end). Rules:

* **Stale** requests are dropped (each with a reason): measured against a version that no longer
  serves (``stale_version``; checked when offered and again before it runs); made before the last
  run started (``before_last_retrain``: that run already read the feedback it asks for); or older
  than the pending one, by episode start then request time (``superseded``; the pending one is
  dropped instead when the new one is newer).
* **Cooldown**: for ``cooldown_s`` after a decided run a drift request waits (it is not dropped)
  and runs when the cooldown ends, unless the last candidate was *rejected* and the request's
  evidence is at least ``escalation`` times the evidence of the request that run served (a stronger
  shift overrides the cooldown of a rejected candidate). Manual requests never wait for it.
* **Too few labelled rows** ("skipped" for want of data) starts no cooldown: the request stays
  pending and is retried every ``recheck_s`` until the rows are there or ``wait_rows_s`` have passed
  since its first try (then dropped: ``rows_deadline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DropReason = Literal["stale_version", "before_last_retrain", "superseded", "rows_deadline"]
RunStatus = Literal["decided", "waiting_started", "still_waiting", "gave_up", "done"]
DECIDED_ACTIONS = ("promoted", "rejected")


@dataclass(frozen=True)
class Ask:
    """A retrain request as the gate sees it (transport-free; times in seconds since the epoch)."""

    request_id: str
    model: str
    requested_at: float
    manual: bool = False
    serving_version: str | None = None
    """The version the drift was measured against (None: any)."""
    episode_id: str | None = None
    episode_started_at: float | None = None
    evidence: float | None = None
    """-log10 p of the drifted windows behind the request (None for a manual request)."""

    def order(self) -> tuple[float, float]:
        """Newer episodes sort later, then later requests of one episode."""
        started = self.episode_started_at if self.episode_started_at is not None else self.requested_at
        return (started, self.requested_at)


@dataclass(frozen=True)
class GatePolicy:
    cooldown_s: float = 600.0
    """After a promoted or rejected candidate, drift requests for the model wait this long."""
    escalation: float = 3.0
    """A request this many times stronger (evidence) than the one behind a rejected candidate skips the cooldown."""
    wait_rows_s: float = 1800.0
    """A request short of labelled rows is retried for this long after its first try."""
    recheck_s: float = 60.0
    """Seconds between tries of a request short of labelled rows."""


@dataclass(frozen=True)
class Dropped:
    ask: Ask
    reason: DropReason
    detail: str


@dataclass(frozen=True)
class LastRun:
    started: float
    finished: float
    action: str
    evidence: float | None


@dataclass
class _ModelState:
    pending: Ask | None = None
    waiting_since: float | None = None
    next_try: float = 0.0
    last: LastRun | None = None


@dataclass
class RetrainGate:
    policy: GatePolicy = field(default_factory=GatePolicy)
    states: dict[str, _ModelState] = field(default_factory=dict)

    def offer(self, ask: Ask, served: str | None) -> list[Dropped]:
        """Take a new request; the requests this drops (it, or the pending one it replaces)."""
        state = self.states.setdefault(ask.model, _ModelState())
        stale = self._stale(ask, served, state)
        if stale is not None:
            return [stale]
        pending = state.pending
        if pending is None:
            state.pending = ask
            return []
        if ask.order() < pending.order():
            return [Dropped(ask, "superseded", f"older than the pending request {pending.request_id}")]
        state.pending = ask
        if ask.episode_id is None or ask.episode_id != pending.episode_id:
            state.waiting_since = None  # a new episode (or a manual request) gets its own wait for rows
        return [Dropped(pending, "superseded", f"replaced by the newer request {ask.request_id}")]

    def pending_models(self) -> list[str]:
        return [model for model, state in self.states.items() if state.pending is not None]

    def due(self, model: str, served: str | None, now: float) -> tuple[Ask | None, Dropped | None]:
        """(the request to run now, if any; the pending request dropped as stale, if any)."""
        state = self.states.get(model)
        if state is None or state.pending is None:
            return None, None
        ask = state.pending
        stale = self._stale(ask, served, state)
        if stale is not None:
            self._clear(state)
            return None, stale
        if state.waiting_since is not None and now < state.next_try:
            return None, None
        if self.cooling_down(model, now) and not ask.manual and not self._overrides(ask, state.last):
            return None, None
        return ask, None

    def cooling_down(self, model: str, now: float) -> bool:
        state = self.states.get(model)
        last = state.last if state is not None else None
        return last is not None and now < last.finished + self.policy.cooldown_s

    def finished(self, ask: Ask, action: str, short_of_rows: bool, started: float, now: float) -> RunStatus:
        """Account a run of ``ask`` (from ``started`` to ``now``) that ended in ``action``."""
        state = self.states.setdefault(ask.model, _ModelState())
        if action in DECIDED_ACTIONS:
            state.last = LastRun(started, now, action, ask.evidence)
            self._clear(state)
            return "decided"
        if not short_of_rows:
            self._clear(state)
            return "done"
        first = state.waiting_since is None
        if first:
            state.waiting_since = started
        assert state.waiting_since is not None
        if now - state.waiting_since >= self.policy.wait_rows_s:
            self._clear(state)
            return "gave_up"
        state.next_try = now + self.policy.recheck_s
        return "waiting_started" if first else "still_waiting"

    def _stale(self, ask: Ask, served: str | None, state: _ModelState) -> Dropped | None:
        if ask.serving_version is not None and served is not None and ask.serving_version != served:
            detail = f"drift measured against version {ask.serving_version}; version {served} serves now"
            return Dropped(ask, "stale_version", detail)
        last = state.last
        if last is not None and ask.requested_at < last.started:
            return Dropped(ask, "before_last_retrain", f"made before the last retrain started ({last.action})")
        return None

    def _overrides(self, ask: Ask, last: LastRun | None) -> bool:
        return (
            last is not None
            and last.action == "rejected"
            and ask.evidence is not None
            and last.evidence is not None
            and ask.evidence >= self.policy.escalation * last.evidence
        )

    @staticmethod
    def _clear(state: _ModelState) -> None:
        state.pending = None
        state.waiting_since = None
