from __future__ import annotations

from channelpulse.config import Settings
from schemas.lifecycle import ModelUpdate, RetrainRequest, now_utc
from streams.retrainer import Retrainer


def request(n: int) -> RetrainRequest:
    return RetrainRequest(
        request_id=f"r{n}",
        model="sentiment",
        source="drift",
        reason="test",
        serving_version="1",
        requested_at=now_utc(),
    )


def test_requests_inside_the_cooldown_are_skipped_and_later_ones_run() -> None:
    calls: list[str] = []
    clock = [0.0]

    def handler(req: RetrainRequest) -> ModelUpdate:
        calls.append(req.request_id)
        return ModelUpdate(model=req.model, action="promoted", version="2", detail="better", announced_at=now_utc())

    retrainer = Retrainer(Settings(retrain_cooldown_s=100), handler, clock=lambda: clock[0])
    assert retrainer.decide(request(1)).action == "promoted"
    clock[0] = 50.0
    skipped = retrainer.decide(request(2))
    assert skipped.action == "skipped" and skipped.request_id == "r2" and "cooldown" in skipped.detail
    clock[0] = 151.0
    assert retrainer.decide(request(3)).action == "promoted"
    assert calls == ["r1", "r3"]
