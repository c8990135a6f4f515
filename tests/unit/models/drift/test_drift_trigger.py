from __future__ import annotations

import pytest

from channelpulse.models.drift import RetrainTrigger, TriggerPolicy, TriggerRequest, TriggerState, evidence

P = {"d": 1e-4, "D": 1e-30, "c": 0.5, ".": 0.05}  # mild drift, strong drift, clear, neither


class Clock:
    def __init__(self) -> None:
        self.now = 0.0


def _run(trigger: RetrainTrigger, clock: Clock, verdicts: str, every_s: float = 10.0) -> list[TriggerRequest | None]:
    """One window per letter (see P), ``every_s`` seconds apart."""
    out = []
    for v in verdicts:
        clock.now += every_s
        out.append(trigger.update(P[v], v in "dD", v == "c", clock.now))
    return out


def _kinds(requests: list[TriggerRequest | None]) -> list[str]:
    return [r.kind if r is not None else "-" for r in requests]


def test_needs_consecutive_drifted_windows_and_one_request_per_cooldown() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=3, cooldown_s=100))
    assert _kinds(_run(trigger, clock, "dd.dd.cdd")) == ["-"] * 9
    assert trigger.state is TriggerState.ARMED
    [first] = _run(trigger, clock, "d")
    assert first is not None and first.kind == "new" and first.episode.number == 1
    assert first.episode.started_at == clock.now - 20  # the first window of the streak
    assert first.evidence == pytest.approx(4.0) and first.episode.strength == pytest.approx(4.0)
    assert trigger.state is TriggerState.COOLDOWN
    assert _kinds(_run(trigger, clock, "d" * 9)) == ["-"] * 9  # 90 s: still cooling down


def test_a_shift_still_in_force_gets_a_reminder_when_the_cooldown_ends_without_new_events() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_s=100))
    requests = _run(trigger, clock, "dddd")  # request at window 2, two more drifted windows after it
    assert _kinds(requests) == ["-", "new", "-", "-"]
    clock.now = 119.0  # no window arrives any more; the timer ticks
    assert trigger.tick(clock.now) is None and trigger.state is TriggerState.COOLDOWN
    clock.now = 120.0
    reminder = trigger.tick(clock.now)
    assert reminder is not None and reminder.kind == "reminder"
    assert reminder.episode == requests[1].episode  # type: ignore[union-attr]
    assert trigger.state is TriggerState.COOLDOWN and trigger.cooldown_until == 220.0
    # no drifted window since that reminder: the next cooldown end asks nothing and watches
    assert trigger.tick(500.0) is None and trigger.state is TriggerState.WATCHING
    clock.now = 500.0
    assert _kinds(_run(trigger, clock, ".d")) == ["-", "reminder"]  # new evidence: asks at once


def test_the_episode_closes_on_clear_windows_and_a_new_shift_opens_a_new_one() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_s=50, rearm_windows=2))
    assert _kinds(_run(trigger, clock, "dd")) == ["-", "new"]
    assert _kinds(_run(trigger, clock, "cccc")) == ["-"] * 4  # clear windows inside the cooldown
    assert trigger.state is TriggerState.COOLDOWN
    clock.now = 100.0
    assert trigger.tick(clock.now) is None  # over: clear streak >= 2 closes the episode
    assert trigger.state is TriggerState.ARMED and trigger.episode is None
    second = _run(trigger, clock, "dd")[1]
    assert second is not None and second.kind == "new" and second.episode.number == 2


def test_a_stronger_shift_escalates_through_the_cooldown_of_a_mild_one() -> None:
    """The operator's scenario: a mild shift's request, then six strong windows within its cooldown."""
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=3, cooldown_s=600, escalation=3.0))
    mild = _run(trigger, clock, "ddd")[2]
    assert mild is not None and mild.kind == "new"
    clock.now += 120.0
    strong = _run(trigger, clock, "DDDDDD")
    assert _kinds(strong) == ["-", "-", "escalation", "-", "-", "-"]
    escalation = strong[2]
    assert escalation is not None
    assert escalation.superseded == mild.episode and escalation.episode.number == 2
    assert escalation.episode.strength == pytest.approx(30.0)
    assert trigger.state is TriggerState.COOLDOWN and trigger.cooldown_until == clock.now - 30 + 600


def test_windows_only_somewhat_stronger_do_not_escalate() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_s=600, escalation=3.0))
    _run(trigger, clock, "dd")
    for _ in range(5):
        clock.now += 10
        assert trigger.update(1e-11, True, False, clock.now) is None  # 11 < 3 * 4
    assert trigger.episode is not None and trigger.episode.number == 1


def test_zero_rearm_windows_closes_the_episode_when_the_cooldown_ends() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_s=25, rearm_windows=0))
    fired = _run(trigger, clock, "d" * 10)  # windows at 10, 20, ... 100 s
    # request at 20 s; the window at 50 s ends the cooldown and closes the episode; 60 and 70 s open a new one
    assert [i for i, r in enumerate(fired) if r is not None] == [1, 6]
    assert all(r.kind == "new" for r in fired if r is not None)


def test_manual_rearm_evidence_and_policy_validation() -> None:
    clock, trigger = Clock(), RetrainTrigger(TriggerPolicy(consecutive=1, cooldown_s=1000, rearm_windows=5))
    assert _kinds(_run(trigger, clock, "dd")) == ["new", "-"]
    trigger.rearm()
    assert _kinds(_run(trigger, clock, "d")) == ["new"]
    assert evidence(0.0) == 300.0 and evidence(1e-25) == pytest.approx(25.0) and evidence(1.0) == 0.0
    with pytest.raises(ValueError):
        TriggerPolicy(consecutive=0)
    with pytest.raises(ValueError):
        TriggerPolicy(escalation=1.0)
