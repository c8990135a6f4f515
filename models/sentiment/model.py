"""A sentiment model version: the shared sentence encoder plus a trained :class:`SentimentHead`.

A version folder holds ``head.safetensors`` (the head's weights), ``meta.json`` (name, version,
creation time, encoder checkpoint, training data, metrics) and ``profile.json`` (the drift
reference profile, models/drift/profile.py). The encoder itself is never copied: meta.json names
its checkpoint (see models/sentiment/encoding.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from channelpulse.models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from channelpulse.models.sentiment.encoding import embed_texts, encoder_for
from channelpulse.models.sentiment.head import SentimentHead
from channelpulse.models.sentiment.labels import score_from_probs
from channelpulse.models.text.encoder import TextEncoder

HEAD_FILE = "head.safetensors"
META_FILE = "meta.json"


class SentimentModel:
    """``predict(texts) -> (probs [n, 3] float32 in SENTIMENT_LABELS order, embeddings [n, dim])``."""

    def __init__(self, encoder: TextEncoder, head: SentimentHead, meta: dict[str, Any]) -> None:
        if head.dim != encoder.dim:
            raise ValueError(f"head expects {head.dim}-dim embeddings, the encoder gives {encoder.dim}")
        self.encoder = encoder
        self.head = head.to(encoder.device).eval()
        self.meta = meta

    @classmethod
    def load(cls, version_dir: Path, device: str | None = None) -> SentimentModel:
        """The version in ``version_dir``; the encoder is shared per (checkpoint, device) in-process."""
        version_dir = Path(version_dir)
        meta = json.loads((version_dir / META_FILE).read_text(encoding="utf-8"))
        if meta.get("labels") != list(SENTIMENT_LABELS):
            raise ValueError(f"{version_dir}: labels {meta.get('labels')} differ from {SENTIMENT_LABELS}")
        state = load_file(str(version_dir / HEAD_FILE))
        head = SentimentHead(int(meta["encoder"]["dim"]))
        head.load_state_dict(state)
        encoder = encoder_for(meta["encoder"]["checkpoint"], device)
        return cls(encoder, head, meta)

    def save(self, version_dir: Path) -> None:
        """Write the head weights and meta.json into ``version_dir`` (created if missing)."""
        version_dir = Path(version_dir)
        version_dir.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().float().cpu().contiguous() for k, v in self.head.state_dict().items()}
        save_file(state, str(version_dir / HEAD_FILE), metadata={"name": SENTIMENT_MODEL})
        text = json.dumps(self.meta, indent=2, sort_keys=False) + "\n"
        (version_dir / META_FILE).write_text(text, encoding="utf-8")

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def embed(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """The encoder's sentence embeddings ``[n, dim]`` (float32, L2-normalised)."""
        return embed_texts(self.encoder, texts, batch_size, progress)

    def probs_from_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        """Class probabilities ``[n, 3]`` (float32) of precomputed embeddings."""
        x = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32)).to(self.encoder.device)
        return self.head.probabilities(x).cpu().numpy().astype(np.float32)

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities ``[n, 3]`` and embeddings ``[n, dim]`` of ``texts`` (both float32)."""
        if len(texts) == 0:
            return np.zeros((0, len(SENTIMENT_LABELS)), np.float32), np.zeros((0, self.dim), np.float32)
        embeddings = self.embed(texts, batch_size)
        return self.probs_from_embeddings(embeddings), embeddings

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Signed scores ``p(positive) - p(negative)`` in [-1, 1]."""
        return score_from_probs(self.predict(texts)[0])
