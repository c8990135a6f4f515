"""A sentiment candidate fine-tuned from a classifier version (version 2 format) on feedback rows:
:func:`fine_tune_candidate`, bounded by a :class:`RetrainBudget`. Runs in one process, or as every
rank of a torchrun job (models/retrain/distributed.py), where rank 0 alone measures and writes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.sentiment.classifier import load_classifier, predict_texts, save_classifier
from channelpulse.models.sentiment.data import TextDataset, split
from channelpulse.models.sentiment.distributed import world
from channelpulse.models.sentiment.evaluate import classification_metrics, domain_metrics
from channelpulse.models.sentiment.finetune import fine_tune
from channelpulse.models.sentiment.recipe_config import FineTuneConfig


@dataclass(frozen=True)
class RetrainBudget:
    """How far a fine-tuned sentiment candidate trains: ``epochs`` over the feedback rows, cut at
    ``max_steps`` steps and ``max_seconds`` seconds (whichever comes first; the learning-rate
    schedule is planned for the step bound). ~600 feedback rows -> 30 steps per epoch. On ``N``
    ranks a step trains on ``N`` batches, so a run has 1/N of the steps."""

    epochs: float = 2.0
    batch_size: int = 16
    max_steps: int = 80
    max_seconds: float = 120.0
    lr: float = 2e-5
    head_lr: float = 2e-4
    warmup_fraction: float = 0.1
    seed: int = 0

    def config(self, max_length: int) -> FineTuneConfig:
        return FineTuneConfig(
            epochs=self.epochs, batch_size=self.batch_size, max_length=max_length, lr=self.lr, head_lr=self.head_lr,
            warmup_fraction=self.warmup_fraction, seed=self.seed, checkpoint_every=0, max_steps=self.max_steps,
            max_seconds=self.max_seconds,
        )


def fine_tune_candidate(
    data: TextDataset,
    out_dir: Path,
    base_version: Path,
    budget: RetrainBudget,
    *,
    device: str | None = None,
    progress: bool = True,
) -> dict[str, Any] | None:
    """Fine-tune the classifier in ``base_version`` on the hash-train split of ``data``, measure and
    profile it on the hash-test split, write the version folder to ``out_dir``; returns its meta
    (None on the ranks other than 0 of a process group: they only train)."""
    model, tokenizer, base_meta = load_classifier(base_version, device)
    train, holdout = split(data)
    if len(train) == 0 or len(holdout) < 2:
        raise ValueError(f"need training rows and >= 2 held-out rows (have {len(train)} / {len(holdout)})")
    max_length = int(base_meta.get("max_length", 128))
    config = budget.config(int(base_meta.get("training", {}).get("config", {}).get("max_length", 64)))
    report = fine_tune(model, tokenizer, train, config, progress=progress)
    if not world().is_main:
        return None
    probs, embeddings = predict_texts(model, tokenizer, holdout.texts, max_length=max_length)
    metrics = {**classification_metrics(probs.argmax(axis=1), holdout.labels),
               **domain_metrics(probs, holdout.labels)}
    meta = {
        "version": out_dir.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "max_length": max_length,
        "encoder": {k: v for k, v in base_meta.get("encoder", {}).items() if k == "base_checkpoint"},
        "base_version": base_version.name,
        "training": {
            "kind": "fine-tune from the serving version on feedback",
            "budget": asdict(budget),
            "config": asdict(config),
            "device": str(next(model.parameters()).device),
            "train": train.describe(),
            "holdout": holdout.describe(),
            "run": report.describe(),
        },
        "metrics": {"holdout": {k: round(float(v), 4) for k, v in metrics.items()}},
    }
    written = save_classifier(model, tokenizer, out_dir, meta)
    ReferenceProfile.build(probs, embeddings, SENTIMENT_LABELS).save(out_dir)
    return written
