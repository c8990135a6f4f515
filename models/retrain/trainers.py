"""Trainers run_retrain can use: train a candidate folder from labelled texts, and score version
folders on the same labelled texts. The sentiment one wraps models.sentiment.

A sentiment candidate starts from the serving version, in that version's format:

* a fine-tuned classifier (version 2 format, models/sentiment/classifier.py): the whole model
  (encoder + head) is fine-tuned further on the feedback rows' hash-train split
  (:class:`RetrainBudget`: at most ``max_steps`` AdamW steps and ``max_seconds`` of wall time,
  by default 2 epochs of batches of 16, <= 80 steps, <= 120 s, lr 2e-5, warm-up 10%), keeping
  the base version's calibration temperature; measured and profiled on the hash-test split.
* a version 1 head (frozen encoder + head.safetensors) or no serving version: a new head on the
  serving version's encoder checkpoint and config (models.sentiment.training.train_version).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from models.drift.profile import ReferenceProfile
from models.sentiment.classifier import is_classifier_dir, load_classifier, predict_texts, save_classifier
from models.sentiment.data import TextDataset, split
from models.sentiment.evaluate import classification_metrics, domain_metrics
from models.sentiment.finetune import fine_tune
from models.sentiment.model import META_FILE, SentimentModel
from models.sentiment.recipe_config import FineTuneConfig
from models.sentiment.training import TrainConfig, train_version


class TextTrainer(Protocol):
    def train(self, data: TextDataset, out_dir: Path, base_version: Path | None) -> dict[str, Any]:
        """Write a complete version folder (weights, meta.json, profile.json) to ``out_dir``; returns its meta."""
        ...

    def predict(self, version_dirs: Sequence[Path], data: TextDataset) -> list[np.ndarray]:
        """Class probabilities (rows x labels) of each version folder on ``data``."""
        ...


def metrics_of(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``accuracy``, ``macro_f1``, per-class F1 (argmax) and the per-domain figures (binary
    accuracy, ECE) of class probabilities against ``labels``."""
    return {**classification_metrics(probs.argmax(axis=1), labels), **domain_metrics(probs, labels)}


@dataclass(frozen=True)
class RetrainBudget:
    """How far a fine-tuned sentiment candidate trains: ``epochs`` over the feedback rows, cut at
    ``max_steps`` steps and ``max_seconds`` seconds (whichever comes first; the learning-rate
    schedule is planned for the step bound). ~600 feedback rows -> 30 steps per epoch."""

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


@dataclass(frozen=True)
class SentimentTrainer:
    """Sentiment candidates from the serving version (see the module docstring). ``device``: None
    picks CUDA when available, else the CPU; ``progress`` shows tqdm bars."""

    device: str | None = None
    progress: bool = True
    budget: RetrainBudget = field(default_factory=RetrainBudget)

    def train(self, data: TextDataset, out_dir: Path, base_version: Path | None) -> dict[str, Any]:
        if base_version is not None and is_classifier_dir(base_version):
            return self._fine_tune(data, Path(out_dir), Path(base_version))
        checkpoint, config = None, TrainConfig()
        if base_version is not None:
            base = json.loads((Path(base_version) / META_FILE).read_text(encoding="utf-8"))
            checkpoint = base["encoder"]["checkpoint"]
            config = TrainConfig(**base.get("training", {}).get("config", {}))
        report = train_version(
            data,
            out_dir,
            config=config,
            checkpoint=checkpoint,
            device=self.device,
            progress=self.progress,
            extra_meta={"base_version": Path(base_version).name} if base_version is not None else None,
        )
        return report.meta

    def _fine_tune(self, data: TextDataset, out_dir: Path, base_version: Path) -> dict[str, Any]:
        model, tokenizer, base_meta = load_classifier(base_version, self.device)
        train, holdout = split(data)
        if len(train) == 0 or len(holdout) < 2:
            raise ValueError(f"need training rows and >= 2 held-out rows (have {len(train)} / {len(holdout)})")
        max_length = int(base_meta.get("max_length", 128))
        config = self.budget.config(int(base_meta.get("training", {}).get("config", {}).get("max_length", 64)))
        report = fine_tune(model, tokenizer, train, config, progress=self.progress)
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
                "budget": asdict(self.budget),
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

    def evaluate(self, version_dirs: Sequence[Path], data: TextDataset) -> list[dict[str, float]]:
        """:func:`metrics_of` each version folder on ``data``."""
        return [metrics_of(p, data.labels) for p in self.predict(version_dirs, data)]

    def predict(self, version_dirs: Sequence[Path], data: TextDataset) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        embedded: dict[int, np.ndarray] = {}  # version 1 folders sharing an encoder embed the rows once
        for version_dir in version_dirs:
            if is_classifier_dir(version_dir):
                model, tokenizer, meta = load_classifier(version_dir, self.device)
                probs, _ = predict_texts(model, tokenizer, data.texts, max_length=int(meta.get("max_length", 128)))
            else:
                head_model = SentimentModel.load(version_dir, self.device)
                key = id(head_model.encoder)
                if key not in embedded:
                    embedded[key] = head_model.embed(data.texts, progress=self.progress)
                probs = head_model.probs_from_embeddings(embedded[key])
            out.append(probs)
        return out


TRAINERS: dict[str, type[SentimentTrainer]] = {SENTIMENT_MODEL: SentimentTrainer}
"""Models that can be retrained from labelled feedback, and their trainer."""
