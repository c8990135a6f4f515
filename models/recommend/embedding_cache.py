"""Text embeddings kept on disk between refreshes, so each catalog text is encoded once.

The sentence encoder costs milliseconds of CPU per item; a refresh of a 100k-item catalog would
spend minutes re-encoding texts it already knows. :class:`CachedEmbedder` wraps an embedder and
keeps ``sha1(text) -> vector`` in one ``.npz`` file (written under a temporary name, then renamed).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.recommend.text_neighbours import Embedder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """``embed(texts)`` through a file cache; only texts not seen before reach ``embed``."""

    def __init__(self, embed: Embedder, path: Path) -> None:
        self.embed = embed
        self.path = Path(path)
        self.vectors: dict[str, np.ndarray] = {}
        self.encoded = 0
        """Texts this cache sent to the encoder (misses), for reports."""
        if self.path.is_file():
            with np.load(self.path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            fresh = np.asarray(self.embed([by_key[k] for k in missing]), dtype=np.float32)
            self.vectors.update(zip(missing, fresh, strict=True))
            self.encoded += len(missing)
            self.save()
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.vectors[k] for k in keys])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}.tmp.npz")
        keys = list(self.vectors)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        os.replace(tmp, self.path)
