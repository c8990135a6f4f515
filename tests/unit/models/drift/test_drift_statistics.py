from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from channelpulse.models.drift.statistics import (
    MIN_EXPECTED,
    bin_counts,
    category_test,
    chi2_homogeneity,
    histogram_test,
    ks_against_quantiles,
    merge_rare_categories,
    merge_sparse_bins,
    psi,
)


def test_psi_is_zero_for_equal_proportions_and_grows_with_the_shift() -> None:
    ref = np.array([100, 200, 700])
    assert psi(ref, ref * 3) == pytest.approx(0.0, abs=1e-12)
    assert 0 < psi(ref, np.array([120, 200, 680])) < psi(ref, np.array([400, 200, 400]))


def test_chi2_homogeneity_uses_both_sample_sizes() -> None:
    ref = np.array([300, 300, 400])
    same = chi2_homogeneity(ref, np.array([30, 30, 40]))
    assert same.statistic == pytest.approx(0.0, abs=1e-9) and same.p_value == pytest.approx(1.0)
    shifted = np.array([0.25, 0.30, 0.45])
    small = chi2_homogeneity(ref, shifted * 100)
    large = chi2_homogeneity(ref, shifted * 10_000)
    assert large.p_value < 0.001 < 0.05 < small.p_value  # same proportions, more evidence
    # a category empty in both is dropped instead of breaking the test
    assert chi2_homogeneity(np.array([5, 0, 5]), np.array([5, 0, 5])).p_value == pytest.approx(1.0)
    assert chi2_homogeneity(np.array([10, 0]), np.array([7, 0])).p_value == 1.0
    table = np.array([[120, 30, 850], [20, 9, 71]])
    scipy_result = stats.chi2_contingency(table, correction=False)
    ours = chi2_homogeneity(table[0], table[1])
    assert ours.statistic == pytest.approx(scipy_result.statistic)
    assert ours.p_value == pytest.approx(scipy_result.pvalue)


def test_merged_bins_expect_enough_rows() -> None:
    ref = np.array([1, 1, 50, 200, 300, 200, 50, 1, 1, 0])
    for window in (20, 100, 1000):
        groups = merge_sparse_bins(ref, window)
        assert (np.diff(groups) >= 0).all() and groups[0] == 0
        expected = np.bincount(groups, weights=ref) / ref.sum() * window
        assert (expected >= MIN_EXPECTED).all() or len(expected) == 1
    assert len(np.unique(merge_sparse_bins(ref, 1000))) > len(np.unique(merge_sparse_bins(ref, 20)))


def test_rare_classes_are_pooled_so_small_windows_keep_their_false_alarm_rate() -> None:
    proportions = np.array([0.49, 0.002, 0.508])  # a classifier that almost never says "neutral"
    assert merge_rare_categories(np.round(proportions * 4000), 100).tolist() == [0, 0, 1]
    assert len(np.unique(merge_rare_categories(np.round(proportions * 4000), 10_000))) == 3
    rng = np.random.default_rng(7)
    pooled, raw = [], []
    for _ in range(200):  # a fresh reference sample each time, 20 windows of 100 against it
        reference = rng.multinomial(3700, proportions)
        for window in rng.multinomial(100, proportions, size=20):
            pooled.append(category_test(reference, window).p_value < 0.01)
            raw.append(chi2_homogeneity(reference, window).p_value < 0.01)
    assert np.mean(pooled) <= 0.015
    assert np.mean(raw) > 1.5 * np.mean(pooled)  # what pooling protects against


def test_bin_counts_put_outliers_in_the_end_bins() -> None:
    edges = np.array([-1.0, 0.0, 1.0])
    assert bin_counts(np.array([-5.0, -0.5, 0.0, 0.5, 1.0, 9.0]), edges).tolist() == [2.0, 4.0]


def test_histogram_test_detects_a_moved_distribution() -> None:
    rng = np.random.default_rng(1)
    edges = np.linspace(-1, 1, 21)
    ref = bin_counts(np.tanh(rng.normal(0.0, 0.5, 5000)), edges)
    same, same_psi = histogram_test(ref, edges, np.tanh(rng.normal(0.0, 0.5, 500)))
    moved, moved_psi = histogram_test(ref, edges, np.tanh(rng.normal(0.4, 0.5, 500)))
    assert same.p_value > 0.01 and moved.p_value < 1e-6 and moved_psi > same_psi


def test_ks_against_quantiles_matches_the_two_sample_test() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=4000)
    quantiles = np.quantile(reference, np.linspace(0, 1, 201))
    for shift in (0.0, 0.1, 0.3):
        window = rng.normal(loc=shift, size=300)
        ours = ks_against_quantiles(window, quantiles, len(reference))
        exact = stats.ks_2samp(window, reference, method="asymp")
        assert ours.statistic == pytest.approx(exact.statistic, abs=0.01)
        assert ours.p_value == pytest.approx(exact.pvalue, abs=0.05, rel=0.5)
    assert ks_against_quantiles(np.array([]), quantiles, 10).p_value == 1.0
