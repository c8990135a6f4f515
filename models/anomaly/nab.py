"""Numenta Anomaly Benchmark (NAB v1.1) scoring of binary detections.

Rules (Lavin & Ahmad 2015, ``nab/sweeper.py``), for one series with labelled windows:

* a detection inside a window is a true positive worth ``tp * sigmoid(pos) / sigmoid(-1)``, where
  ``pos = -(right - i + 1) / width`` runs from -1 at the window's first point to ~0 at its last and
  ``sigmoid(x) = 2 / (1 + exp(5x)) - 1``; only the best (earliest) detection of a window counts;
* a window with no detection is a false negative worth ``-fn``;
* a detection outside every window is a false positive worth ``fp * sigmoid(d)`` (negative), where
  ``d`` is its distance after the preceding window's right edge in units of that window's width
  minus one (so a detection just after a window costs little), and ``-fp`` when no window precedes;
* detections in the probationary period (the first ``min(15 % of the series, 750)`` points) are
  ignored.

A detector's raw score is the sum over its series; the normalised score is
``100 * (raw - null) / (perfect - null)`` where the null detector (no detections) scores
``-fn * windows`` and the perfect one (a detection at each window's first point) ``tp * windows``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PROBATIONARY_PERCENT = 0.15
PROBATIONARY_CAP = 5000


@dataclass(frozen=True)
class NabProfile:
    """Weights of one NAB application profile (``fp`` and ``fn`` are costs, given as positive numbers)."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD_PROFILE = NabProfile()


@dataclass(frozen=True)
class NabFileScore:
    """NAB result of one series: raw score, the null and perfect detectors' scores and the counts."""

    raw: float
    null: float
    perfect: float
    windows: int
    detected_windows: int
    false_positives: int

    @property
    def normalised(self) -> float | None:
        """``100 * (raw - null) / (perfect - null)``; None for a series without windows."""
        return normalise(self.raw, self.null, self.perfect)


def normalise(raw: float, null: float, perfect: float) -> float | None:
    """NAB normalisation: null detector -> 0, perfect detector -> 100 (None when they coincide)."""
    if perfect == null:
        return None
    return 100.0 * (raw - null) / (perfect - null)


def scaled_sigmoid(position: float) -> float:
    """NAB's weighting of a detection at a relative position (negative inside a window)."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probationary_length(n: int, percent: float = PROBATIONARY_PERCENT) -> int:
    """Points at the start of a series whose detections NAB ignores."""
    return int(min(math.floor(percent * n), percent * PROBATIONARY_CAP))


def point_weights(
    n: int, windows: Sequence[tuple[int, int]], profile: NabProfile = STANDARD_PROFILE
) -> tuple[np.ndarray, np.ndarray]:
    """Weight a detection at each index would get, and the window index it falls in (-1: none).

    ``windows`` are inclusive index ranges ``(first, last)``, sorted and disjoint.
    """
    max_tp = scaled_sigmoid(-1.0)
    weight = np.empty(n, dtype=np.float64)
    window_of = np.full(n, -1, dtype=np.int64)
    ordered = sorted(windows)
    for k, (first, last) in enumerate(ordered):
        nxt = ordered[k + 1][0] if k + 1 < len(ordered) else n
        if not 0 <= first <= last < n or nxt <= last:
            raise ValueError(f"window {(first, last)} is out of range or overlaps the next one")
    prev: tuple[int, int] | None = None
    k = 0
    for i in range(n):
        if k < len(ordered) and ordered[k][0] <= i <= ordered[k][1]:
            first, last = ordered[k]
            width = float(last - first + 1)
            weight[i] = scaled_sigmoid(-(last - i + 1) / width) * profile.tp / max_tp
            window_of[i] = k
            if i == last:
                prev = ordered[k]
                k += 1
        elif prev is None:
            weight[i] = -profile.fp
        else:
            prev_width = float(prev[1] - prev[0] + 1)
            weight[i] = scaled_sigmoid(abs(prev[1] - i) / max(prev_width - 1.0, 1.0)) * profile.fp
    return weight, window_of


def score_detections(
    detections: Iterable[bool] | np.ndarray,
    windows: Sequence[tuple[int, int]],
    profile: NabProfile = STANDARD_PROFILE,
    probationary_percent: float = PROBATIONARY_PERCENT,
) -> NabFileScore:
    """NAB score of one series' binary detections against its labelled windows (index ranges)."""
    flags = np.asarray(list(detections) if not isinstance(detections, np.ndarray) else detections, dtype=bool)
    n = flags.size
    weight, window_of = point_weights(n, windows, profile)
    scorable = np.zeros(n, dtype=bool)
    scorable[probationary_length(n, probationary_percent) :] = True
    hits = flags & scorable
    window_scores = np.full(len(windows), -profile.fn)
    for k in range(len(windows)):
        in_window = hits & (window_of == k)
        if in_window.any():
            window_scores[k] = max(-profile.fn, float(weight[in_window].max()))
    outside = hits & (window_of < 0)
    raw = float(window_scores.sum() + weight[outside].sum())
    return NabFileScore(
        raw=raw,
        null=-profile.fn * len(windows),
        perfect=profile.tp * len(windows),
        windows=len(windows),
        detected_windows=int((window_scores > -profile.fn).sum()),
        false_positives=int(outside.sum()),
    )


def total(scores: Iterable[NabFileScore]) -> NabFileScore:
    """Corpus-level NAB score: the sums of the per-series scores and counts."""
    items = list(scores)
    return NabFileScore(
        raw=sum(s.raw for s in items),
        null=sum(s.null for s in items),
        perfect=sum(s.perfect for s in items),
        windows=sum(s.windows for s in items),
        detected_windows=sum(s.detected_windows for s in items),
        false_positives=sum(s.false_positives for s in items),
    )
