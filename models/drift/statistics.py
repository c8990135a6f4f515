"""Two-sample tests of one window against a reference summary, each giving a statistic and a p-value.

The reference is kept as counts (classes, score-histogram bins) and as quantiles (projections), so
the tests compare a window with the reference *sample* they summarise: p-values shrink with both
sample sizes the way sampling noise does, which is what lets one alpha work for any window size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

PSI_EPSILON = 1e-4
MIN_EXPECTED = 5.0
"""Adjacent histogram bins are merged until each merged bin expects at least this many window rows."""


@dataclass(frozen=True)
class TestResult:
    statistic: float
    p_value: float


def psi(reference_counts: np.ndarray, window_counts: np.ndarray) -> float:
    """Population stability index ``sum((w - r) * ln(w / r))`` of two count vectors (proportions
    smoothed by PSI_EPSILON). Reported as an effect size only; decisions use the p-values."""
    r = np.asarray(reference_counts, dtype=np.float64)
    w = np.asarray(window_counts, dtype=np.float64)
    r = np.maximum(r / max(r.sum(), 1.0), PSI_EPSILON)
    w = np.maximum(w / max(w.sum(), 1.0), PSI_EPSILON)
    return float(np.sum((w - r) * np.log(w / r)))


def chi2_homogeneity(reference_counts: np.ndarray, window_counts: np.ndarray) -> TestResult:
    """Chi-squared test that reference and window counts come from one categorical distribution
    (a 2 x K contingency table; categories empty in both are dropped)."""
    table = np.vstack([reference_counts, window_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return TestResult(0.0, 1.0)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return TestResult(statistic, float(stats.chi2.sf(statistic, table.shape[1] - 1)))


def merge_sparse_bins(reference_counts: np.ndarray, window_size: int) -> np.ndarray:
    """Group ids (one per bin) that merge adjacent bins until each group expects at least
    MIN_EXPECTED rows in a window of ``window_size`` under the reference proportions."""
    counts = np.asarray(reference_counts, dtype=np.float64)
    expected = counts / max(counts.sum(), 1.0) * window_size
    groups = np.zeros(len(counts), dtype=np.int64)
    group, acc = 0, 0.0
    for i, e in enumerate(expected):
        groups[i] = group
        acc += e
        if acc >= MIN_EXPECTED and i < len(counts) - 1:
            group, acc = group + 1, 0.0
    if acc < MIN_EXPECTED and group > 0:  # a short last group joins the one before it
        groups[groups == group] = group - 1
    return groups


def merge_rare_categories(reference_counts: np.ndarray, window_size: int) -> np.ndarray:
    """Group ids (one per category) that pool the rarest categories (by reference count) until
    each group expects at least MIN_EXPECTED rows in a window of ``window_size`` (Cochran's rule:
    the chi-squared approximation is far too liberal for a class a window expects < 1 of)."""
    counts = np.asarray(reference_counts, dtype=np.float64)
    order = np.argsort(counts, kind="stable")
    groups = np.empty(len(counts), dtype=np.int64)
    groups[order] = merge_sparse_bins(counts[order], window_size)
    return groups


def category_test(reference_counts: np.ndarray, window_counts: np.ndarray) -> TestResult:
    """Chi-squared homogeneity of two categorical count vectors, rare categories pooled first."""
    groups = merge_rare_categories(reference_counts, int(np.sum(window_counts)))
    ref = np.bincount(groups, weights=np.asarray(reference_counts, dtype=np.float64))
    win = np.bincount(groups, weights=np.asarray(window_counts, dtype=np.float64))
    return chi2_homogeneity(ref, win)


def histogram_test(reference_counts: np.ndarray, edges: np.ndarray, values: np.ndarray) -> tuple[TestResult, float]:
    """Chi-squared homogeneity of ``values`` binned on ``edges`` against the reference histogram
    (sparse bins merged), and the PSI over the unmerged bins."""
    window_counts = bin_counts(values, edges)
    groups = merge_sparse_bins(reference_counts, len(values))
    ref = np.bincount(groups, weights=reference_counts)
    win = np.bincount(groups, weights=window_counts)
    return chi2_homogeneity(ref, win), psi(reference_counts, window_counts)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in the bins of ``edges``; values outside fall into the end bins."""
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(idx, minlength=len(edges) - 1).astype(np.float64)


def ks_against_quantiles(values: np.ndarray, quantiles: np.ndarray, reference_n: int) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test of ``values`` against a reference sample of size
    ``reference_n`` summarised by its quantiles at evenly spaced levels 0..1.

    The reference CDF is the piecewise-linear interpolation of those quantiles; the p-value is the
    asymptotic two-sample one (as in ``scipy.stats.ks_2samp``) with ``n = m r / (m + r)``.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    m = len(x)
    if m == 0:
        return TestResult(0.0, 1.0)
    q = np.maximum.accumulate(np.asarray(quantiles, dtype=np.float64))
    levels = np.linspace(0.0, 1.0, len(q))
    # The CDF at x: the highest level whose quantile is <= x (handles repeated quantiles).
    ref_cdf = np.interp(x, q, levels, left=0.0, right=1.0)
    above = np.arange(1, m + 1) / m - ref_cdf
    below = ref_cdf - np.arange(0, m) / m
    d = float(max(above.max(), below.max(), 0.0))
    en = m * reference_n / (m + reference_n)
    return TestResult(d, float(stats.kstwo.sf(d, max(1, round(en)))))
