"""NAB's windowed Gaussian detector (``nab/detectors/gaussian/windowedGaussian_detector.py``), as a
reference for the NAB evaluation and the check of our NAB scorer against NAB's published results.

Per reading: ``score = 1 - Q(|x - mean| / std)`` (Q: the Gaussian tail probability), with the mean and
standard deviation of the readings before it; the window grows to ``window`` readings, then slides
by ``step`` readings at a time (statistics refreshed only then). The first reading scores 0.
"""

from __future__ import annotations

import math

import numpy as np

NAB_WINDOW = 6400
NAB_STEP = 100


def windowed_gaussian_scores(values: np.ndarray, window: int = NAB_WINDOW, step: int = NAB_STEP) -> np.ndarray:
    """Anomaly score of every reading of one series, in NAB's arithmetic (float64, ``math.erfc``)."""
    x = np.asarray(values, dtype=np.float64)
    scores = np.zeros(x.size, dtype=np.float64)
    mean, std = 0.0, 1.0
    start, end, buffered = 0, 0, 0  # the window is x[start:end]; `buffered` readings wait for a step
    for i, value in enumerate(x.tolist()):
        if end > start:
            tail = 2.0 * mean - value if value < mean else value  # NAB mirrors values below the mean
            z = (tail - mean) / std
            scores[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        if end - start < window:
            end += 1
        else:
            buffered += 1
            if buffered < step:
                continue
            start, end, buffered = start + step, end + step, 0
        mean = float(np.mean(x[start:end]))
        std = float(np.std(x[start:end])) or 0.000001
    return scores
