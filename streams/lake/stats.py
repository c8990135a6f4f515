"""Rows, files and bytes per kind and date partition (for ``channelpulse lake stats``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from channelpulse.streams.lake.layout import partitions


@dataclass(frozen=True)
class PartitionStats:
    kind: str
    date: str
    rows: int
    files: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lake_stats(root: Path, kind: str | None = None) -> list[PartitionStats]:
    """One entry per ``<kind>/date=...`` partition (row counts come from the Parquet metadata)."""
    out = []
    for part in partitions(Path(root), kind):
        files = part.part_files()
        rows = sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
        out.append(
            PartitionStats(part.kind, part.day.isoformat(), int(rows), len(files), sum(f.stat().st_size for f in files))
        )
    return out
