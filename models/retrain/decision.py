"""Promote or not: the candidate must beat the serving version on the same evaluation rows by a
margin, on enough rows for the difference to mean something, and the gain must survive resampling
those rows (a paired bootstrap: the candidate wins on at least ``confidence`` of the resamples)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_METRIC = "macro_f1"
DEFAULT_MARGIN = 0.02
DEFAULT_MIN_EVAL_ROWS = 100
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 1000

Metric = Callable[[np.ndarray, np.ndarray], float]
"""``metric(predicted_labels, true_labels)``: higher is better."""


@dataclass(frozen=True)
class PromotionPolicy:
    metric: str = DEFAULT_METRIC
    """Metric compared (from channelpulse.models.sentiment.evaluate.classification_metrics): macro-F1 weighs the
    three classes equally, so a candidate cannot win by predicting the majority class."""
    margin: float = DEFAULT_MARGIN
    """Candidate must score at least serving + margin (absolute, e.g. 0.02 = 2 points of macro-F1)."""
    min_eval_rows: int = DEFAULT_MIN_EVAL_ROWS
    """Fewer evaluation rows than this: no promotion (the comparison is too noisy)."""
    confidence: float = DEFAULT_CONFIDENCE
    """Share of paired bootstrap resamples of the evaluation rows on which the candidate must beat
    the serving version (0 = no resampling test)."""
    resamples: int = DEFAULT_RESAMPLES
    """Bootstrap resamples drawn (seeded)."""


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def paired_win_rate(
    candidate: np.ndarray, serving: np.ndarray, truth: np.ndarray, metric: Metric, resamples: int, seed: int = 0
) -> float:
    """Share of bootstrap resamples of the rows (the same resampled rows for both versions, so
    the rows' own difficulty cancels out) on which ``metric`` of ``candidate``'s predicted labels
    is strictly above ``serving``'s."""
    candidate, serving, truth = (np.asarray(a) for a in (candidate, serving, truth))
    if not (len(candidate) == len(serving) == len(truth)) or len(truth) == 0:
        raise ValueError("candidate, serving and true labels must be non-empty and of one length")
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(resamples):
        rows = rng.integers(0, len(truth), size=len(truth))
        wins += metric(candidate[rows], truth[rows]) > metric(serving[rows], truth[rows])
    return wins / resamples


def decide(
    candidate: dict[str, float],
    serving: dict[str, float] | None,
    eval_rows: int,
    policy: PromotionPolicy,
    win_rate: float | None = None,
) -> Decision:
    """Whether to promote; ``serving`` is None when nothing serves yet (then only the row count
    counts). ``win_rate`` (:func:`paired_win_rate`) is checked against ``policy.confidence`` when given."""
    if eval_rows < policy.min_eval_rows:
        return Decision(False, f"only {eval_rows} evaluation rows (need {policy.min_eval_rows})")
    new = candidate[policy.metric]
    if serving is None:
        return Decision(True, f"no serving version; candidate {policy.metric} {new:.4f}")
    old = serving[policy.metric]
    beats = new >= old + policy.margin
    verdict = "beats" if beats else "does not beat"
    reason = (f"candidate {policy.metric} {new:.4f} {verdict} serving {old:.4f} + margin {policy.margin:g} "
              f"on {eval_rows} evaluation rows")
    if win_rate is None or policy.confidence <= 0:
        return Decision(beats, reason)
    sure = win_rate >= policy.confidence
    reason += (f"; it wins on {win_rate:.1%} of {policy.resamples} paired bootstrap resamples "
               f"(need {policy.confidence:.0%})")
    return Decision(beats and sure, reason)
