"""Classification quality: accuracy, macro-F1 and per-class F1 over SENTIMENT_LABELS."""

from __future__ import annotations

import numpy as np

from models.contract import SENTIMENT_LABELS
from models.sentiment.data import TextDataset
from models.sentiment.model import SentimentModel


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
