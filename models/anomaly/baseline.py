"""Plain z-score baseline: how far the current value lies from the window's mean, in standard deviations."""

from __future__ import annotations

import warnings

import numpy as np


class ZScoreDetector:
    """``score(windows) -> (z / (z + threshold), z >= threshold)`` with mean and std of the earlier values."""

    def __init__(self, threshold: float = 3.0, min_history: int = 48) -> None:
        self.threshold = threshold
        self.min_history = min_history

    def score(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = np.asarray(windows, dtype=np.float64)
        history, current = w[:, :-1], w[:, -1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(history, axis=1)
            std = np.nanstd(history, axis=1)
            z = np.abs(current - mean) / np.where(std > 0, std, np.inf)
        enough = np.isfinite(history).sum(axis=1) >= self.min_history
        z = np.where(enough & np.isfinite(z), z, 0.0)
        scores = (z / (z + self.threshold)).astype(np.float32)
        return scores, z >= self.threshold
