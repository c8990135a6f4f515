"""Erasure: remove the rows whose column holds one of some values from every part file of the lake.

A part file that holds such rows is rewritten without them (written beside it, then renamed over
it, so readers see either the old or the new file, never a partial one), or deleted when nothing
is left. The writer never touches a part file once written, so this can run beside live workers.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import polars as pl

from channelpulse.streams.lake.layout import partitions


def erase_rows(root: Path, column: str, values: Collection[str]) -> dict[str, int]:
    """Remove every row whose ``column`` is in ``values``; returns the rows removed per kind
    (kinds with none removed are left out)."""
    removed: Counter[str] = Counter()
    wanted = list(values)
    for part in partitions(Path(root)):
        for path in part.part_files():
            if column not in pl.read_parquet_schema(path):
                continue
            frame = pl.read_parquet(path)
            keep = frame.filter(~pl.col(column).is_in(wanted).fill_null(False))
            gone = frame.height - keep.height
            if gone == 0:
                continue
            if keep.is_empty():
                path.unlink()
            else:
                tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp")
                keep.write_parquet(tmp)
                tmp.replace(path)
            removed[part.kind] += gone
    return dict(removed)
