from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from channelpulse.models.recommend.records import load_records

ROWS = [{"item_id": "a", "price": 1.5}, {"item_id": "b", "price": 2.0}]


def test_reads_json_lines_json_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n")
    (tmp_path / "x.json").write_text(json.dumps(ROWS))
    pl.DataFrame(ROWS).write_parquet(tmp_path / "x.parquet")
    for name in ("x.jsonl", "x.json", "x.parquet"):
        assert load_records(tmp_path / name) == ROWS


def test_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"item_id": "a"}))
    with pytest.raises(ValueError):
        load_records(tmp_path / "x.json")
    with pytest.raises(ValueError):
        load_records(tmp_path / "x.csv")
