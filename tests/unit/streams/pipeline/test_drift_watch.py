from __future__ import annotations

import json

import numpy as np

from channelpulse.config import Settings
from channelpulse.models.drift import ReferenceProfile
from channelpulse.schemas.lifecycle import DriftReportRecord, RetrainRequest
from channelpulse.streams.pipeline.drift import DriftWatch

DIM = 8


def stream(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, DIM))
    x[:, :4] += shift
    logits = 1.5 * x[:, :3]
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True), x


def test_a_shift_in_force_after_the_cooldown_asks_again_from_the_timer_without_new_events() -> None:
    rng = np.random.default_rng(0)
    reference = ReferenceProfile.build(*stream(rng, 10_000), ["negative", "neutral", "positive"])
    settings = Settings(drift_window=100, drift_consecutive=2, drift_cooldown_s=300)
    clock = [1_000_000.0]
    watch = DriftWatch(settings, lambda model, version: reference, clock=lambda: clock[0])
    emits = []
    for _ in range(4):  # four windows of a strong shift, 10 s apart
        clock[0] += 10.0
        emits += watch.observe("sentiment", "1", *stream(rng, 100, shift=1.5))
    s = settings
    reports = [DriftReportRecord.model_validate_json(e.value) for e in emits if e.topic == s.topic_drift_reports]
    requests = [RetrainRequest.model_validate_json(e.value) for e in emits if e.topic == s.topic_retrain_requests]
    assert [r.drifted for r in reports] == [True] * 4
    [first] = requests
    assert first.trigger == "new" and first.serving_version == "1" and first.evidence is not None
    assert first.episode_id == reports[1].episode_id == reports[3].episode_id is not None
    assert first.episode_started_at is not None and first.episode_started_at.timestamp() == 1_000_010.0
    assert first.requested_at.timestamp() == 1_000_020.0
    assert watch.tick() == []  # still cooling down
    clock[0] = 1_000_020.0 + 300.0  # no event since; the timer fires
    [reminder] = watch.tick()
    body = json.loads(reminder.value)
    assert reminder.topic == settings.topic_retrain_requests and reminder.key == b"sentiment"
    assert body["trigger"] == "reminder" and body["episode_id"] == first.episode_id
    assert watch.tick() == []  # one reminder per cooldown
