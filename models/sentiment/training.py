"""Training a sentiment version: embed the sentences once with the frozen shared encoder, fit the
linear head (L2-regularised multinomial logistic regression, full-batch L-BFGS), evaluate on
held-out data, write the version folder.

Deterministic: the encoder runs in eval mode, the head's initialisation comes from
``TrainConfig.seed`` and full-batch L-BFGS has no sampling. Uses CUDA when available (or asked
for), else the CPU.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from channelpulse.models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.sentiment.data import DEFAULT_TEST_FRACTION, TextDataset, split_indices
from channelpulse.models.sentiment.encoding import checkpoint_reference, embed_texts, encoder_for
from channelpulse.models.sentiment.evaluate import classification_metrics
from channelpulse.models.sentiment.head import SentimentHead
from channelpulse.models.sentiment.model import HEAD_FILE, META_FILE, SentimentModel


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of the head (defaults: what version 1 was trained with)."""

    max_iter: int = 200  # L-BFGS iterations; each evaluates the loss on all training rows once
    l2: float = 1e-4  # penalty l2 * ||W||^2 on the weights (not the bias)
    balance_classes: bool = False  # weight the loss by inverse class frequency (favours macro-F1)
    seed: int = 0  # initialisation of the weights
    test_fraction: float = DEFAULT_TEST_FRACTION  # hash split used when no holdout is given


@dataclass(frozen=True)
class TrainReport:
    """What :func:`train_version` did; ``meta`` is what it wrote to meta.json."""

    version_dir: Path
    losses: list[float]
    metrics: dict[str, dict[str, float]]
    meta: dict[str, Any] = field(repr=False)

    @property
    def holdout(self) -> dict[str, float]:
        """Metrics on the held-out data."""
        return self.metrics["holdout"]


@contextmanager
def _single_thread(device: torch.device) -> Iterator[None]:
    """One torch thread while fitting on the CPU: the head's arithmetic is too small to gain from
    more, and on a busy machine idle-spinning OpenMP threads slowed it twentyfold (measured)."""
    before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_head(
    embeddings: np.ndarray,
    labels: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    progress: bool = False,
) -> tuple[SentimentHead, list[float]]:
    """A :class:`SentimentHead` fitted to ``embeddings [n, dim]`` / ``labels [n]`` by full-batch
    L-BFGS on the (optionally class-weighted) cross-entropy + L2 penalty: an L2-regularised
    multinomial logistic regression. Returns the head and the loss at every evaluation."""
    if len(labels) == 0:
        raise ValueError("no training rows")
    torch.manual_seed(config.seed)
    x = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32)).to(device)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    head = SentimentHead(x.shape[1]).to(device)
    weight = None
    if config.balance_classes:
        counts = torch.bincount(y, minlength=len(SENTIMENT_LABELS)).float().clamp(min=1)
        weight = len(y) / (len(SENTIMENT_LABELS) * counts)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    optimizer = torch.optim.LBFGS(
        head.parameters(), lr=1.0, max_iter=config.max_iter, history_size=20, line_search_fn="strong_wolfe"
    )
    losses: list[float] = []
    bar = tqdm(total=config.max_iter, desc="fitting head", unit="it", disable=not progress, leave=False)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_fn(head(x), y) + config.l2 * head.linear.weight.pow(2).sum()
        loss.backward()
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        return loss

    with bar, _single_thread(device):
        head.train()
        optimizer.step(closure)
    head.eval()
    return head, losses


def _check_sizes(train: TextDataset, holdout: TextDataset, eval_sets: Mapping[str, TextDataset]) -> None:
    if len(train) == 0:
        raise ValueError("no training rows")
    if len(holdout) < 2:
        raise ValueError("need at least 2 held-out rows for metrics and the drift profile")
    empty = [name for name, data in eval_sets.items() if len(data) == 0]
    if empty:
        raise ValueError(f"evaluation sets without rows: {', '.join(empty)}")


