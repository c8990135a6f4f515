"""A trained recommender version on disk: safetensors tables, the item vocabulary, the metadata.

``weights.safetensors`` holds ``neighbour_index`` (int32 [items, N]: each item's top-N neighbour
rows, padded with 0), ``neighbour_score`` (float32 [items, N], padded with 0) and ``popularity``
(float32 [items], max 1). ``items.json`` is the list of item ids (row order); ``meta.json`` the
training parameters, sizes and held-out figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

WEIGHTS_FILE = "weights.safetensors"
ITEMS_FILE = "items.json"
META_FILE = "meta.json"


@dataclass(frozen=True)
class ItemTables:
    """The learned item-to-item neighbours and the popularity prior."""

    items: list[str]
    neighbour_index: np.ndarray  # int32 [items, N]
    neighbour_score: np.ndarray  # float32 [items, N]
    popularity: np.ndarray  # float32 [items]

    def __post_init__(self) -> None:
        n = len(self.items)
        if self.neighbour_index.shape != self.neighbour_score.shape or self.neighbour_index.shape[0] != n:
            raise ValueError("neighbour tables must be [items, N] and alike")
        if self.popularity.shape != (n,):
            raise ValueError("popularity must be [items]")


def save_tables(out_dir: Path, tables: ItemTables, meta: dict[str, Any]) -> None:
    """Write the three files of a version into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "neighbour_index": np.ascontiguousarray(tables.neighbour_index, dtype=np.int32),
            "neighbour_score": np.ascontiguousarray(tables.neighbour_score, dtype=np.float32),
            "popularity": np.ascontiguousarray(tables.popularity, dtype=np.float32),
        },
        str(out_dir / WEIGHTS_FILE),
    )
    (out_dir / ITEMS_FILE).write_text(json.dumps(tables.items) + "\n")
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def load_tables(version_dir: Path) -> tuple[ItemTables, dict[str, Any]]:
    """Read what :func:`save_tables` wrote."""
    arrays = load_file(str(version_dir / WEIGHTS_FILE))
    items = [str(i) for i in json.loads((version_dir / ITEMS_FILE).read_text())]
    meta = json.loads((version_dir / META_FILE).read_text())
    tables = ItemTables(
        items=items,
        neighbour_index=arrays["neighbour_index"],
        neighbour_score=arrays["neighbour_score"],
        popularity=arrays["popularity"],
    )
    return tables, meta
