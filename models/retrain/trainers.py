"""Trainers run_retrain can use: train a candidate folder from labelled texts, and score version
folders on the same labelled texts. The sentiment one wraps models.sentiment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.contract import SENTIMENT_MODEL
from models.sentiment.data import TextDataset
from models.sentiment.evaluate import classification_metrics
from models.sentiment.model import META_FILE, SentimentModel
from models.sentiment.training import TrainConfig, train_version


class TextTrainer(Protocol):
    def train(self, data: TextDataset, out_dir: Path, base_version: Path | None) -> dict[str, Any]:
        """Write a complete version folder (weights, meta.json, profile.json) to ``out_dir``; returns its meta."""
        ...

    def evaluate(self, version_dirs: Sequence[Path], data: TextDataset) -> list[dict[str, float]]:
        """Metrics (``accuracy``, ``macro_f1``, ...) of each version folder on ``data``."""
        ...


@dataclass(frozen=True)
class SentimentTrainer:
    """Sentiment candidates: the serving version's encoder checkpoint and training config, a new
    head fitted on the given rows (models.sentiment.training.train_version). ``device``: None picks
    CUDA when available, else the CPU; ``progress`` shows tqdm bars for embedding and fitting."""

    device: str | None = None
    progress: bool = True

    def train(self, data: TextDataset, out_dir: Path, base_version: Path | None) -> dict[str, Any]:
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

    def evaluate(self, version_dirs: Sequence[Path], data: TextDataset) -> list[dict[str, float]]:
        models = [SentimentModel.load(d, self.device) for d in version_dirs]
        embedded: dict[int, np.ndarray] = {}  # versions sharing an encoder embed the rows once
        out = []
        for model in models:
            key = id(model.encoder)
            if key not in embedded:
                embedded[key] = model.embed(data.texts, progress=self.progress)
            predicted = model.probs_from_embeddings(embedded[key]).argmax(axis=1)
            out.append(classification_metrics(predicted, data.labels))
        return out


TRAINERS: dict[str, type[SentimentTrainer]] = {SENTIMENT_MODEL: SentimentTrainer}
"""Models that can be retrained from labelled feedback, and their trainer."""
