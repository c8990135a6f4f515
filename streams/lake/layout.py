"""Where the lake keeps what: kinds, date partitions and part files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

LAKE_TS = "lake_ts"
"""Column holding the UTC time a row is filed under (its partition date comes from it)."""

_KIND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
PART_SUFFIX = ".parquet"


def validate_kind(kind: str) -> str:
    """A kind names a folder: lower-case letters, digits, ``_ . -`` (``reviews``, ``scores.sentiment``)."""
    if not _KIND.match(kind):
        raise ValueError(f"invalid lake kind {kind!r}: use lower-case letters, digits, '_', '.', '-'")
    return kind


def as_utc(ts: datetime) -> datetime:
    """``ts`` as an aware UTC datetime (naive datetimes are taken to be UTC)."""
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def partition_dir(root: Path, kind: str, day: date) -> Path:
    return root / validate_kind(kind) / f"date={day.isoformat()}"


@dataclass(frozen=True)
class Partition:
    """One ``<kind>/date=...`` folder."""

    kind: str
    day: date
    path: Path

    def part_files(self) -> list[Path]:
        """The complete part files (files still being written end in ``.tmp`` and are skipped)."""
        return sorted(p for p in self.path.iterdir() if p.is_file() and p.name.endswith(PART_SUFFIX))


def kinds(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _KIND.match(p.name))


def partitions(root: Path, kind: str | None = None) -> list[Partition]:
    """Date partitions of one kind (or of every kind), oldest first within a kind."""
    found = []
    for k in [kind] if kind is not None else kinds(root):
        kind_dir = root / validate_kind(k)
        if not kind_dir.is_dir():
            continue
        for sub in kind_dir.iterdir():
            m = _PARTITION.match(sub.name)
            if m and sub.is_dir():
                found.append(Partition(k, date.fromisoformat(m.group(1)), sub))
    return sorted(found, key=lambda p: (p.kind, p.day))
