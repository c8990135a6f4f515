"""Version 1 of the anomaly model (no longer served): stateless, batched scoring of raw sensor windows.

Kept as a reference for the NAB evaluation (scripts/evaluate_anomaly_nab.py compares versions 3 and 2,
models/anomaly/online.py, with it); its parameters are the defaults of :class:`DetectorParams`
(version 1's meta.json).

Each row of the input is one sensor's recent values, oldest first, the current value last, left-padded
with NaN. A row is scored from its own values only, so scoring a reading never sees a later one and
rows never influence each other.

Method ("novelty against the window's own envelope"): four statistics of the *recent* readings are
compared with the same statistic over a *reference* set from earlier in the window:

* ``value``    the current value (spikes, dips, out-of-range readings);
* ``level``    the mean of the last ``level_span`` values (level shifts);
* ``burst``    the mean absolute first difference over the last ``activity_span`` values (variance
               or spike-rate increase);
* ``collapse`` the log of that activity, one-sided downwards (variance collapse, a stuck sensor).

The reference set is the whole earlier window (non-overlapping with the recent readings), or, when the
row is strongly seasonal with period ``season`` (the mean seasonal difference is small against the
spread of the values), the statistic at the same phase +- ``phase_tolerance`` in each of the previous
``seasons_back`` seasons. For reference values ``r`` with median ``m``, the novelty is how far the
recent statistic lies *beyond the most extreme reference deviation* ``q = max|r - m|``, in units of
``s = max(1.4826 * MAD(r), tail_tolerance * q, floor)``: ``z = max(|x - m| - q, 0) / s``. A reading is
thus anomalous only when it leaves the envelope of everything the window has seen at that phase, by a
margin relative to the noise (or to the tail, for spiky series). The largest ``z`` over the four
statistics is mapped to ``score = z / (z + z_half)`` in [0, 1); ``is_anomaly = score >= threshold``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

MAD_TO_SIGMA = 1.4826
STATISTICS = ("value", "level", "burst", "collapse")


@dataclass(frozen=True)
class DetectorParams:
    """Parameters of :class:`AnomalyDetector` (stored in the Triton version's meta.json)."""

    width: int = 1024
    season: int = 288
    seasons_back: int = 3
    phase_tolerance: int = 12
    seasonal_fit: float = 0.5
    level_span: int = 6
    activity_span: int = 24
    tail_tolerance: float = 0.25
    relative_floor: float = 1e-6
    log_floor: float = 0.05
    min_history: int = 288
    z_half: float = 3.0
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.width < self.min_history + 1 or self.min_history < max(self.level_span, self.activity_span):
            raise ValueError("need width > min_history >= level_span and activity_span")
        if self.season < 0 or self.seasons_back < 1 or self.phase_tolerance < 0:
            raise ValueError("need season >= 0 (0: not seasonal), seasons_back >= 1, phase_tolerance >= 0")
        if self.season and 2 * self.phase_tolerance >= self.season:
            raise ValueError("need phase_tolerance < season / 2")
        if not 0.0 < self.threshold < 1.0 or self.z_half <= 0.0:
            raise ValueError("need 0 < threshold < 1 and z_half > 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorParams:
        """Parameters from a dict; unknown keys are an error (a typo must not pass silently)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown detector parameters: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_meta(cls, path: str | Path) -> DetectorParams:
        """The ``parameters`` of a Triton version's meta.json."""
        return cls.from_dict(json.loads(Path(path).read_text())["parameters"])


def rolling_mean(values: np.ndarray, span: int) -> np.ndarray:
    """Mean of each run of ``span`` values ending at each column; NaN where a run has a NaN."""
    valid = np.isfinite(values)
    sums = np.cumsum(np.where(valid, values, 0.0), axis=1)
    counts = np.cumsum(valid, axis=1)
    out = np.full(values.shape, np.nan)
    if span > values.shape[1]:
        return out
    run_sum = sums[:, span - 1 :].copy()
    run_sum[:, 1:] -= sums[:, :-span]
    run_count = counts[:, span - 1 :].copy()
    run_count[:, 1:] -= counts[:, :-span]
    out[:, span - 1 :] = np.where(run_count == span, run_sum / span, np.nan)
    return out


def nan_median(values: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for a row with no finite value); sort-based, vectorised."""
    if values.shape[1] == 0:
        return np.full(len(values), np.nan)
    ordered = np.sort(values, axis=1)  # NaN sorts last
    count = np.isfinite(values).sum(axis=1)
    rows = np.arange(len(values))
    low = ordered[rows, np.maximum((count - 1) // 2, 0)]
    high = ordered[rows, count // 2]
    return np.where(count > 0, (low + high) / 2.0, np.nan)


def novelty(
    current: np.ndarray, reference: np.ndarray, side: int, tail_tolerance: float, floor: np.ndarray
) -> np.ndarray:
    """How far ``current`` lies beyond the envelope of ``reference`` (per row), in robust units.

    ``side``: +1 only upward excursions count, -1 only downward, 0 both. Rows with no finite
    reference or a non-finite current value give 0.
    """
    median = nan_median(reference)
    deviation = reference - median[:, None]
    mad = MAD_TO_SIGMA * nan_median(np.abs(deviation))
    signed = deviation if side > 0 else -deviation if side < 0 else np.abs(deviation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are handled below
        tail = np.maximum(np.nanmax(signed, axis=1), 0.0)
    excursion = current - median if side > 0 else median - current if side < 0 else np.abs(current - median)
    scale = np.maximum(np.maximum(mad, tail_tolerance * tail), floor)
    z = np.maximum(excursion - tail, 0.0) / scale
    return np.where(np.isfinite(z), z, 0.0)


class AnomalyDetector:
    """Batched scoring: ``score(windows [n, width]) -> (scores float32 [n], flags bool [n])``.

    Windows narrower than ``params.width`` are used as they are; wider ones keep their last
    ``width`` values.
    """

    def __init__(self, params: DetectorParams | None = None) -> None:
        self.params = params or DetectorParams()

    def score(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Anomaly score in [0, 1) of each row's last value, and whether it passes the threshold."""
        z = self.statistics(windows).max(axis=1)
        scores = (z / (z + self.params.z_half)).astype(np.float32)
        return scores, scores >= np.float32(self.params.threshold)

    def statistics(self, windows: np.ndarray) -> np.ndarray:
        """The novelty ``z`` of each statistic (columns in :data:`STATISTICS` order), per row."""
        p = self.params
        w = np.asarray(windows, dtype=np.float64)
        if w.ndim != 2:
            raise ValueError(f"windows must be 2-D [n, width], got shape {w.shape}")
        w = w[:, -p.width :]
        n, width = w.shape
        out = np.zeros((n, len(STATISTICS)))
        if n == 0 or width <= p.min_history:
            return out
        valid = np.isfinite(w)
        ready = (valid.sum(axis=1) > p.min_history) & valid[:, -1]
        if not ready.any():
            return out
        w = w[ready]
        floor = p.relative_floor * (1.0 + np.abs(nan_median(w)))
        log_floor = np.full(len(w), p.log_floor)
        seasonal = self._seasonal_rows(w)
        activity_point = np.full(w.shape, np.nan)
        activity_point[:, 1:] = np.abs(np.diff(w, axis=1))
        activity = rolling_mean(activity_point, p.activity_span)
        log_activity = np.log(activity + floor[:, None])
        # point-to-point noise (robust, from first differences): no reading is judged more finely
        noise = MAD_TO_SIGMA * nan_median(activity_point[:, 1:]) / np.sqrt(2.0)
        value_floor = np.maximum(floor, noise)
        level_floor = np.maximum(floor, noise / np.sqrt(p.level_span))
        # (feature, span, side, floor, phase-dependent): dispersion is compared with the whole window
        series = (
            (w, 1, 0, value_floor, True),
            (rolling_mean(w, p.level_span), p.level_span, 0, level_floor, True),
            (activity, p.activity_span, 1, floor, False),
            (log_activity, p.activity_span, -1, log_floor, False),
        )
        z = np.zeros((len(w), len(STATISTICS)))
        seasonal_columns = self._seasonal_columns(width)
        for col, (feature, span, side, feature_floor, phased) in enumerate(series):
            current = feature[:, -1]
            for rows, columns in (
                (~seasonal if phased else np.ones(len(w), dtype=bool), slice(0, width - span)),
                (seasonal if phased else np.zeros(len(w), dtype=bool), seasonal_columns),
            ):
                if rows.any():
                    z[rows, col] = novelty(
                        current[rows], feature[rows][:, columns], side, p.tail_tolerance, feature_floor[rows]
                    )
        out[ready] = z
        return out

    def _seasonal_columns(self, width: int) -> np.ndarray:
        """Columns at the current phase +- tolerance in each previous season that the window holds."""
        p = self.params
        seasons = np.arange(1, p.seasons_back + 1)[:, None] * p.season
        offsets = (np.arange(-p.phase_tolerance, p.phase_tolerance + 1)[None, :] - seasons).ravel()
        columns = width - 1 + offsets
        return columns[columns >= 0]

    def _seasonal_rows(self, w: np.ndarray) -> np.ndarray:
        """Rows with a full season of history whose seasonal differences are small against their spread."""
        p = self.params
        n, width = w.shape
        if p.season == 0 or width < 2 * p.season + 1:
            return np.zeros(n, dtype=bool)
        history = w[:, :-1]
        seasonal_diff = np.abs(history[:, p.season :] - history[:, : -p.season])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pairs = np.isfinite(seasonal_diff).sum(axis=1)
            spread = np.nanmean(np.abs(history - nan_median(history)[:, None]), axis=1)
            seasonal_error = np.nanmean(seasonal_diff, axis=1) / np.sqrt(2.0)
        return (pairs >= p.season) & (spread > 0) & (seasonal_error <= p.seasonal_fit * spread)
