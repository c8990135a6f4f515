"""Promote or not: the candidate must beat the serving version on the same evaluation rows by a
margin, on enough rows for the difference to mean something."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_METRIC = "macro_f1"
DEFAULT_MARGIN = 0.02
DEFAULT_MIN_EVAL_ROWS = 100


@dataclass(frozen=True)
class PromotionPolicy:
    metric: str = DEFAULT_METRIC
    """Metric compared (from models.sentiment.evaluate.classification_metrics): macro-F1 weighs the
    three classes equally, so a candidate cannot win by predicting the majority class."""
    margin: float = DEFAULT_MARGIN
    """Candidate must score at least serving + margin (absolute, e.g. 0.02 = 2 points of macro-F1)."""
    min_eval_rows: int = DEFAULT_MIN_EVAL_ROWS
    """Fewer evaluation rows than this: no promotion (the comparison is too noisy)."""


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(
    candidate: dict[str, float], serving: dict[str, float] | None, eval_rows: int, policy: PromotionPolicy
) -> Decision:
    """Whether to promote; ``serving`` is None when nothing serves yet (then only the row count counts)."""
    if eval_rows < policy.min_eval_rows:
        return Decision(False, f"only {eval_rows} evaluation rows (need {policy.min_eval_rows})")
    new = candidate[policy.metric]
    if serving is None:
        return Decision(True, f"no serving version; candidate {policy.metric} {new:.4f}")
    old = serving[policy.metric]
    verdict = "beats" if new >= old + policy.margin else "does not beat"
    return Decision(
        new >= old + policy.margin,
        f"candidate {policy.metric} {new:.4f} {verdict} serving {old:.4f} + margin {policy.margin:g} "
        f"on {eval_rows} evaluation rows",
    )
