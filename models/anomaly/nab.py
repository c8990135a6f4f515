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

Detectors that output an anomaly *score* are turned into detections by ``score >= threshold``; NAB
picks the one threshold per profile that maximises the raw score summed over the whole corpus
(``nab/optimizer.py``: every distinct score value is a candidate, ties go to the highest threshold)
and scores every series at it (:func:`threshold_sweep`, :func:`optimise_threshold`). The three
profiles are NAB's ``config/profiles.json`` (:func:`load_profiles`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def load_profiles(path: Path) -> dict[str, NabProfile]:
    """NAB's ``profiles.json`` (``{name: {"CostMatrix": {"tpWeight", "fpWeight", "fnWeight", ...}}}``)."""
    data = json.loads(Path(path).read_text())
    return {
        name: NabProfile(
            tp=float(entry["CostMatrix"]["tpWeight"]),
            fp=float(entry["CostMatrix"]["fpWeight"]),
            fn=float(entry["CostMatrix"]["fnWeight"]),
        )
        for name, entry in data.items()
    }


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


@dataclass(frozen=True)
class FileSweep:
    """The scorable points of one series (after the probationary period): anomaly score, the NAB
    weight a detection there would get, and the window it lies in (-1: none)."""

    scores: np.ndarray
    weights: np.ndarray
    window_of: np.ndarray
    windows: int


def sweep_file(
    scores: np.ndarray,
    windows: Sequence[tuple[int, int]],
    profile: NabProfile = STANDARD_PROFILE,
    probationary_percent: float = PROBATIONARY_PERCENT,
) -> FileSweep:
    """``nab/sweeper.py`` ``calcSweepScore`` of one series' anomaly scores."""
    values = np.asarray(scores, dtype=np.float64)
    weight, window_of = point_weights(values.size, windows, profile)
    start = probationary_length(values.size, probationary_percent)
    return FileSweep(values[start:], weight[start:], window_of[start:], len(windows))


def threshold_sweep(
    sweeps: Sequence[FileSweep], profile: NabProfile = STANDARD_PROFILE
) -> tuple[np.ndarray, np.ndarray]:
    """Raw corpus score at every candidate threshold, highest threshold first (``calcScoreByThreshold``).

    Returns ``(thresholds, raw)``: ``raw[j]`` is the score of the detections ``score >= thresholds[j]``;
    the first candidate, 1.1, detects nothing (the null score).
    """
    scores = np.concatenate([s.scores for s in sweeps]) if sweeps else np.zeros(0)
    weights = np.concatenate([s.weights for s in sweeps]) if sweeps else np.zeros(0)
    offsets = np.cumsum([0] + [s.windows for s in sweeps])
    window_of = (
        np.concatenate([np.where(s.window_of >= 0, s.window_of + offsets[k], -1) for k, s in enumerate(sweeps)])
        if sweeps
        else np.zeros(0, dtype=np.int64)
    )
    null = -profile.fn * float(offsets[-1])
    order = np.argsort(-scores, kind="stable")
    scores, weights, window_of = scores[order], weights[order], window_of[order]
    # the change in the corpus score when each point (in descending score order) becomes a detection
    delta = np.where(window_of < 0, weights, 0.0)
    for k in np.unique(window_of[window_of >= 0]):
        idx = np.flatnonzero(window_of == k)
        best = np.maximum.accumulate(np.maximum(weights[idx], -profile.fn))
        delta[idx] = np.diff(np.concatenate([[-profile.fn], best]))
    running = null + np.cumsum(delta)
    # one candidate per distinct score: the score once every point at or above it is a detection
    last_of_group = np.flatnonzero(np.append(scores[1:] != scores[:-1], True)) if scores.size else np.zeros(0, int)
    thresholds = np.concatenate([[1.1], scores[last_of_group]])
    raw = np.concatenate([[null], running[last_of_group]])
    return thresholds, raw


def optimise_threshold(sweeps: Sequence[FileSweep], profile: NabProfile = STANDARD_PROFILE) -> tuple[float, float]:
    """NAB's threshold optimisation over a corpus: ``(threshold, raw corpus score)`` of the best one."""
    thresholds, raw = threshold_sweep(sweeps, profile)
    best = int(np.argmax(raw))  # the first maximum: the highest threshold among ties
    return float(thresholds[best]), float(raw[best])


def score_at_threshold(
    scores: np.ndarray,
    windows: Sequence[tuple[int, int]],
    threshold: float,
    profile: NabProfile = STANDARD_PROFILE,
    probationary_percent: float = PROBATIONARY_PERCENT,
) -> NabFileScore:
    """NAB score of one series' anomaly scores with detections ``score >= threshold``."""
    return score_detections(np.asarray(scores, dtype=np.float64) >= threshold, windows, profile, probationary_percent)
