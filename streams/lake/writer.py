"""Batched writes into the lake: rows are buffered per kind and written as one Parquet file per
kind and date when the buffer reaches ``flush_rows`` rows, when its oldest row is ``flush_seconds``
old, or on :meth:`LakeWriter.flush` / :meth:`LakeWriter.close`.

Each flush takes the buffer as one *generation*: rows buffered now belong to :attr:`LakeWriter.generation`,
and once :attr:`LakeWriter.durable_generation` is past it they are on disk (written to a temporary
file, fsynced, renamed, the folder fsynced). The worker holds back the commit of an event's offset
until the generation holding its rows is durable (streams/lake/commit_hold.py)."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
from pydantic import BaseModel

from channelpulse.streams.lake.layout import LAKE_TS, PART_SUFFIX, as_utc, partition_dir, validate_kind
from channelpulse.streams.lake.retention import apply_retention

log = logging.getLogger(__name__)

Row = Mapping[str, Any] | BaseModel
RETENTION_EVERY_S = 3600.0


def _as_dict(row: Row) -> dict[str, Any]:
    # JSON mode: enums, UUIDs and datetimes inside events become plain strings/numbers Parquet can hold.
    return row.model_dump(mode="json") if isinstance(row, BaseModel) else dict(row)


class LakeWriter:
    """Buffers rows per kind and writes them as ``<root>/<kind>/date=YYYY-MM-DD/part-<uuid>.parquet``.

    ``clock`` (monotonic seconds) decides when the time-based flush is due; ``retention_days``
    (optional) deletes partitions older than that many days, at most once an hour, after a flush;
    ``pseudonymize`` (the worker's: streams/privacy/pseudonym.py) rewrites each row before it is
    buffered, so identifiers never reach a file.
    Safe to call from several threads; the Parquet write itself happens outside the lock.
    """

    def __init__(
        self,
        root: Path,
        *,
        flush_rows: int = 1000,
        flush_seconds: float = 30.0,
        retention_days: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        pseudonymize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        if flush_rows < 1 or flush_seconds <= 0:
            raise ValueError("flush_rows must be >= 1 and flush_seconds > 0")
        self.root = Path(root)
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.retention_days = retention_days
        self._clock = clock
        self._pseudonymize = pseudonymize
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time, so generations become durable in order
        self._generation = 0
        self._durable_generation = 0
        self.rows_buffered_total = 0
        self._buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._oldest: float | None = None
        self._last_retention: float | None = None
        self.rows_written = 0
        self.files_written = 0

    @property
    def buffered(self) -> int:
        """Rows waiting to be written."""
        with self._lock:
            return sum(len(rows) for rows in self._buffers.values())

    @property
    def generation(self) -> int:
        """The generation rows buffered now belong to."""
        with self._lock:
            return self._generation

    @property
    def durable_generation(self) -> int:
        """Every row of a generation below this one is on disk."""
        with self._lock:
            return self._durable_generation

    def append(self, kind: str, row: Row, at: datetime | None = None) -> list[Path]:
        """Buffer one row of ``kind`` filed at ``at`` (default: UTC now); returns files a due flush wrote."""
        return self.extend(kind, [row], at)

    def extend(self, kind: str, rows: Iterable[Row], at: datetime | None = None) -> list[Path]:
        """Buffer rows of ``kind``; a row's own ``lake_ts`` (a datetime) wins over ``at``."""
        validate_kind(kind)
        default_ts = as_utc(at) if at is not None else datetime.now(timezone.utc)
        prepared = []
        for row in rows:
            record = _as_dict(row)
            if self._pseudonymize is not None:
                record = self._pseudonymize(record)
            ts = record.get(LAKE_TS)
            record[LAKE_TS] = as_utc(ts) if isinstance(ts, datetime) else default_ts
            prepared.append(record)
        with self._lock:
            if prepared and self._oldest is None:
                self._oldest = self._clock()
            self._buffers[kind].extend(prepared)
            self.rows_buffered_total += len(prepared)
        return self.flush() if self.flush_due() else []

    def flush_due(self) -> bool:
        """True when the buffer is full or its oldest row waited ``flush_seconds``."""
        with self._lock:
            if self._oldest is None:
                return False
            full = sum(len(rows) for rows in self._buffers.values()) >= self.flush_rows
            return full or self._clock() - self._oldest >= self.flush_seconds

    def flush(self) -> list[Path]:
        """Write every buffered row now and make its generation durable; returns the part files
        written. If a write fails, the rows go back to the buffer (the next flush tries them again)
        and the generation stays not durable."""
        with self._flush_lock:
            with self._lock:
                buffers, self._buffers, self._oldest = self._buffers, defaultdict(list), None
                generation = self._generation
                self._generation += 1
            written = []
            try:
                for kind, rows in buffers.items():
                    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
                    for record in rows:
                        by_day[record[LAKE_TS].date()].append(record)
                    for day, day_rows in sorted(by_day.items()):
                        written.append(self._write(kind, day, day_rows))
            except BaseException:
                for path in written:  # rewritten whole by the next flush
                    path.unlink(missing_ok=True)
                with self._lock:
                    for kind, rows in buffers.items():
                        self._buffers[kind][:0] = rows
                    if self._oldest is None:
                        self._oldest = self._clock()
                raise
            with self._lock:
                self._durable_generation = generation + 1
                self.rows_written += sum(len(rows) for rows in buffers.values())
                self.files_written += len(written)
        self._maybe_apply_retention()
        return written

    def close(self) -> None:
        """Flush what is buffered."""
        self.flush()

    def __enter__(self) -> LakeWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _write(self, kind: str, day: date, rows: list[dict[str, Any]]) -> Path:
        folder = partition_dir(self.root, kind, day)
        folder.mkdir(parents=True, exist_ok=True)
        frame = pl.from_dicts(rows, infer_schema_length=None)
        target = folder / f"part-{uuid.uuid4().hex}{PART_SUFFIX}"
        tmp = target.with_name(target.name + ".tmp")
        frame.write_parquet(tmp)
        _fsync(tmp)
        tmp.rename(target)  # readers only ever see complete files
        _fsync(folder)  # the rename itself survives a crash of the machine
        log.debug("lake: wrote %d %s rows to %s", len(rows), kind, target)
        return target

    def _maybe_apply_retention(self) -> None:
        if self.retention_days is None:
            return
        now = self._clock()
        if self._last_retention is not None and now - self._last_retention < RETENTION_EVERY_S:
            return
        self._last_retention = now
        removed = apply_retention(self.root, self.retention_days)
        if removed:
            log.info("lake: retention removed %d partitions older than %d days", len(removed), self.retention_days)


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
