"""Reading the lake back: one polars DataFrame per kind and time range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl

from channelpulse.streams.lake.layout import LAKE_TS, as_utc, partitions


def lake_reader(root: Path) -> Callable[[str, datetime, datetime], pl.DataFrame]:
    """``read_lake`` bound to the lake at ``root``: (kind, start, end) -> rows, the feedback source
    ``channelpulse.models.retrain.run.run_retrain`` takes."""
    return lambda kind, start, end: read_lake(root, kind, start=start, end=end)


def read_lake(
    root: Path,
    kind: str,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """Rows of ``kind`` with ``start <= lake_ts < end`` (either bound optional), oldest first.

    Only the date partitions that can hold such rows are opened. Files written with different
    columns are combined (missing columns are null). An empty DataFrame when nothing matches.
    """
    lo, hi = (as_utc(start) if start else None), (as_utc(end) if end else None)
    files = [
        f
        for part in partitions(Path(root), kind)
        if (lo is None or part.day >= lo.date()) and (hi is None or part.day <= hi.date())
        for f in part.part_files()
    ]
    if not files:
        return pl.DataFrame()
    frame = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    ts = pl.col(LAKE_TS)
    if lo is not None:
        frame = frame.filter(ts >= lo)
    if hi is not None:
        frame = frame.filter(ts < hi)
    frame = frame.sort(LAKE_TS)
    return frame.select(columns) if columns is not None else frame
