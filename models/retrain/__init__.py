"""Retraining from labelled feedback: :func:`run_retrain` turns a :class:`RetrainJob` into a
:class:`RetrainOutcome` (train a candidate, compare it with the serving version on the same
held-out rows, promote it through the registry when it wins by the policy's margin). Knows nothing
about Kafka: streams/retrainer.py is the adapter. See docs/lifecycle.md.
"""

from channelpulse.models.retrain.decision import Decision, PromotionPolicy, decide
from channelpulse.models.retrain.feedback import eval_split, labelled_reviews
from channelpulse.models.retrain.job import RetrainJob, RetrainOutcome
from channelpulse.models.retrain.run import run_retrain
from channelpulse.models.retrain.trainers import TRAINERS, SentimentTrainer, TextTrainer

__all__ = [
    "TRAINERS",
    "Decision",
    "PromotionPolicy",
    "RetrainJob",
    "RetrainOutcome",
    "SentimentTrainer",
    "TextTrainer",
    "decide",
    "eval_split",
    "labelled_reviews",
    "run_retrain",
]
