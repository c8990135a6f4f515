"""Catalog-text neighbours: what gives cold and new items (few or no clicks yet) neighbours.

Items are embedded with the shared sentence encoder (title, description, categories); each item's
``n`` most similar items are its *look-alikes*. An item with little click evidence (``warmth =
1 - exp(-users / warm_users)`` near 0) borrows the click-stream neighbours of its warm look-alikes:
as a candidate it scores like the average of its look-alikes' columns, as a history item it points
at its look-alikes' neighbours. Both terms fade as the item gathers clicks, so between well-clicked
items the click stream decides alone; text never ranks two warm items against each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from channelpulse.models.recommend.cooccurrence import Coo

Embedder = Callable[[Sequence[str]], np.ndarray]


def item_text(item: Mapping[str, Any]) -> str:
    """The text an item is embedded from."""
    categories = ", ".join(str(c) for c in item.get("categories", []) or [])
    return f"{item.get('title', '')}. {item.get('description', '')} Categories: {categories}."


def shared_embedder(checkpoint: str | None = None) -> Embedder:
    """The project's shared sentence encoder (models/text/encoder.py); ``checkpoint`` defaults to
    CHANNELPULSE_ENCODER_CHECKPOINT, else the packaged all-MiniLM-L6-v2."""
    from channelpulse.models.text.encoder import shared_encoder

    return shared_encoder(checkpoint).encode


def catalog_embeddings(catalog: Sequence[Mapping[str, Any]], ids: Sequence[str], embed: Embedder) -> np.ndarray:
    """L2-normalised text embeddings aligned with ``ids``; items absent from the catalog get zeros."""
    texts = {str(item["item_id"]): item_text(item) for item in catalog}
    known = [i for i in ids if i in texts]
    if not known:
        return np.zeros((len(ids), 1), dtype=np.float32)
    vectors = np.asarray(embed([texts[i] for i in known]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    out = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    position = {item: n for n, item in enumerate(ids)}
    out[[position[i] for i in known]] = vectors
    return out


def text_neighbours(
    embeddings: np.ndarray, n: int, floor: float, rows: np.ndarray | None = None, block: int = 1024
) -> Coo:
    """The ``n`` nearest items by cosine of each item of ``rows`` (default: all), valued
    ``(sim - floor) / (1 - floor)`` (> 0 only). Cost: ``len(rows) x items`` dot products."""
    emb = torch.from_numpy(embeddings)
    size = emb.shape[0]
    queries = torch.arange(size) if rows is None else torch.from_numpy(np.asarray(rows, dtype=np.int64))
    k = min(n + 1, size)
    out_rows, cols, vals = [], [], []
    for start in range(0, int(queries.shape[0]), block):
        which = queries[start : start + block]
        sims = emb[which] @ emb.T
        sims[torch.arange(which.shape[0]), which] = -1.0  # never its own neighbour
        top, idx = torch.topk(sims, k, dim=1)
        out_rows.append(which[:, None].expand(-1, k).reshape(-1).numpy())
        cols.append(idx.reshape(-1).numpy())
        vals.append(((top.reshape(-1) - floor) / (1.0 - floor)).double().numpy())
    if not out_rows:
        empty = np.zeros(0, dtype=np.int64)
        return Coo.coalesce(empty, empty, np.zeros(0), size)
    r, c, v = np.concatenate(out_rows), np.concatenate(cols), np.concatenate(vals)
    keep = v > 0
    return Coo.coalesce(r[keep].astype(np.int64), c[keep].astype(np.int64), v[keep], size)


def warmth(users: np.ndarray, warm_users: float) -> np.ndarray:
    """How much click evidence each item has, in [0, 1): ``1 - exp(-users / warm_users)``."""
    return 1.0 - np.exp(-users / warm_users)


def look_alikes(similar: Coo, item_warmth: np.ndarray) -> Coo:
    """``A[j, m]``: how much item ``j`` takes after its text neighbour ``m``, weighted towards warm
    neighbours (whose clicks say something) and normalised to sum 1 per row."""
    vals = similar.vals * item_warmth[similar.cols]
    totals = np.bincount(similar.rows, weights=vals, minlength=similar.size)
    keep = vals > 0
    rows, cols = similar.rows[keep], similar.cols[keep]
    return Coo(rows, cols, vals[keep] / totals[rows], similar.size)


def borrow_neighbours(clicks: Coo, alike: Coo, item_warmth: np.ndarray, weight: float) -> Coo:
    """``clicks + weight * (clicks @ Ac + Ar @ clicks)``: a cold candidate ``j`` scores like the
    average of its warm look-alikes (``Ac[m, j] = A[j, m] * (1 - warmth_j)``), and a cold history
    item ``i`` has the neighbours of its look-alikes (``Ar[i, m] = A[i, m] * (1 - warmth_i)``)."""
    cold_candidates = alike.transpose()
    cold_candidates = cold_candidates.scaled(1.0 - item_warmth[cold_candidates.cols])
    cold_rows = alike.scaled(1.0 - item_warmth[alike.rows])
    borrowed = (clicks @ cold_candidates) + (cold_rows @ clicks)
    return clicks + borrowed.scaled(weight)
