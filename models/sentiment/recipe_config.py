"""The settings of a fine-tuning run and of the training mix (no torch import, so the command line
can read the defaults cheaply). Used by models/sentiment/finetune.py and models/sentiment/recipe.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FineTuneConfig:
    """Optimisation settings of one fine-tuning run (defaults: the CPU recipe of version 2)."""

    epochs: float = 2.0
    batch_size: int = 32
    max_length: int = 64  # training truncation (tokens); inference uses meta.json max_length
    lr: float = 8e-5  # encoder
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    class_weight_power: float = 0.5
    freeze_word_embeddings: bool = True  # the 30k x 384 token table (half the weights) stays pretrained
    frozen_layers: int = 2  # embeddings + the lowest transformer layers stay pretrained (1.25x faster on 2 cores)
    sort_chunk: int = 50  # batches per length-sorted chunk
    seed: int = 0
    checkpoint_every: int = 200  # steps between resumable states (0: never)
    max_steps: int | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class MixConfig:
    """Training rows drawn from each source (None: all of its training split), seeded."""

    sst2: int | None = 20_000
    semeval: int | None = None
    finance: int | None = None
    movie: int | None = None
