"""Trainers run_retrain can use: train a candidate folder from labelled texts, and score version
folders on the same labelled texts. The sentiment one wraps channelpulse.models.sentiment.

A sentiment candidate starts from the serving version, in that version's format:

* a fine-tuned classifier (version 2 format, models/sentiment/classifier.py): the whole model
  (encoder + head) is fine-tuned further on the feedback rows' hash-train split
  (:class:`RetrainBudget`: at most ``max_steps`` AdamW steps and ``max_seconds`` of wall time,
  by default 2 epochs of batches of 16, <= 80 steps, <= 120 s, lr 2e-5, warm-up 10%), keeping
  the base version's calibration temperature; measured and profiled on the hash-test split
  (models/retrain/candidate.py). With ``nproc`` > 1 the fine-tune runs as a torchrun job of that
  many processes (models/retrain/distributed.py), a step then training on ``nproc`` batches.
* a version 1 head (frozen encoder + head.safetensors) or no serving version: a new head on the
  serving version's encoder checkpoint and config (channelpulse.models.sentiment.training.train_version).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from channelpulse.models.contract import SENTIMENT_MODEL
from channelpulse.models.retrain.candidate import RetrainBudget, fine_tune_candidate
from channelpulse.models.retrain.distributed import fine_tune_distributed
from channelpulse.models.sentiment.classifier import is_classifier_dir, load_classifier, predict_texts
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.evaluate import classification_metrics, domain_metrics
from channelpulse.models.sentiment.model import META_FILE, SentimentModel
from channelpulse.models.sentiment.training import TrainConfig, train_version


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
class SentimentTrainer:
    """Sentiment candidates from the serving version (see the module docstring). ``device``: None
    picks CUDA when available, else the CPU; ``progress`` shows tqdm bars; ``nproc`` > 1 fine-tunes
    a classifier version on that many torchrun processes (DDP, a GPU each when there are GPUs)."""

    device: str | None = None
    progress: bool = True
    budget: RetrainBudget = field(default_factory=RetrainBudget)
    nproc: int = 1

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
        if self.nproc > 1:
            return fine_tune_distributed(data, out_dir, base_version, self.budget, self.nproc, device=self.device)
        meta = fine_tune_candidate(data, out_dir, base_version, self.budget, device=self.device,
                                   progress=self.progress)
        assert meta is not None  # one process: rank 0
        return meta

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
