from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from pydantic import BaseModel

from channelpulse.streams.lake import LAKE_TS, LakeWriter, read_lake

T0 = datetime(2024, 5, 1, 23, 59, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rows_are_partitioned_by_kind_and_date(tmp_path: Path) -> None:
    with LakeWriter(tmp_path, flush_rows=100) as writer:
        writer.append("reviews", {"text": "late", "rating": 5}, at=T0)
        writer.append("reviews", {"text": "early", "rating": 1}, at=T0 + timedelta(minutes=2))
        writer.append("scores.sentiment", {"label": "positive"}, at=T0)
    files = sorted(p.relative_to(tmp_path).parent.as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == ["reviews/date=2024-05-01", "reviews/date=2024-05-02", "scores.sentiment/date=2024-05-01"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_flush_by_size_writes_one_file_per_batch(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, flush_rows=3, flush_seconds=3600)
    assert writer.extend("clicks", [{"i": 0}, {"i": 1}], at=T0) == []
    assert writer.buffered == 2
    written = writer.append("clicks", {"i": 2}, at=T0)
    assert len(written) == 1 and writer.buffered == 0
    assert pl.read_parquet(written[0])["i"].to_list() == [0, 1, 2]


def test_flush_by_time_uses_the_oldest_buffered_row(tmp_path: Path) -> None:
    clock = FakeClock()
    writer = LakeWriter(tmp_path, flush_rows=1000, flush_seconds=10, clock=clock)
    writer.append("clicks", {"i": 0}, at=T0)
    clock.now = 9.0
    assert writer.append("clicks", {"i": 1}, at=T0) == []
    assert not writer.flush_due()
    clock.now = 10.0
    assert writer.flush_due()
    assert len(writer.flush()) == 1
    assert not writer.flush_due()


def test_close_flushes_and_counts(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, flush_rows=1000)
    writer.extend("sensors", [{"v": float(i)} for i in range(5)], at=T0)
    assert not list(tmp_path.rglob("*.parquet"))
    writer.close()
    assert writer.rows_written == 5 and writer.files_written == 1
    assert len(read_lake(tmp_path, "sensors")) == 5


def test_pydantic_models_and_row_timestamps(tmp_path: Path) -> None:
    class Review(BaseModel):
        text: str
        rating: int
        created: datetime

    row_ts = T0 - timedelta(days=3)
    with LakeWriter(tmp_path) as writer:
        writer.append("reviews", Review(text="fine", rating=4, created=T0))
        writer.append("reviews", {"text": "own ts", "rating": 2, LAKE_TS: row_ts.replace(tzinfo=None)})
    frame = read_lake(tmp_path, "reviews")
    assert frame["text"].to_list() == ["own ts", "fine"]  # sorted by lake_ts
    assert frame[LAKE_TS][0] == row_ts
    assert frame["created"][1] == T0.isoformat().replace("+00:00", "Z")


def test_rejects_kinds_that_are_not_folder_names(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    with pytest.raises(ValueError, match="invalid lake kind"):
        writer.append("../escape", {"x": 1})
    with pytest.raises(ValueError):
        LakeWriter(tmp_path, flush_rows=0)


def test_each_flush_makes_a_generation_durable(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, flush_rows=1000)
    assert (writer.generation, writer.durable_generation) == (0, 0)
    writer.append("clicks", {"i": 0}, at=T0)
    assert writer.rows_buffered_total == 1
    writer.flush()
    assert (writer.generation, writer.durable_generation) == (1, 1)
    writer.append("clicks", {"i": 1}, at=T0)
    assert (writer.generation, writer.durable_generation) == (1, 1)  # row 1 is not on disk yet
    writer.flush()
    assert writer.durable_generation == 2 and sorted(read_lake(tmp_path, "clicks")["i"].to_list()) == [0, 1]


def test_a_failed_write_keeps_the_rows_and_the_generation_not_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = LakeWriter(tmp_path, flush_rows=1000)
    writer.extend("clicks", [{"i": 0}, {"i": 1}], at=T0)
    writer.append("reviews", {"i": 2}, at=T0)
    real_write = writer._write
    calls = []

    def failing_second(kind: str, day: object, rows: list[dict[str, object]]) -> Path:
        calls.append(kind)
        if len(calls) == 2:
            raise OSError("disk full (fake)")
        return real_write(kind, day, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_write", failing_second)
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    assert writer.durable_generation == 0 and writer.buffered == 3
    assert not list(tmp_path.rglob("*.parquet"))  # the file written before the failure is removed
    monkeypatch.setattr(writer, "_write", real_write)
    writer.flush()
    assert writer.durable_generation == 2
    assert sorted(read_lake(tmp_path, "clicks")["i"].to_list()) == [0, 1]
    assert read_lake(tmp_path, "reviews")["i"].to_list() == [2]
    assert writer.rows_written == 3 and writer.files_written == 2


def test_part_files_are_fsynced_before_they_appear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import channelpulse.streams.lake.writer as writer_module

    synced: list[str] = []
    monkeypatch.setattr(writer_module, "_fsync", lambda path: synced.append(Path(path).name))
    writer = LakeWriter(tmp_path, flush_rows=1000)
    writer.append("clicks", {"i": 0}, at=T0)
    (written,) = writer.flush()
    assert synced == [written.name + ".tmp", "date=2024-05-01"]
