"""Building a fine-tuned sentiment version (version 2 format) from the shared corpus.

:func:`build_mix` draws the training mix (:class:`MixConfig`: rows per source, None = all) from
:class:`~channelpulse.models.sentiment.corpus.Corpus`; :func:`train_classifier_version` fine-tunes the
classifier on it, fits the calibration temperature on the pooled validation sets, measures every
validation and test domain (models/sentiment/evaluate.py ``domain_metrics``), and writes the
version folder (classifier.py format) with meta.json and the drift profile.json built from the
validation rows' probabilities and embeddings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.sentiment.classifier import (
    DEFAULT_MAX_LENGTH,
    SentimentClassifier,
    new_classifier,
    predict_texts,
    save_classifier,
)
from channelpulse.models.sentiment.corpus import Corpus
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.distributed import world
from channelpulse.models.sentiment.encoding import checkpoint_reference, resolve_checkpoint
from channelpulse.models.sentiment.evaluate import domain_metrics, expected_calibration_error
from channelpulse.models.sentiment.finetune import clear_state, fine_tune, fit_temperature
from channelpulse.models.sentiment.recipe_config import FineTuneConfig, MixConfig
from channelpulse.models.text.encoder import pick_device


def build_mix(corpus: Corpus, mix: MixConfig, seed: int) -> TextDataset:
    """The training rows of every source in ``mix``, each capped (seeded sample without replacement)."""
    rng = np.random.default_rng(seed)
    parts = []
    for name, cap in asdict(mix).items():
        data = corpus.train[name]
        if cap is not None and cap < len(data):
            data = data.subset(np.sort(rng.choice(len(data), size=cap, replace=False)), f"{name} [{cap} sampled]")
        else:
            data = data.subset(np.arange(len(data)), name)
        parts.append(data)
    return TextDataset.concat(parts)


def _round(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in metrics.items()}


def measure(
    model: SentimentClassifier,
    tokenizer: Any,
    sets: Mapping[str, TextDataset],
    max_length: int,
    progress: bool,
    desc: str,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``name -> (probs, embeddings)`` of each dataset."""
    out = {}
    for name, data in tqdm(sets.items(), desc=desc, unit="set", disable=not progress):
        out[name] = predict_texts(model, tokenizer, data.texts, max_length=max_length)
    return out


def train_classifier_version(
    corpus: Corpus,
    out_dir: Path,
    *,
    mix: MixConfig | None = None,
    config: FineTuneConfig | None = None,
    checkpoint: str | None = None,
    device: str | None = None,
    work_dir: Path | None = None,
    resume: bool = False,
    test: bool = True,
    progress: bool = True,
    extra_meta: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Fine-tune, calibrate, evaluate and write a version folder to ``out_dir``; returns its meta.
    Under torchrun every rank fine-tunes (models/sentiment/finetune.py); rank 0 alone goes on to
    calibrate, evaluate and write, the other ranks return None."""
    mix = mix or MixConfig()
    config = config or FineTuneConfig()
    started = time.perf_counter()
    reference = checkpoint_reference(checkpoint)
    torch.manual_seed(config.seed)
    model, tokenizer = new_classifier(resolve_checkpoint(reference))
    model = model.to(pick_device(device))
    train = build_mix(corpus, mix, config.seed)
    report = fine_tune(model, tokenizer, train, config, work_dir=work_dir, resume=resume, progress=progress)
    tuned = time.perf_counter()
    if not world().is_main:
        return None

    validation = measure(model, tokenizer, corpus.validation, DEFAULT_MAX_LENGTH, progress, "validation")
    val_probs = np.concatenate([p for p, _ in validation.values()])
    val_labels = np.concatenate([corpus.validation[n].labels for n in validation])
    temperature = fit_temperature(np.log(np.clip(val_probs, 1e-12, 1.0)), val_labels)
    model.temperature = temperature

    def calibrated(probs: np.ndarray) -> np.ndarray:
        z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)

    ece_before = expected_calibration_error(val_probs, val_labels)
    ece_after = expected_calibration_error(calibrated(val_probs), val_labels)
    metrics: dict[str, Any] = {
        "validation": {n: _round(domain_metrics(calibrated(p), corpus.validation[n].labels))
                       for n, (p, _) in validation.items()},
        "calibration": {"temperature": round(temperature, 4), "validation_ece_before": round(ece_before, 4),
                        "validation_ece_after": round(ece_after, 4)},
    }
    if test:
        tests = measure(model, tokenizer, corpus.test, DEFAULT_MAX_LENGTH, progress, "test")
        metrics["test"] = {n: _round(domain_metrics(p, corpus.test[n].labels)) for n, (p, _) in tests.items()}
    val_embeddings = np.concatenate([e for _, e in validation.values()])

    meta: dict[str, Any] = {
        "version": Path(out_dir).name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoder": {"base_checkpoint": reference},
        "training": {
            "mix": asdict(mix),
            "config": asdict(config),
            "device": str(next(model.parameters()).device),
            "train": train.describe(),
            "run": report.describe(),
            "seconds": {"fine_tune": round(tuned - started, 1), "total": round(time.perf_counter() - started, 1)},
        },
        "data": corpus.describe(),
        "metrics": metrics,
        **dict(extra_meta or {}),
    }
    written = save_classifier(model, tokenizer, Path(out_dir), meta)
    ReferenceProfile.build(calibrated(val_probs), val_embeddings, SENTIMENT_LABELS).save(Path(out_dir))
    clear_state(work_dir)
    return written
