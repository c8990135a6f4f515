"""Reading NAB series (``timestamp,value`` CSVs) and their labelled windows (``windows.json``)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class NabSeries:
    """One series: its values in time order and its windows as inclusive index ranges."""

    name: str
    timestamps: tuple[datetime, ...]
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]


def load_series(csv_path: Path, window_times: list[list[str]], name: str | None = None) -> NabSeries:
    """One CSV plus its window limits (timestamps that must occur in the series); ``name`` defaults
    to the file name."""
    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    timestamps = tuple(datetime.fromisoformat(row["timestamp"]) for row in rows)
    values = np.array([float(row["value"]) for row in rows], dtype=np.float64)
    index = {ts: i for i, ts in enumerate(timestamps)}
    windows = tuple(
        (index[datetime.fromisoformat(start)], index[datetime.fromisoformat(end)]) for start, end in window_times
    )
    return NabSeries(name or csv_path.name, timestamps, values, windows)


def load_corpus(folder: Path) -> list[NabSeries]:
    """Every series listed in ``folder/windows.json``, sorted by its key there (``category/file.csv``
    or ``file.csv``), which is also its name."""
    labels: dict[str, list[list[str]]] = json.loads((folder / "windows.json").read_text())
    return [load_series(folder / name, labels[name], name) for name in sorted(labels)]
