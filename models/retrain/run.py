"""run_retrain: labelled feedback from the lake -> candidate -> compare with the serving version on
the same held-out rows -> promote through the registry, or not."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from channelpulse.models.registry import ModelRegistry, RegistryError
from channelpulse.models.retrain.decision import decide, paired_win_rate
from channelpulse.models.retrain.feedback import eval_split, labelled_reviews
from channelpulse.models.retrain.job import Action, RetrainJob, RetrainOutcome
from channelpulse.models.retrain.trainers import TRAINERS, TextTrainer, metrics_of
from channelpulse.models.sentiment.evaluate import classification_metrics

log = logging.getLogger(__name__)

FeedbackSource = Callable[[str, datetime, datetime], pl.DataFrame]
"""(kind, start, end) -> the rows of that kind filed in [start, end): how run_retrain reads
feedback without knowing where it is kept (the worker's event lake: ``channelpulse.streams.lake.lake_reader``)."""


def run_retrain(
    job: RetrainJob,
    feedback: FeedbackSource,
    registry: ModelRegistry,
    *,
    trainer: TextTrainer | None = None,
    work_dir: Path | None = None,
    now: datetime | None = None,
) -> RetrainOutcome:
    """Run one retrain and return what happened (it never raises for a refused or failed promotion).

    1. Read ``job.lake_kind`` rows filed in ``[now - job.lookback, now)`` from ``feedback``
       and keep those with a text and a 1-5 star rating (label: 1-2 negative, 3 neutral, 4-5
       positive); skip when fewer than ``job.min_rows``.
    2. Hold out ``job.eval_fraction`` of them (a salted hash of the event id, so fixed per event).
    3. Train a candidate on the rest in a temporary folder under ``work_dir`` (``trainer``: the
       model's entry in TRAINERS, starting from the serving version's encoder and config).
    4. Score candidate and serving version on the held-out rows; promote per ``job.policy``
       (margin, and the paired bootstrap win rate of :func:`~channelpulse.models.retrain.decision.paired_win_rate`):
       the candidate is added to the registry as the next version and promoted (Triton loads it and
       the served history records it). A rejected candidate is discarded.
    """
    started = time.perf_counter()
    serving = registry.served_version(job.model)

    base_outcome = RetrainOutcome(job, "skipped", "", version=serving, previous_version=serving)

    def outcome(action: Action, detail: str, **changes: Any) -> RetrainOutcome:
        log.info("retrain %s (%s): %s - %s", job.model, job.request_id, action, detail)
        seconds = round(time.perf_counter() - started, 2)
        return replace(base_outcome, action=action, detail=detail, seconds=seconds, **changes)

    if trainer is None:
        if job.model not in TRAINERS:
            return outcome("skipped", f"no trainer for model {job.model!r} (have {sorted(TRAINERS)})")
        trainer = TRAINERS[job.model]()
    end = now or datetime.now(timezone.utc)
    data = labelled_reviews(feedback(job.lake_kind, end - job.lookback, end), max_rows=job.max_rows)
    if len(data) < job.min_rows:
        return outcome(
            "skipped",
            f"{len(data)} labelled rows in the lake (need {job.min_rows})",
            rows={"labelled": len(data)},
            short_of_rows=True,
        )
    fit, held_out = eval_split(data, job.eval_fraction)
    rows = {"labelled": len(data), "fit": len(fit), "eval": len(held_out)}
    if len(held_out) < job.policy.min_eval_rows:
        detail = f"{len(held_out)} evaluation rows (need {job.policy.min_eval_rows})"
        return outcome("skipped", detail, rows=rows, short_of_rows=True)
    base = registry.repository.version_dir(job.model, serving) if serving is not None else None

    with tempfile.TemporaryDirectory(prefix=f"retrain-{job.model}-", dir=work_dir) as tmp:
        candidate_dir = Path(tmp) / "candidate"
        meta = trainer.train(fit, candidate_dir, base)
        probs = trainer.predict([candidate_dir] + ([base] if base is not None else []), held_out)
        scored = [metrics_of(p, held_out.labels) for p in probs]
        candidate_metrics, serving_metrics = scored[0], (scored[1] if base is not None else None)
        win_rate = None
        if base is not None and job.policy.confidence > 0:
            win_rate = paired_win_rate(probs[0].argmax(axis=1), probs[1].argmax(axis=1), held_out.labels,
                                       lambda p, y: classification_metrics(p, y)[job.policy.metric],
                                       job.policy.resamples)
        decision = decide(candidate_metrics, serving_metrics, len(held_out), job.policy, win_rate)
        numbers: dict[str, Any] = {
            "rows": rows,
            "candidate_metrics": candidate_metrics,
            "serving_metrics": serving_metrics or {},
        }
        if not decision.promote:
            return outcome("rejected", decision.reason, **numbers)
        meta["retrain"] = {
            "request_id": job.request_id,
            "reason": job.reason,
            "decision": decision.reason,
            "rows": rows,
            "eval": {"candidate": candidate_metrics, "serving": serving_metrics},
        }
        info = registry.add_version(job.model, candidate_dir, meta)
    try:
        registry.promote(job.model, info.version, note=f"retrain {job.request_id}: {decision.reason}")
    except RegistryError as exc:
        return outcome("rejected", f"promotion failed: {exc}", candidate_version=info.version, **numbers)
    return outcome("promoted", decision.reason, version=info.version, candidate_version=info.version, **numbers)
