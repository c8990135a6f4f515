from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from channelpulse.models.registry import ModelRegistry, ModelRepository, TritonControlError
from channelpulse.models.retrain import PromotionPolicy, RetrainJob, run_retrain
from channelpulse.models.retrain.run import FeedbackSource
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.streams.lake import LakeWriter, lake_reader

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def _bucket(text: str) -> float:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) / 16**8


class FakeTrainer:
    """A "model" is ``[accuracy, salt]`` in quality.json: it predicts a row's label right when the
    salted hash of the row's text falls below the accuracy, else the next label. Models of one salt
    are nested (a better one is right wherever a worse one is); models of different salts err on
    unrelated rows."""

    def __init__(self, quality: float, salt: str = "") -> None:
        self.quality, self.salt = quality, salt
        self.fit_groups: set[str] = set()
        self.eval_groups: set[str] = set()
        self.base: Path | None = None

    def train(self, data: TextDataset, out_dir: Path, base_version: Path | None) -> dict[str, Any]:
        self.fit_groups, self.base = set(data.groups), base_version
        out_dir.mkdir(parents=True)
        (out_dir / "quality.json").write_text(json.dumps([self.quality, self.salt]))
        return {"trained_rows": len(data)}

    def predict(self, version_dirs: Sequence[Path], data: TextDataset) -> list[np.ndarray]:
        self.eval_groups = set(data.groups)
        out = []
        for d in version_dirs:
            accuracy, salt = json.loads((d / "quality.json").read_text())
            right = np.array([_bucket(salt + t) < accuracy for t in data.texts])
            predicted = np.where(right, data.labels, (data.labels + 1) % 3)
            out.append(np.eye(3, dtype=np.float32)[predicted])
        return out


class Control:
    def __init__(self, repo: ModelRepository, fail: bool = False) -> None:
        self.repo, self.fail = repo, fail

    def load(self, model: str) -> None:
        if self.fail:
            raise TritonControlError("no")

    def version_ready(self, model: str, version: int) -> bool:
        return True

    def wait_ready(self, model: str, version: int, timeout_s: float) -> bool:
        return True


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    model_dir = tmp_path / "repo" / "sentiment"
    (model_dir / "1").mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text('name: "sentiment"\nversion_policy: { specific: { versions: [1] } }\n')
    (model_dir / "1" / "model.py").write_text("# adapter\n")
    (model_dir / "1" / "quality.json").write_text('[0.6, ""]')
    repo = ModelRepository(tmp_path / "repo")
    return ModelRegistry(repo, Control(repo))


@pytest.fixture
def lake(tmp_path: Path) -> FeedbackSource:
    root = tmp_path / "lake"
    with LakeWriter(root) as writer:
        for i in range(600):
            row = {"event_id": f"r{i}", "text": f"review {i}", "rating": 1 + i % 5}
            writer.append("review", row, at=NOW - timedelta(hours=1 + i % 48))
        writer.append("review", {"event_id": "old", "text": "ancient", "rating": 5}, at=NOW - timedelta(days=30))
    return lake_reader(root)


def _job(**kw: Any) -> RetrainJob:
    return RetrainJob(request_id="req-1", model="sentiment", reason="drift", **kw)


def test_a_better_candidate_is_added_and_promoted(
    registry: ModelRegistry, lake: FeedbackSource, tmp_path: Path
) -> None:
    trainer = FakeTrainer(quality=0.7)
    outcome = run_retrain(_job(), lake, registry, trainer=trainer, work_dir=tmp_path, now=NOW)
    assert outcome.action == "promoted", outcome.detail
    assert (outcome.previous_version, outcome.version, outcome.candidate_version) == (1, 2, 2)
    assert registry.served_version("sentiment") == 2
    assert trainer.base == registry.repository.version_dir("sentiment", 1)
    assert trainer.fit_groups.isdisjoint(trainer.eval_groups)
    assert len(trainer.fit_groups) + len(trainer.eval_groups) == 600  # the 30-day-old row is outside the lookback
    assert outcome.rows == {"labelled": 600, "fit": len(trainer.fit_groups), "eval": len(trainer.eval_groups)}
    assert abs(outcome.metrics["candidate_accuracy"] - 0.7) < 0.08
    assert abs(outcome.metrics["serving_accuracy"] - 0.6) < 0.08
    assert "wins on 100.0% of 1000 paired bootstrap resamples" in outcome.detail
    meta = registry.repository.versions("sentiment")[1].meta
    assert meta["retrain"]["request_id"] == "req-1" and meta["trained_rows"] == len(trainer.fit_groups)
    assert (registry.repository.version_dir("sentiment", 2) / "model.py").read_text() == "# adapter\n"
    assert registry.history("sentiment").stack == [1, 2]
    assert list(tmp_path.glob("retrain-*")) == []  # the work folder is cleaned up


