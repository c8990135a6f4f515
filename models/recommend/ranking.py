"""Top-k over a batch of item scores with torch: mask what must never be shown, best first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def history_indices(
    histories: Sequence[Sequence[str]], index: Mapping[str, int], pad: int, device: torch.device
) -> torch.Tensor:
    """``[batch, longest]`` int64 indices of the known items of each history (oldest first,
    unknown items dropped), right-aligned so the newest item is in the last column; ``pad`` fills."""
    known = [[index[i] for i in h if i in index] for h in histories]
    width = max((len(k) for k in known), default=0)
    out = torch.full((len(known), max(width, 1)), pad, dtype=torch.int64)
    for row, items in enumerate(known):
        if items:
            out[row, width - len(items) :] = torch.tensor(items, dtype=torch.int64)
    return out.to(device)


def mask_items(
    scores: torch.Tensor, excludes: Sequence[Sequence[str] | set[str]], index: Mapping[str, int]
) -> torch.Tensor:
    """``scores`` with every excluded (known) item of each row set to -inf (in place)."""
    rows: list[int] = []
    cols: list[int] = []
    for row, items in enumerate(excludes):
        for item in items:
            col = index.get(item)
            if col is not None:
                rows.append(row)
                cols.append(col)
    if rows:
        scores[torch.tensor(rows, device=scores.device), torch.tensor(cols, device=scores.device)] = -torch.inf
    return scores


def top_k(scores: torch.Tensor, items: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    """The ``k`` best finite-scored items of each row, best first (fewer if fewer are finite)."""
    if k <= 0 or scores.shape[1] == 0:
        return [[] for _ in range(scores.shape[0])]
    values, cols = torch.topk(scores, min(k, scores.shape[1]), dim=1)
    out = []
    for vals, idx in zip(values.cpu().tolist(), cols.cpu().tolist(), strict=True):
        out.append([(items[c], float(v)) for v, c in zip(vals, idx, strict=True) if v != -float("inf")])
    return out
