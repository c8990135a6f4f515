"""NAB evaluation of anomaly detectors: replay NAB series without look-ahead, score them as NAB does.

Detectors (per reading, an anomaly score in [0, 1] and the binary flag users get):

* ``online``            versions 2 and 3 (models/anomaly/online.py), every series replayed in lockstep
                        through one vectorised detector (one state row per series: what the
                        worker keeps per sensor);
* ``v1``                version 1 (models/anomaly/detector.py): each reading scored from the raw
                        window of its last 1,024 readings; flags are its ``score >= 0.5``;
* ``windowedGaussian``  NAB's windowed Gaussian (models/anomaly/baseline.py); its scores rounded to
                        12 decimals as NAB's results files hold them; it has no flag of its own,
                        its "flags" are ``score >= 1.0`` (NAB's published threshold for it).

For anomaly scores a corpus (the real or the artificial series) is scored at the threshold NAB's
optimiser picks on that corpus for each profile; flags are scored as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from channelpulse.models.anomaly.baseline import windowed_gaussian_scores
from channelpulse.models.anomaly.detector import AnomalyDetector, DetectorParams
from channelpulse.models.anomaly.nab import (
    NabFileScore,
    NabProfile,
    normalise,
    optimise_threshold,
    score_at_threshold,
    score_detections,
    sweep_file,
    total,
)
from channelpulse.models.anomaly.nab_corpus import NabSeries
from channelpulse.models.anomaly.online import OnlineDetector

NAB_SCORE_DECIMALS = 12
WINDOWED_GAUSSIAN_FLAG_THRESHOLD = 1.0


@dataclass(frozen=True)
class Detections:
    """One detector's output on one series."""

    scores: np.ndarray
    flags: np.ndarray


def replay_online(corpus: Sequence[NabSeries], detector: OnlineDetector) -> list[Detections]:
    """Every series through one detector in lockstep (series of different lengths: NaN-time padding)."""
    if not corpus:
        return []
    length = max(len(s.values) for s in corpus)
    values = np.zeros((len(corpus), length))
    times = np.full((len(corpus), length), np.nan)
    for i, s in enumerate(corpus):
        values[i, : len(s.values)] = s.values
        times[i, : len(s.values)] = [t.timestamp() for t in s.timestamps]
    scores, flags = detector.run(detector.new_state(len(corpus)), values, times)
    return [
        Detections(scores[i, : len(s.values)].astype(np.float64), flags[i, : len(s.values)])
        for i, s in enumerate(corpus)
    ]


def replay_v1(series: NabSeries, detector: AnomalyDetector | None = None, batch: int = 512) -> Detections:
    """Version 1: each reading scored from the window of its last ``width`` readings (NaN-padded)."""
    model = detector or AnomalyDetector(DetectorParams())
    width = model.params.width
    padded = np.concatenate([np.full(width - 1, np.nan), series.values]).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    parts = [model.score(np.ascontiguousarray(windows[i : i + batch])) for i in range(0, len(windows), batch)]
    return Detections(
        np.concatenate([s for s, _ in parts]).astype(np.float64), np.concatenate([f for _, f in parts]).astype(bool)
    )


def replay_windowed_gaussian(series: NabSeries) -> Detections:
    scores = np.round(windowed_gaussian_scores(series.values), NAB_SCORE_DECIMALS)
    return Detections(scores, scores >= WINDOWED_GAUSSIAN_FLAG_THRESHOLD)


@dataclass(frozen=True)
class CorpusResult:
    """NAB result of one detector on one corpus under one profile."""

    threshold: float
    score: float  # normalised, anomaly scores at the optimised threshold
    score_files: dict[str, NabFileScore]
    flags: float  # normalised, the detector's own flags
    flag_files: dict[str, NabFileScore]


def score_corpus(corpus: Sequence[NabSeries], outputs: Sequence[Detections], profile: NabProfile) -> CorpusResult:
    sweeps = [sweep_file(d.scores, s.windows, profile) for s, d in zip(corpus, outputs, strict=True)]
    threshold, raw = optimise_threshold(sweeps, profile)
    windows = sum(len(s.windows) for s in corpus)
    at_threshold = {
        s.name: score_at_threshold(d.scores, s.windows, threshold, profile)
        for s, d in zip(corpus, outputs, strict=True)
    }
    flagged = {s.name: score_detections(d.flags, s.windows, profile) for s, d in zip(corpus, outputs, strict=True)}
    return CorpusResult(
        threshold=threshold,
        score=normalise(raw, -profile.fn * windows, profile.tp * windows) or 0.0,
        score_files=at_threshold,
        flags=total(flagged.values()).normalised or 0.0,
        flag_files=flagged,
    )


@dataclass(frozen=True)
class PublishedCheck:
    """Our scorer and windowed Gaussian against NAB's published per-file results."""

    files: int
    rows: int
    rows_equal: int
    max_row_difference: float
    max_scorer_difference: float  # |our score of NAB's published anomaly scores - NAB's file score|
    max_detector_difference: float  # |our score of our windowed Gaussian - NAB's file score|
    max_null_difference: float


def nab_results_path(results_dir: Path, detector: str, series: NabSeries, category: str) -> Path:
    name = Path(series.name).name
    return results_dir / detector / category / f"{detector}_{name}"


def category_of(series: NabSeries) -> str:
    """NAB's folder of a series (``realAWSCloudwatch/x.csv`` carries it; artificial ones by windows)."""
    parent = Path(series.name).parent.name
    if parent:
        return parent
    return "artificialWithAnomaly" if series.windows else "artificialNoAnomaly"


def check_published(results_dir: Path, corpus: Sequence[NabSeries], profiles: dict[str, NabProfile]) -> PublishedCheck:
    """Compare with NAB's ``results/`` folder (windowedGaussian and null, the files of ``corpus`` only):
    per-row anomaly scores, and per-file scores at NAB's threshold for every profile."""
    rows = equal = 0
    row_diff = scorer_diff = detector_diff = null_diff = 0.0
    for name, profile in profiles.items():
        published = {}
        for detector in ("windowedGaussian", "null"):
            with (results_dir / detector / f"{detector}_{name}_scores.csv").open(newline="") as handle:
                published[detector] = {r["File"]: r for r in csv.DictReader(handle)}
        for series in corpus:
            key = f"{category_of(series)}/{Path(series.name).name}"
            with nab_results_path(results_dir, "windowedGaussian", series, category_of(series)).open(newline="") as h:
                theirs = np.array([float(r["anomaly_score"]) for r in csv.DictReader(h)])
            ours = replay_windowed_gaussian(series).scores
            if name == "standard":
                rows += len(ours)
                equal += int((ours == theirs).sum())
                row_diff = max(row_diff, float(np.abs(ours - theirs).max()))
            entry = published["windowedGaussian"][key]
            threshold, expected = float(entry["Threshold"]), float(entry["Score"])
            scorer_diff = max(
                scorer_diff, abs(score_at_threshold(theirs, series.windows, threshold, profile).raw - expected)
            )
            detector_diff = max(
                detector_diff, abs(score_at_threshold(ours, series.windows, threshold, profile).raw - expected)
            )
            null = score_detections(np.zeros(len(ours), dtype=bool), series.windows, profile).raw
            null_diff = max(null_diff, abs(null - float(published["null"][key]["Score"])))
    return PublishedCheck(len(corpus), rows, equal, row_diff, scorer_diff, detector_diff, null_diff)