def train_version(
    train: TextDataset,
    out_dir: Path,
    *,
    holdout: TextDataset | None = None,
    eval_sets: Mapping[str, TextDataset] | None = None,
    config: TrainConfig | None = None,
    checkpoint: str | None = None,
    device: str | None = None,
    progress: bool = True,
    train_embeddings: np.ndarray | None = None,
    extra_meta: Mapping[str, Any] | None = None,
) -> TrainReport:
    """Train a version on ``train`` and write it to ``out_dir`` (head.safetensors, meta.json, profile.json).

    ``holdout`` is what metrics and the drift profile are computed on; when None, ``train`` is split
    by its fixed hash split (``config.test_fraction``) into training and held-out rows. ``eval_sets``
    are further named datasets to report metrics on (e.g. another domain). ``checkpoint`` is the
    encoder (default: $CHANNELPULSE_ENCODER_CHECKPOINT, else the packaged all-MiniLM-L6-v2).
    ``train_embeddings`` (``[len(train), dim]``, from the same encoder, e.g. Triton's EMBEDDING
    outputs) skips encoding the training sentences.
    """
    config = config or TrainConfig()
    out_dir = Path(out_dir)
    started = time.perf_counter()
    reference = checkpoint_reference(checkpoint)
    encoder = encoder_for(reference, device)
    if train_embeddings is not None and train_embeddings.shape != (len(train), encoder.dim):
        raise ValueError(f"train_embeddings must be [{len(train)}, {encoder.dim}]")
    holdout_embeddings = None
    if holdout is None:
        train_idx, test_idx = split_indices(train, config.test_fraction)
        holdout = train.subset(test_idx, f"{train.source} [test split]")
        train = train.subset(train_idx, f"{train.source} [train split]")
        if train_embeddings is not None:
            train_embeddings, holdout_embeddings = train_embeddings[train_idx], train_embeddings[test_idx]
    _check_sizes(train, holdout, eval_sets or {})
    if train_embeddings is None:
        train_embeddings = embed_texts(encoder, train.texts, progress=progress, desc="embedding train")
    if holdout_embeddings is None:
        holdout_embeddings = embed_texts(encoder, holdout.texts, progress=progress, desc="embedding holdout")
    embedded = time.perf_counter()

    head, losses = fit_head(train_embeddings, train.labels, config, encoder.device, progress)
    fitted = time.perf_counter()

    meta: dict[str, Any] = {
        "name": SENTIMENT_MODEL,
        "version": out_dir.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": list(SENTIMENT_LABELS),
        "score": "p(positive) - p(negative)",
        "encoder": {"checkpoint": reference, "dim": encoder.dim, "max_tokens": encoder.max_tokens},
        "head": {"type": "linear softmax on L2-normalised embeddings", "file": HEAD_FILE},
    }
    model = SentimentModel(encoder, head, meta)
    holdout_probs = model.probs_from_embeddings(holdout_embeddings)
    metrics = {"holdout": classification_metrics(holdout_probs.argmax(axis=1), holdout.labels)}
    for name, data in (eval_sets or {}).items():
        probs = model.probs_from_embeddings(embed_texts(encoder, data.texts, progress=progress, desc=name))
        metrics[name] = classification_metrics(probs.argmax(axis=1), data.labels)
    meta["training"] = {
        "config": asdict(config),
        "device": str(encoder.device),
        "train": train.describe(),
        "holdout": holdout.describe(),
        "final_loss": round(losses[-1], 5),
        "seconds": {
            "embedding": round(embedded - started, 1),
            "fit": round(fitted - embedded, 1),
            "total": round(time.perf_counter() - started, 1),
        },
    }
    meta["metrics"] = {k: {m: round(v, 4) for m, v in d.items()} for k, d in metrics.items()}
    meta.update(extra_meta or {})
    model.save(out_dir)
    ReferenceProfile.build(holdout_probs, holdout_embeddings, SENTIMENT_LABELS).save(out_dir)
    return TrainReport(out_dir, losses, metrics, meta)


def train_candidate(
    data: TextDataset,
    out_dir: Path,
    *,
    base_version: Path | None = None,
    embeddings: np.ndarray | None = None,
    eval_sets: Mapping[str, TextDataset] | None = None,
    device: str | None = None,
) -> TrainReport:
    """A retraining candidate from arbitrary labelled ``data``, quickly and without progress bars.

    Trains on the hash-train split of ``data`` and measures on its hash-test split. With
    ``base_version`` (the serving version folder) the candidate keeps that version's encoder
    checkpoint and training config, so its embeddings and drift profile are comparable.
    ``embeddings`` (``[len(data), dim]``, e.g. collected from Triton's EMBEDDING output) skip the
    encoder entirely for the training rows.
    """
    checkpoint = None
    config = TrainConfig()
    if base_version is not None:
        base = json.loads((Path(base_version) / META_FILE).read_text(encoding="utf-8"))
        checkpoint = base["encoder"]["checkpoint"]
        config = TrainConfig(**base.get("training", {}).get("config", {}))
    return train_version(
        data,
        out_dir,
        eval_sets=eval_sets,
        config=config,
        checkpoint=checkpoint,
        device=device,
        progress=False,
        train_embeddings=embeddings,
        extra_meta={"base_version": str(base_version)} if base_version is not None else None,
    )
