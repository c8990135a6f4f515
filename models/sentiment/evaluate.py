"""Classification quality: accuracy, macro-F1 and per-class F1 over SENTIMENT_LABELS; the
per-domain figures of version 2 (binary accuracy with neutral excluded, ECE of the max-prob);
:func:`evaluate_domains` of a version folder of either format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE
from channelpulse.models.sentiment.model import SentimentModel


def classification_metrics(predicted: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """``accuracy``, ``macro_f1`` (mean F1 over the three classes, a class absent from both
    counting as F1 0), ``f1_<label>`` per class and ``rows``."""
    pred = np.asarray(predicted, dtype=np.int64)
    gold = np.asarray(true, dtype=np.int64)
    if pred.shape != gold.shape:
        raise ValueError("predicted and true labels differ in shape")
    out: dict[str, float] = {"rows": float(len(gold))}
    out["accuracy"] = float((pred == gold).mean()) if len(gold) else float("nan")
    f1s = []
    for k, name in enumerate(SENTIMENT_LABELS):
        tp = int(((pred == k) & (gold == k)).sum())
        wrong = int(((pred == k) != (gold == k)).sum())  # false positives + false negatives
        f1 = 2 * tp / (2 * tp + wrong) if tp + wrong else 0.0
        out[f"f1_{name}"] = f1
        f1s.append(f1)
    out["macro_f1"] = float(np.mean(f1s))
    return out


def evaluate(model: SentimentModel, data: TextDataset, batch_size: int = 64) -> dict[str, float]:
    """:func:`classification_metrics` of ``model``'s argmax predictions on ``data``."""
    probs, _ = model.predict(data.texts, batch_size)
    return classification_metrics(probs.argmax(axis=1), data.labels)


ECE_BINS = 15


def binary_accuracy(probs: np.ndarray, true: np.ndarray) -> float:
    """Accuracy on the rows labelled negative or positive (neutral rows excluded), predicting the
    larger of p(negative) and p(positive); NaN when there are no such rows."""
    p = np.asarray(probs, dtype=np.float64)
    gold = np.asarray(true, dtype=np.int64)
    polar = gold != NEUTRAL
    if not polar.any():
        return float("nan")
    predicted = np.where(p[polar, POSITIVE] > p[polar, NEGATIVE], POSITIVE, NEGATIVE)
    return float((predicted == gold[polar]).mean())


def expected_calibration_error(probs: np.ndarray, true: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of the top-class probability: rows binned by max-prob into ``bins`` equal-width bins on
    [0, 1]; the row-weighted mean of |accuracy - mean confidence| per bin."""
    p = np.asarray(probs, dtype=np.float64)
    gold = np.asarray(true, dtype=np.int64)
    if len(gold) == 0:
        return float("nan")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == gold).astype(np.float64)
    index = np.clip((confidence * bins).astype(np.int64), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        rows = index == b
        if rows.any():
            total += rows.sum() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(total / len(gold))


def domain_metrics(probs: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """What the per-domain table reports: ``rows``, ``binary_accuracy`` (neutral excluded),
    ``macro_f1`` and ``accuracy`` over three classes (only when the domain has neutral rows),
    ``ece`` (15 bins, max-prob) and the per-class F1s."""
    gold = np.asarray(true, dtype=np.int64)
    out = {"rows": float(len(gold)), "binary_accuracy": binary_accuracy(probs, gold),
           "ece": expected_calibration_error(probs, gold)}
    if (gold == NEUTRAL).any():
        three = classification_metrics(np.asarray(probs).argmax(axis=1), gold)
        out.update({k: v for k, v in three.items() if k != "rows"})
    return out


def version_probs(version_dir: Path, texts: Sequence[str], device: str | None = None) -> np.ndarray:
    """Probabilities ``[n, 3]`` of a version folder of either format on ``texts``: a fine-tuned
    classifier (models/sentiment/classifier.py, calibrated) or a version 1 head."""
    from channelpulse.models.sentiment.classifier import is_classifier_dir, load_classifier, predict_texts

    if is_classifier_dir(version_dir):
        model, tokenizer, meta = load_classifier(version_dir, device)
        return predict_texts(model, tokenizer, texts, max_length=int(meta.get("max_length", 128)))[0]
    return SentimentModel.load(version_dir, device).predict(texts)[0]


def evaluate_domains(
    version_dir: Path, sets: Mapping[str, TextDataset], device: str | None = None
) -> dict[str, dict[str, float]]:
    """:func:`domain_metrics` of a version folder on each named dataset (one model load)."""
    names = list(sets)
    texts = [t for n in names for t in sets[n].texts]
    probs = version_probs(version_dir, texts, device)
    out, row = {}, 0
    for name in names:
        part = probs[row : row + len(sets[name])]
        row += len(sets[name])
        out[name] = domain_metrics(part, sets[name].labels)
    return out
