from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from channelpulse.config import Settings
from channelpulse.models.retrain.candidate import RetrainBudget
from channelpulse.models.retrain.job import RetrainOutcome
from channelpulse.models.retrain.trainers import SentimentTrainer
from channelpulse.schemas.lifecycle import RetrainRequest
from channelpulse.streams import retrain_handler

pytestmark = pytest.mark.unit


def test_the_retrain_budget_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(job: Any, feedback: Any, registry: Any, *, trainer: Any, work_dir: Path) -> RetrainOutcome:
        seen["trainer"], seen["job"] = trainer, job
        return RetrainOutcome(job, "rejected", "no better", version=2, previous_version=2)

    monkeypatch.setattr(retrain_handler, "run_retrain", fake_run)
    settings = Settings(state_dir=tmp_path, retrain_max_steps=7, retrain_max_seconds=900.0, retrain_nproc=2,
                        retrain_promotion_margin=0.03)
    handle = retrain_handler.retrain_handler(settings)
    request = RetrainRequest(request_id="r1", model="sentiment", source="manual", reason="test",
                             requested_at=datetime(2026, 12, 2, tzinfo=timezone.utc))
    update = handle(request)
    trainer = seen["trainer"]
    assert isinstance(trainer, SentimentTrainer)
    assert trainer.nproc == 2
    assert trainer.budget == RetrainBudget(max_steps=7, max_seconds=900.0)
    assert seen["job"].policy.margin == 0.03
    assert (update.action, update.version, update.request_id) == ("rejected", "2", "r1")

