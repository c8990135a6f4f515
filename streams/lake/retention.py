"""Retention: delete date partitions older than N days."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from channelpulse.streams.lake.layout import partitions


def apply_retention(root: Path, days: int, today: date | None = None) -> list[Path]:
    """Delete every ``date=`` partition whose date is before ``today - days``; returns what was removed.

    ``days=0`` keeps only today's partitions; ``today`` defaults to the current UTC date.
    """
    if days < 0:
        raise ValueError("retention days must be >= 0")
    cutoff = (today or datetime.now(timezone.utc).date()) - timedelta(days=days)
    removed = []
    for part in partitions(Path(root)):
        if part.day < cutoff:
            shutil.rmtree(part.path, ignore_errors=True)
            removed.append(part.path)
    return removed
