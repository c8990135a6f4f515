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

from channelpulse.models.recommend.text_neighbours import Embedder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """``embed(texts)`` through a file cache; only texts not seen before reach ``embed``.

    With ``cached_only`` the encoder is never called: unknown texts get zero vectors (no look-alikes),
    and :meth:`prefetch` encodes a bounded number of them ahead, so each refresh pays for at most that
    many new texts and a large new catalog is placed over several refreshes."""

    def __init__(self, embed: Embedder, path: Path, cached_only: bool = False) -> None:
        self.embed = embed
        self.cached_only = cached_only
        self.path = Path(path)
        self.vectors: dict[str, np.ndarray] = {}
        self.encoded = 0
        """Texts this cache sent to the encoder (misses), for reports."""
        if self.path.is_file():
            with np.load(self.path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts not in the cache, in order."""
        return list(dict.fromkeys(t for t in texts if text_key(t) not in self.vectors))

    def prefetch(self, texts: Sequence[str], budget: int) -> int:
        """Encode up to ``budget`` of the texts not cached yet; returns how many are still missing."""
        todo = self.missing(texts)
        chunk = todo[: max(0, budget)]
        if chunk:
            fresh = np.asarray(self.embed(chunk), dtype=np.float32)
            self.vectors.update(zip((text_key(t) for t in chunk), fresh, strict=True))
            self.encoded += len(chunk)
            self.save()
        return len(todo) - len(chunk)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not self.cached_only:
            self.prefetch(texts, len(texts))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        dim = next(iter(self.vectors.values())).shape[0] if self.vectors else 1
        zero = np.zeros(dim, dtype=np.float32)
        return np.stack([self.vectors.get(text_key(t), zero) for t in texts])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}.tmp.npz")
        keys = list(self.vectors)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        os.replace(tmp, self.path)
