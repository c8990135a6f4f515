"""Fine-tuning a :class:`SentimentClassifier` end to end (encoder + head), resumably.

The loop: AdamW (encoder ``lr``, head ``head_lr``, weight decay on matrices only; the embeddings and
the lowest ``frozen_layers`` transformer layers stay pretrained), linear warm-up
over ``warmup_fraction`` of the steps then linear decay to 0, gradient clipping at 1.0,
class-weighted cross-entropy (weights ``(n / (3 * n_class)) ** class_weight_power``, so 0.5 =
square-root inverse frequency). Batches come from :func:`plan_batches`: a seeded shuffle, cut into
chunks of ``sort_chunk`` batches that are sorted by length (dynamic padding pays for similar
lengths), batch order shuffled again. The plan depends only on the seed and the data, so a run
that resumes from ``work_dir/state.pt`` (written every ``checkpoint_every`` steps and after the
last one: weights, optimiser, scheduler, step) continues exactly where it stopped; the caller
removes the state once the version is written (:func:`clear_state`).

``max_steps`` / ``max_seconds`` bound a run (the retrainer uses them); the learning-rate schedule
is planned for the bounded step count, so a bounded run still decays to 0.

Distributed (under torchrun, in a process group of ``W`` ranks, models/sentiment/distributed.py):
the model is wrapped in DistributedDataParallel and step ``k`` of rank ``r`` takes planned batch
``k * W + r`` (:func:`rank_batches`), so one step trains on ``W`` planned batches (the global
batch) and a run has ``len(plan) // W`` steps, which the schedule and ``max_steps`` count. The
loss of each rank is its class-weighted sum over the global batch's weight sum, so the averaged
gradient is exactly that of one process over the whole global batch (whatever the class weights and
batch sizes). Rank 0 alone shows progress and writes the state (weights, optimiser and scheduler
are the same on every rank; the random state of each rank is kept); every rank resumes from it,
so ``work_dir`` must be shared. Dropout is seeded ``seed + rank``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from channelpulse.models.sentiment.classifier import SentimentClassifier
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.distributed import World, any_across, data_parallel, gather, sum_across, world
from channelpulse.models.sentiment.labels import NUM_LABELS
from channelpulse.models.sentiment.recipe_config import FineTuneConfig

STATE_FILE = "state.pt"


@dataclass(frozen=True)
class FineTuneReport:
    steps: int
    planned_steps: int
    examples: int
    seconds: float
    losses: list[float]
    resumed_from: int
    class_weights: list[float]
    ranks: int = 1

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds > 0 else float("nan")

    def describe(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "planned_steps": self.planned_steps,
            "examples": self.examples,
            "seconds": round(self.seconds, 1),
            "examples_per_second": round(self.examples_per_second, 1),
            "resumed_from_step": self.resumed_from,
            "ranks": self.ranks,
            "class_weights": [round(w, 4) for w in self.class_weights],
            "final_loss_mean_50": round(float(np.mean(self.losses[-50:])), 4) if self.losses else None,
        }


def plan_batches(
    texts: tuple[str, ...], batch_size: int, epochs: float, seed: int, sort_chunk: int
) -> list[np.ndarray]:
    """Row-index batches for ``epochs`` passes over ``texts`` (fractional epochs take a prefix of
    the last pass): shuffled, length-sorted within chunks of ``sort_chunk`` batches, batches shuffled."""
    rng = np.random.default_rng(seed)
    lengths = np.array([len(t) for t in texts])
    batches: list[np.ndarray] = []
    passes = max(1, math.ceil(epochs))
    for _ in range(passes):
        order = rng.permutation(len(texts))
        chunk = batch_size * sort_chunk
        epoch_batches: list[np.ndarray] = []
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            epoch_batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
        rng.shuffle(epoch_batches)
        batches.extend(epoch_batches)
    wanted = max(1, round(epochs * math.ceil(len(texts) / batch_size)))
    return batches[:wanted]


def rank_batches(batches: list[np.ndarray], ranks: World) -> list[np.ndarray]:
    """The batches ``ranks.rank`` trains on, one per step: planned batch ``k * size + rank`` at step
    ``k``, for ``len(batches) // size`` steps (the last ``len(batches) % size`` batches are dropped, so
    that every rank takes the same number of steps)."""
    steps = len(batches) // ranks.size
    return batches[ranks.rank :: ranks.size][:steps]


def class_weights(labels: np.ndarray, power: float) -> torch.Tensor:
    """``(n / (3 * n_c)) ** power`` per class (a class absent from ``labels`` gets weight 1)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_LABELS).astype(np.float64)
    weights = np.ones(NUM_LABELS)
    present = counts > 0
    weights[present] = (counts.sum() / (NUM_LABELS * counts[present])) ** power
    return torch.tensor(weights, dtype=torch.float32)


def freeze_lower_layers(model: SentimentClassifier, layers: int) -> None:
    """Keep the embeddings and the lowest ``layers`` transformer layers at their pretrained weights
    (no gradient, so no backward pass through them); the top layer always trains, so a shallower
    encoder freezes all but its top layer. ValueError for an encoder without the BERT-style
    ``embeddings`` / ``encoder.layer`` modules (train it with ``frozen_layers=0``)."""
    if layers <= 0:
        return
    embeddings = getattr(model.encoder, "embeddings", None)
    stack = getattr(getattr(model.encoder, "encoder", None), "layer", None)
    if embeddings is None or stack is None:
        raise ValueError(f"cannot freeze layers of {type(model.encoder).__name__}: no BERT-style "
                         "embeddings / encoder.layer modules (use frozen_layers=0)")
    for module in (embeddings, *stack[: min(layers, len(stack) - 1)]):
        for parameter in module.parameters():
            parameter.requires_grad_(False)


