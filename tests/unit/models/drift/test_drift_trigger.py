from __future__ import annotations

import pytest

from models.drift import RetrainTrigger, TriggerPolicy, TriggerState


def _run(trigger: RetrainTrigger, verdicts: str) -> list[bool]:
    """d = drifted, c = clear, . = neither."""
    return [trigger.update(v == "d", v == "c") for v in verdicts]


def test_needs_consecutive_drifted_windows() -> None:
    trigger = RetrainTrigger(TriggerPolicy(consecutive=3, cooldown_windows=2, rearm_windows=1))
    assert _run(trigger, "dd.dd.cdd") == [False] * 9
    assert trigger.state is TriggerState.ARMED
    assert _run(trigger, "d") == [True]
    assert trigger.state is TriggerState.COOLDOWN


def test_one_request_per_sustained_shift_then_rearm_on_clear_windows() -> None:
    trigger = RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_windows=3, rearm_windows=2))
    fired = _run(trigger, "dd" + "d" * 20)
    assert fired.count(True) == 1 and fired[1]
    assert trigger.state is TriggerState.REARMING
    assert _run(trigger, "c.c") == [False] * 3 and trigger.state is TriggerState.REARMING
    assert _run(trigger, "c") == [False] and trigger.state is TriggerState.ARMED
    assert _run(trigger, "dd") == [False, True]


def test_clear_windows_during_the_cooldown_do_not_rearm() -> None:
    trigger = RetrainTrigger(TriggerPolicy(consecutive=1, cooldown_windows=3, rearm_windows=1))
    assert _run(trigger, "dcccd") == [True, False, False, False, False]
    assert trigger.state is TriggerState.REARMING
    assert _run(trigger, "cd") == [False, True]


def test_zero_rearm_windows_retriggers_after_the_cooldown() -> None:
    trigger = RetrainTrigger(TriggerPolicy(consecutive=2, cooldown_windows=2, rearm_windows=0))
    fired = _run(trigger, "d" * 10)
    assert [i for i, f in enumerate(fired) if f] == [1, 5, 9]


def test_manual_rearm_and_policy_validation() -> None:
    trigger = RetrainTrigger(TriggerPolicy(consecutive=1, cooldown_windows=100, rearm_windows=5))
    assert _run(trigger, "dd") == [True, False]
    trigger.rearm()
    assert _run(trigger, "d") == [True]
    with pytest.raises(ValueError):
        TriggerPolicy(consecutive=0)
