from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from channelpulse.streams.lake import LakeWriter, apply_retention, lake_stats, read_lake

DAY0 = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)


def _fill(root: Path) -> None:
    with LakeWriter(root, flush_rows=4) as writer:
        for d in range(3):  # 3 days x 6 rows of reviews, 2 flushes per day's batch of 6 rows
            for i in range(6):
                writer.append("reviews", {"day": d, "i": i}, at=DAY0 + timedelta(days=d, minutes=i))
        writer.append("feedback", {"stars": 5, "extra": "only here"}, at=DAY0)


def test_time_range_selects_rows_and_prunes_partitions(tmp_path: Path) -> None:
    _fill(tmp_path)
    everything = read_lake(tmp_path, "reviews")
    assert len(everything) == 18
    assert everything["day"].to_list() == sorted(everything["day"].to_list())
    window = read_lake(tmp_path, "reviews", start=DAY0 + timedelta(days=1, minutes=2), end=DAY0 + timedelta(days=2))
    assert window["day"].to_list() == [1, 1, 1, 1]
    assert window["i"].to_list() == [2, 3, 4, 5]
    naive_start = (DAY0 + timedelta(days=2)).replace(tzinfo=None)
    assert read_lake(tmp_path, "reviews", start=naive_start)["day"].unique().to_list() == [2]


def test_missing_kind_gives_an_empty_frame(tmp_path: Path) -> None:
    assert read_lake(tmp_path, "nothing").is_empty()
    assert read_lake(tmp_path / "absent", "reviews").is_empty()


def test_files_with_different_columns_are_combined(tmp_path: Path) -> None:
    with LakeWriter(tmp_path) as writer:
        writer.append("feedback", {"stars": 5}, at=DAY0)
    with LakeWriter(tmp_path) as writer:
        writer.append("feedback", {"stars": 1, "comment": "bad"}, at=DAY0 + timedelta(hours=1))
    frame = read_lake(tmp_path, "feedback")
    assert frame["comment"].to_list() == [None, "bad"]
    assert read_lake(tmp_path, "feedback", columns=["stars"]).columns == ["stars"]


def test_stats_per_kind_and_date(tmp_path: Path) -> None:
    _fill(tmp_path)
    stats = {(s.kind, s.date): s for s in lake_stats(tmp_path)}
    assert sorted(stats) == [
        ("feedback", "2024-03-10"),
        ("reviews", "2024-03-10"),
        ("reviews", "2024-03-11"),
        ("reviews", "2024-03-12"),
    ]
    assert [stats[("reviews", f"2024-03-1{d}")].rows for d in (0, 1, 2)] == [6, 6, 6]
    assert sum(s.files for s in stats.values()) == len(list(tmp_path.rglob("*.parquet")))
    assert all(s.bytes > 0 for s in stats.values())
    assert [s.kind for s in lake_stats(tmp_path, "feedback")] == ["feedback"]


def test_retention_deletes_old_partitions_only(tmp_path: Path) -> None:
    _fill(tmp_path)
    removed = apply_retention(tmp_path, days=1, today=date(2024, 3, 12))
    assert sorted(p.name for p in removed) == ["date=2024-03-10", "date=2024-03-10"]
    assert read_lake(tmp_path, "reviews")["day"].unique().sort().to_list() == [1, 2]
    assert read_lake(tmp_path, "feedback").is_empty()
    assert apply_retention(tmp_path, days=1, today=date(2024, 3, 12)) == []


def test_writer_applies_retention_after_a_flush(tmp_path: Path) -> None:
    old = datetime.now(timezone.utc) - timedelta(days=10)
    with LakeWriter(tmp_path) as writer:
        writer.append("reviews", {"i": 0}, at=old)
    with LakeWriter(tmp_path, retention_days=7) as writer:
        writer.append("reviews", {"i": 1})
    assert read_lake(tmp_path, "reviews")["i"].to_list() == [1]
