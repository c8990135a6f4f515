"""One window of live rows compared with a reference profile: every test, and their combination."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.drift.statistics import category_test, histogram_test, ks_against_quantiles, psi


@dataclass(frozen=True)
class WindowStatistics:
    """Statistics and p-values of one window.

    ``prediction_p`` and ``input_p`` are Bonferroni-adjusted within their family (2 prediction
    tests; one KS test per projection); ``p_value`` is adjusted over all tests together and is what
    the drift decision reads.
    """

    size: int
    class_frequencies: tuple[float, ...]
    class_chi2: float
    class_p: float
    class_psi: float
    score_chi2: float
    score_p: float
    score_psi: float
    ks_statistics: tuple[float, ...]
    ks_p: tuple[float, ...]
    prediction_p: float
    input_p: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bonferroni(p_values: list[float]) -> float:
    """Family-wise p-value of the smallest of ``p_values``."""
    return min(1.0, len(p_values) * min(p_values)) if p_values else 1.0


def compare_window(
    reference: ReferenceProfile, classes: np.ndarray, scores: np.ndarray, projected: np.ndarray
) -> WindowStatistics:
    """Test a window given as predicted classes ``[m]``, scores ``[m]`` and projected embeddings
    ``[m, projections]`` (see :meth:`ReferenceProfile.project`) against ``reference``."""
    m = len(classes)
    counts = np.bincount(classes, minlength=len(reference.labels)).astype(np.float64)
    cls_test = category_test(reference.class_counts, counts)
    score_test, score_psi = histogram_test(reference.score_counts, reference.score_edges, scores)
    ks = [
        ks_against_quantiles(projected[:, j], reference.projection_quantiles[j], reference.n)
        for j in range(reference.num_projections)
    ]
    prediction = [cls_test.p_value, score_test.p_value]
    inputs = [k.p_value for k in ks]
    return WindowStatistics(
        size=m,
        class_frequencies=tuple(float(c) for c in counts / max(m, 1)),
        class_chi2=cls_test.statistic,
        class_p=cls_test.p_value,
        class_psi=psi(reference.class_counts, counts),
        score_chi2=score_test.statistic,
        score_p=score_test.p_value,
        score_psi=score_psi,
        ks_statistics=tuple(k.statistic for k in ks),
        ks_p=tuple(inputs),
        prediction_p=bonferroni(prediction),
        input_p=bonferroni(inputs),
        p_value=bonferroni(prediction + inputs),
    )
