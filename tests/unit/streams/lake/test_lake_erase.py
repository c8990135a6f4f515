from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from channelpulse.streams.lake import LakeWriter, erase_rows, read_lake
from channelpulse.streams.privacy.pseudonym import Pseudonymizer

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
PSEUDO = Pseudonymizer("k1", b"0123456789abcdef-secret")


def fill(root: Path) -> None:
    with LakeWriter(root, flush_rows=2, pseudonymize=PSEUDO.row) as writer:
        for day in range(2):
            at = T0 + timedelta(days=day)
            writer.append("click", {"user_id": "u-1", "item_id": f"a{day}", "session_id": "s-1"}, at=at)
            writer.append("click", {"user_id": "u-2", "item_id": f"b{day}"}, at=at)
            writer.append("review", {"user_id": "u-1", "text": "fine"}, at=at)
        writer.append("sensor", {"sensor_id": "press-3", "value": 1.0}, at=T0)


def test_no_raw_identifier_reaches_a_lake_file(tmp_path: Path) -> None:
    fill(tmp_path)
    files = list(tmp_path.rglob("*.parquet"))
    assert files
    for path in files:
        raw = path.read_bytes()
        assert b"u-1" not in raw and b"u-2" not in raw and b"s-1" not in raw
    clicks = read_lake(tmp_path, "click")
    assert set(clicks["user_id"]) == {PSEUDO.pseudonym("u-1"), PSEUDO.pseudonym("u-2")}
    assert clicks.filter(pl.col("user_id") == PSEUDO.pseudonym("u-1"))["session_id"].to_list() == [
        PSEUDO.pseudonym("s-1")
    ] * 2


def test_erasing_removes_that_users_rows_and_keeps_the_others(tmp_path: Path) -> None:
    fill(tmp_path)
    removed = erase_rows(tmp_path, "user_id", {PSEUDO.pseudonym("u-1")})
    assert removed == {"click": 2, "review": 2}
    assert read_lake(tmp_path, "click")["item_id"].sort().to_list() == ["b0", "b1"]
    assert read_lake(tmp_path, "review").is_empty()
    assert len(read_lake(tmp_path, "sensor")) == 1
    assert not list(tmp_path.rglob("*.tmp"))
    assert erase_rows(tmp_path, "user_id", {PSEUDO.pseudonym("u-1")}) == {}


def test_erasing_an_unknown_user_or_an_empty_lake_removes_nothing(tmp_path: Path) -> None:
    assert erase_rows(tmp_path / "absent", "user_id", {"k1:x"}) == {}
    fill(tmp_path)
    before = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet"))
    assert erase_rows(tmp_path, "user_id", {PSEUDO.pseudonym("nobody")}) == {}
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet")) == before