def _optimizer(model: SentimentClassifier, config: FineTuneConfig) -> torch.optim.AdamW:
    word_embeddings = model.encoder.get_input_embeddings().weight
    word_embeddings.requires_grad_(not config.freeze_word_embeddings)
    freeze_lower_layers(model, config.frozen_layers)
    groups: list[dict[str, Any]] = []
    for module, lr in ((model.encoder, config.lr), (model.head, config.head_lr)):
        trained = [p for p in module.parameters() if p.requires_grad]
        decay = [p for p in trained if p.ndim >= 2]
        no_decay = [p for p in trained if p.ndim < 2]
        groups.append({"params": decay, "lr": lr, "weight_decay": config.weight_decay})
        groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0})
    return torch.optim.AdamW(groups)


def _schedule(
    optimizer: torch.optim.Optimizer, total: int, warmup_fraction: float
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = max(1, round(warmup_fraction * total))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def fine_tune(
    model: SentimentClassifier,
    tokenizer: PreTrainedTokenizerBase,
    train: TextDataset,
    config: FineTuneConfig,
    *,
    work_dir: Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> FineTuneReport:
    """Train ``model`` in place on ``train``; returns what was done. With ``work_dir`` the state is
    saved every ``config.checkpoint_every`` steps and at the end; ``resume`` continues
    from a saved state (ValueError when the state belongs to another plan or number of ranks).
    In a process group every rank calls this with the same arguments (see the module docstring)."""
    if len(train) == 0:
        raise ValueError("no training rows")
    ranks = world()
    torch.manual_seed(config.seed + ranks.rank)
    device = next(model.parameters()).device
    planned = plan_batches(train.texts, config.batch_size, config.epochs, config.seed, config.sort_chunk)
    batches = rank_batches(planned, ranks)
    if not batches:
        raise ValueError(f"{len(planned)} planned batches cannot feed {ranks.size} ranks")
    total = len(batches) if config.max_steps is None else min(len(batches), config.max_steps)
    optimizer = _optimizer(model, config)
    scheduler = _schedule(optimizer, total, config.warmup_fraction)
    weights = class_weights(train.labels, config.class_weight_power).to(device)
    labels = torch.from_numpy(train.labels)
    state_path = Path(work_dir) / STATE_FILE if work_dir is not None else None
    plan = [total, len(train), config.seed, config.batch_size]
    start_step = 0
    losses: list[float] = []
    if resume and state_path is not None and state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=False)
        if state["plan"] != plan or state.get("ranks", 1) != ranks.size:
            raise ValueError(f"{state_path}: saved for another plan {state['plan']} on {state.get('ranks', 1)} "
                             f"rank(s), cannot resume")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_step, losses = int(state["step"]), list(state["losses"])
        torch.set_rng_state(state.get("rank_rng", [state["rng"]])[ranks.rank].cpu())
    net = data_parallel(model)
    net.train()
    started = time.perf_counter()
    examples = 0
    done = start_step
    bar = tqdm(total=total, initial=start_step, desc="fine-tuning", unit="step",
               disable=not progress or not ranks.is_main)
    with bar:
        for step in range(start_step, total):
            if config.max_seconds is not None and any_across(
                time.perf_counter() - started > config.max_seconds, device
            ):
                break
            idx = batches[step]
            batch = tokenizer([train.texts[i] for i in idx], padding=True, truncation=True,
                              max_length=config.max_length, return_tensors="pt").to(device)
            logits, _ = net(batch["input_ids"], batch["attention_mask"])
            y = labels[idx].to(device)
            summed = torch.nn.functional.cross_entropy(logits.float(), y, weight=weights, reduction="sum")
            # [loss sum, weight sum, rows] of the global batch; DDP averages the gradients over the
            # ranks, hence the factor size: the gradient is that of the global batch's weighted mean
            rows = torch.tensor(float(len(idx)), device=device)
            glob = sum_across(torch.stack([summed.detach(), weights[y].sum(), rows]))
            loss = summed * ranks.size / glob[1]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(glob[0] / glob[1]))
            examples += int(glob[2])
            bar.update(1)
            rate = examples / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", ex_s=f"{rate:.0f}")
            done = step + 1
            due = config.checkpoint_every and done % config.checkpoint_every == 0
            if state_path is not None and (due or done == total):
                rank_rng = gather(torch.get_rng_state())
                if ranks.is_main:
                    state_path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = state_path.with_suffix(".tmp")
                    torch.save({"plan": plan, "ranks": ranks.size, "step": done, "model": model.state_dict(),
                                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                "losses": losses, "rng": rank_rng[0], "rank_rng": rank_rng}, tmp)
                    tmp.replace(state_path)
    model.eval()
    return FineTuneReport(done, total, examples, time.perf_counter() - started, losses, start_step,
                          weights.tolist(), ranks.size)


def fit_temperature(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the NLL of ``softmax(log_probs / T)`` (log_probs: the model's
    uncalibrated log-probabilities, i.e. logits up to a constant per row) on held-out rows."""
    x = torch.from_numpy(np.asarray(log_probs, dtype=np.float64))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def clear_state(work_dir: Path | None) -> None:
    """Remove the resumable state of a finished run (no-op when there is none)."""
    if work_dir is not None:
        (Path(work_dir) / STATE_FILE).unlink(missing_ok=True)