def test_a_candidate_within_the_margin_is_rejected_and_discarded(registry: ModelRegistry, lake: FeedbackSource) -> None:
    outcome = run_retrain(_job(policy=PromotionPolicy(margin=0.05)), lake, registry, trainer=FakeTrainer(0.64), now=NOW)
    assert outcome.action == "rejected" and "does not beat" in outcome.detail
    assert outcome.version == 1 and outcome.candidate_version is None
    assert registry.repository.version_numbers("sentiment") == [1]


def test_a_gain_that_resampling_does_not_confirm_is_rejected(registry: ModelRegistry, lake: FeedbackSource) -> None:
    # errs on other rows than the serving version: a few points better on average, not reliably
    trainer = FakeTrainer(0.64, salt="other")
    outcome = run_retrain(_job(policy=PromotionPolicy(margin=0.0)), lake, registry, trainer=trainer, now=NOW)
    candidate, serving = outcome.metrics["candidate_macro_f1"], outcome.metrics["serving_macro_f1"]
    assert candidate > serving, (candidate, serving)  # it does beat the serving version on these rows
    assert outcome.action == "rejected" and "paired bootstrap resamples (need 95%)" in outcome.detail
    no_test = run_retrain(_job(policy=PromotionPolicy(margin=0.0, confidence=0.0)), lake, registry,
                          trainer=trainer, now=NOW)
    assert no_test.action == "promoted", no_test.detail


def test_too_little_feedback_skips_without_training(registry: ModelRegistry, lake: FeedbackSource) -> None:
    trainer = FakeTrainer(0.9)
    outcome = run_retrain(_job(min_rows=1000), lake, registry, trainer=trainer, now=NOW)
    assert outcome.action == "skipped" and "600 labelled rows" in outcome.detail and outcome.short_of_rows
    assert trainer.fit_groups == set()
    later = run_retrain(_job(), lake, registry, trainer=trainer, now=NOW + timedelta(days=60))
    assert later.action == "skipped" and later.rows == {"labelled": 0}
    small_eval = run_retrain(_job(eval_fraction=0.05), lake, registry, trainer=trainer, now=NOW)
    assert small_eval.action == "skipped" and "evaluation rows" in small_eval.detail and small_eval.short_of_rows


def test_models_without_a_trainer_are_skipped(lake: FeedbackSource, tmp_path: Path) -> None:
    model_dir = tmp_path / "repo2" / "anomaly"
    (model_dir / "1").mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text('name: "anomaly"\n')
    outcome = run_retrain(
        RetrainJob(request_id="r", model="anomaly"), lake, ModelRegistry(ModelRepository(tmp_path / "repo2")), now=NOW
    )
    assert outcome.action == "skipped" and "no trainer" in outcome.detail and not outcome.short_of_rows


def test_a_failed_promotion_is_reported_not_raised(registry: ModelRegistry, lake: FeedbackSource) -> None:
    failing = ModelRegistry(registry.repository, Control(registry.repository, fail=True))
    outcome = run_retrain(_job(), lake, failing, trainer=FakeTrainer(0.9), now=NOW)
    assert outcome.action == "rejected" and "promotion failed" in outcome.detail
    assert outcome.candidate_version == 2 and outcome.version == 1
    assert registry.served_version("sentiment") == 1
