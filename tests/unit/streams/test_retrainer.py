from __future__ import annotations

from datetime import datetime, timezone

from channelpulse.config import Settings
from channelpulse.schemas.lifecycle import ModelUpdate, RetrainRequest
from channelpulse.streams import metrics
from channelpulse.streams.retrainer import Retrainer

SETTINGS = Settings(retrain_cooldown_s=600, drift_escalation=3.0, retrain_wait_rows_s=300, retrain_recheck_s=30)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def request(n: int, t: float, evidence: float, episode: str = "e1", version: str = "1") -> RetrainRequest:
    return RetrainRequest(
        request_id=f"r{n}", model="sentiment", source="drift", reason="test", serving_version=version,
        requested_at=at(t), episode_id=episode, episode_started_at=at(t - 30), evidence=evidence, trigger="new",
    )


class Stack:
    """A fake clock, served version and handler whose outcomes the test scripts."""

    def __init__(self, outcomes: list[tuple[str, bool]]) -> None:
        self.now = 0.0
        self.version = "1"
        self.outcomes = outcomes
        self.calls: list[str] = []

    def handle(self, req: RetrainRequest) -> ModelUpdate:
        self.calls.append(req.request_id)
        self.now += 40.0  # a retrain takes time
        action, short = self.outcomes.pop(0)
        if action == "promoted":
            self.version = str(int(self.version) + 1)
        return ModelUpdate(
            model=req.model, action=action, version=self.version, request_id=req.request_id,  # type: ignore[arg-type]
            detail="too few rows" if short else action, announced_at=at(self.now), short_of_rows=short,
        )

    def retrainer(self) -> Retrainer:
        return Retrainer(SETTINGS, self.handle, lambda model: self.version, clock=lambda: self.now)


def dropped(reason: str) -> float:
    return metrics.REGISTRY.get_sample_value(
        "channelpulse_retrain_requests_dropped_total", {"model": "sentiment", "reason": reason}
    ) or 0.0


def test_mild_rejected_then_strong_within_the_cooldown_ends_in_one_promotion() -> None:
    stack = Stack([("rejected", False), ("promoted", False)])
    retrainer = stack.retrainer()
    stack.now = 100.0
    retrainer.offer(request(1, 100.0, evidence=3.0))
    assert [u.action for u in retrainer.run_due()] == ["rejected"]
    stack.now = 260.0  # two minutes later, inside the 600 s cooldown
    retrainer.offer(request(2, 250.0, evidence=4.0))  # a reminder-strength request of the mild shift
    retrainer.offer(request(3, 255.0, evidence=25.0, episode="e2"))  # the strong shift
    assert [u.action for u in retrainer.run_due()] == ["promoted"]
    assert stack.calls == ["r1", "r3"]
    # requests measured against version 1 (sent before the promotion) are stale now
    before = dropped("stale_version")
    retrainer.offer(request(4, 290.0, evidence=30.0, episode="e2"))
    assert dropped("stale_version") == before + 1
    stack.now = 2000.0
    assert retrainer.run_due() == [] and stack.calls == ["r1", "r3"]


def test_a_request_short_of_rows_waits_for_them_without_a_cooldown() -> None:
    stack = Stack([("skipped", True), ("skipped", True), ("promoted", False)])
    retrainer = stack.retrainer()
    stack.now = 100.0
    retrainer.offer(request(1, 100.0, evidence=5.0))
    [waiting] = retrainer.run_due()
    assert waiting.action == "skipped" and waiting.short_of_rows and "trying again every 30s" in waiting.detail
    assert not retrainer.gate.cooling_down("sentiment", stack.now)  # a skip for want of rows starts none
    stack.now = 160.0
    assert retrainer.run_due() == [] and stack.calls == ["r1"]  # the first try ended at 140: next at 170
    stack.now = 175.0
    assert retrainer.run_due() == []  # tried again, still short: nothing announced
    assert stack.calls == ["r1", "r1"]
    stack.now = 250.0
    assert [u.action for u in retrainer.run_due()] == ["promoted"]
    assert stack.calls == ["r1", "r1", "r1"]


def test_waiting_for_rows_gives_up_at_the_deadline() -> None:
    stack = Stack([("skipped", True)] * 20)
    retrainer = stack.retrainer()
    retrainer.offer(request(1, 0.0, evidence=5.0))
    before = dropped("rows_deadline")
    announced = []
    while stack.now < 1000.0:
        announced += retrainer.run_due()
        stack.now += 5.0
    assert [u.detail.split(":")[0] for u in announced][-1] == "gave up waiting for labelled rows"
    assert dropped("rows_deadline") == before + 1
    assert retrainer.pending == {} and retrainer.gate.pending_models() == []
