from __future__ import annotations

from channelpulse.models.retrain.admission import Ask, GatePolicy, RetrainGate

POLICY = GatePolicy(cooldown_s=600, escalation=3.0, wait_rows_s=300, recheck_s=30)


def ask(n: int, at: float, *, episode: str = "e1", started: float | None = None, evidence: float = 4.0,
        version: str | None = "1", manual: bool = False) -> Ask:
    return Ask(
        request_id=f"r{n}", model="sentiment", requested_at=at, manual=manual, serving_version=version,
        episode_id=None if manual else episode, episode_started_at=None if manual else (started or at - 30),
        evidence=None if manual else evidence,
    )


def run(gate: RetrainGate, request: Ask, action: str, start: float, end: float, short: bool = False) -> str:
    return gate.finished(request, action, short, start, end)


def test_a_rejected_mild_candidate_does_not_block_a_much_stronger_shift() -> None:
    """The operator's scenario: mild shift -> rejected; two minutes later a strong one inside the cooldown."""
    gate = RetrainGate(POLICY)
    mild = ask(1, 100.0, evidence=3.5)
    assert gate.offer(mild, "1") == []
    assert gate.due("sentiment", "1", 100.0) == (mild, None)
    assert run(gate, mild, "rejected", 100.0, 140.0) == "decided"
    assert gate.cooling_down("sentiment", 200.0)
    strong = ask(2, 260.0, episode="e2", started=230.0, evidence=25.0)
    assert gate.offer(strong, "1") == []
    assert gate.due("sentiment", "1", 260.0) == (strong, None)  # overrides the cooldown


def test_a_request_not_much_stronger_waits_for_the_cooldown_and_then_runs() -> None:
    gate = RetrainGate(POLICY)
    first = ask(1, 100.0, evidence=5.0)
    gate.offer(first, "1")
    run(gate, first, "rejected", 100.0, 150.0)
    reminder = ask(2, 300.0, evidence=9.0)  # same episode, a little stronger: no override
    assert gate.offer(reminder, "1") == []
    assert gate.due("sentiment", "1", 700.0) == (None, None)  # deferred, not dropped
    assert gate.due("sentiment", "1", 750.0) == (reminder, None)  # the cooldown (600 s from 150) ended


def test_after_a_promotion_requests_wait_for_the_cooldown_even_when_stronger() -> None:
    gate = RetrainGate(POLICY)
    first = ask(1, 100.0, evidence=3.0)
    gate.offer(first, "1")
    run(gate, first, "promoted", 100.0, 150.0)
    later = ask(2, 200.0, episode="e9", evidence=100.0, version="2")
    gate.offer(later, "2")
    assert gate.due("sentiment", "2", 300.0) == (None, None)
    manual = ask(3, 310.0, manual=True, version=None)
    assert [d.reason for d in gate.offer(manual, "2")] == ["superseded"]  # the newer (manual) one stays
    assert gate.due("sentiment", "2", 310.0) == (manual, None)  # an operator's request never waits


def test_too_few_rows_starts_no_cooldown_and_is_retried_until_a_deadline() -> None:
    gate = RetrainGate(POLICY)
    first = ask(1, 100.0)
    gate.offer(first, "1")
    assert run(gate, first, "skipped", 100.0, 101.0, short=True) == "waiting_started"
    assert not gate.cooling_down("sentiment", 102.0)
    assert gate.due("sentiment", "1", 120.0) == (None, None)  # next try 30 s after the last one
    assert gate.due("sentiment", "1", 131.0) == (first, None)
    assert run(gate, first, "skipped", 131.0, 132.0, short=True) == "still_waiting"
    assert gate.due("sentiment", "1", 162.0) == (first, None)
    assert run(gate, first, "promoted", 162.0, 200.0) == "decided"  # the rows came: it ran
    assert gate.pending_models() == []

    gate = RetrainGate(POLICY)
    gate.offer(first, "1")
    now = 100.0
    statuses = []
    while (due := gate.due("sentiment", "1", now))[0] is not None or gate.pending_models():
        if due[0] is not None:
            statuses.append(run(gate, first, "skipped", now, now + 1.0, short=True))
        now += 10.0
    assert statuses[0] == "waiting_started" and statuses[-1] == "gave_up"
    assert 100.0 + 300.0 <= now <= 100.0 + 300.0 + 30.0 + 20.0


def test_stale_requests_are_recognised_and_dropped() -> None:
    gate = RetrainGate(POLICY)
    first = ask(1, 100.0)
    gate.offer(first, "1")
    run(gate, first, "promoted", 110.0, 150.0)
    # measured against the version that served before the promotion
    [old_version] = gate.offer(ask(2, 140.0, version="1"), "2")
    assert old_version.reason == "stale_version" and "version 2 serves now" in old_version.detail
    # made before the last retrain started: that run already had the rows it asks for
    [covered] = gate.offer(ask(3, 105.0, version="2"), "2")
    assert covered.reason == "before_last_retrain"
    # a request of an older episode than the pending one is superseded, and the other way round
    newer = ask(4, 300.0, episode="e3", started=280.0, version="2")
    assert gate.offer(newer, "2") == []
    [older] = gate.offer(ask(5, 310.0, episode="e2", started=200.0, version="2"), "2")
    assert older.reason == "superseded" and older.ask.request_id == "r5"
    [replaced] = gate.offer(ask(6, 320.0, episode="e3", started=280.0, version="2"), "2")
    assert replaced.ask.request_id == "r4"
    # the version changes while a request is pending: dropped when it comes due
    request, stale = gate.due("sentiment", "3", 900.0)
    assert request is None and stale is not None and stale.reason == "stale_version"
    assert gate.pending_models() == []


def test_a_skip_that_is_not_for_rows_ends_the_request_without_a_cooldown() -> None:
    gate = RetrainGate(POLICY)
    first = ask(1, 100.0)
    gate.offer(first, "1")
    assert run(gate, first, "skipped", 100.0, 100.5) == "done"
    assert gate.pending_models() == [] and not gate.cooling_down("sentiment", 101.0)
