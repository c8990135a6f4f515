"""Maps a Kafka RetrainRequest onto the transport-free retrain core and its outcome onto a ModelUpdate."""

from __future__ import annotations

from channelpulse.config import Settings
from channelpulse.models.retrain.candidate import RetrainBudget
from channelpulse.models.retrain.decision import PromotionPolicy
from channelpulse.models.retrain.job import RetrainJob
from channelpulse.models.retrain.run import run_retrain
from channelpulse.models.retrain.trainers import TRAINERS
from channelpulse.schemas.lifecycle import ModelUpdate, RetrainRequest, now_utc
from channelpulse.streams.lake import lake_reader
from channelpulse.streams.live_registry import registry_for
from channelpulse.streams.retrainer import Handler


def retrain_handler(settings: Settings) -> Handler:
    registry = registry_for(settings)

    def handle(request: RetrainRequest) -> ModelUpdate:
        job = RetrainJob(
            request_id=request.request_id,
            model=request.model,
            reason=request.reason,
            min_rows=settings.retrain_min_rows,
            max_rows=settings.retrain_max_rows,
            policy=PromotionPolicy(margin=settings.retrain_promotion_margin,
                                   confidence=settings.retrain_promotion_confidence),
        )
        trainer_type = TRAINERS.get(request.model)
        budget = RetrainBudget(max_steps=settings.retrain_max_steps, max_seconds=settings.retrain_max_seconds)
        trainer = None if trainer_type is None else trainer_type(nproc=settings.retrain_nproc, budget=budget)
        outcome = run_retrain(job, lake_reader(settings.lake_root), registry, trainer=trainer,
                              work_dir=settings.state_dir)
        return ModelUpdate(
            model=request.model,
            action=outcome.action,
            version=None if outcome.version is None else str(outcome.version),
            candidate_version=None if outcome.candidate_version is None else str(outcome.candidate_version),
            previous_version=None if outcome.previous_version is None else str(outcome.previous_version),
            request_id=request.request_id,
            detail=outcome.detail,
            metrics=outcome.metrics,
            announced_at=now_utc(),
            short_of_rows=outcome.short_of_rows,
        )

    return handle
