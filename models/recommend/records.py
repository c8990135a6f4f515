"""Reading click events and catalog items from files (JSON Lines, a JSON list, or Parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of ``path``: ``.jsonl``/``.ndjson`` (one object a line), ``.json`` (a list of
    objects) or ``.parquet`` (one row a record)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of objects")
        return [dict(r) for r in data]
    if suffix == ".parquet":
        import polars as pl

        return pl.read_parquet(path).to_dicts()
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .jsonl, .json or .parquet)")
