"""Transient Triton failures are told apart from permanent ones, and only transient ones are retried."""

from __future__ import annotations

import pytest
from tritonclient.utils import InferenceServerException

from channelpulse.streams import metrics
from channelpulse.streams.scoring.base import PermanentScoringError, ScoringError, TransientScoringError
from channelpulse.streams.scoring.errors import classify
from channelpulse.streams.scoring.retry import until_scored


def triton_error(status: str, message: str) -> InferenceServerException:
    return InferenceServerException(msg=message, status=status)


@pytest.mark.parametrize(
    ("status", "message", "reason"),
    [
        ("StatusCode.UNAVAILABLE", "failed to connect to all addresses", "unavailable"),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", "deadline-exceeded"),
        ("StatusCode.RESOURCE_EXHAUSTED", "queue full", "overloaded"),
        ("StatusCode.INTERNAL", "Stub process 'sentiment_0_0' is not healthy.", "model-not-ready"),
        ("StatusCode.INVALID_ARGUMENT", "Request for unknown model: 'sentiment' is not found", "model-not-ready"),
        ("StatusCode.UNKNOWN", "Connection reset by peer", "connection"),
        ("StatusCode.INTERNAL", "model 'anomaly' version 2 is not at ready state", "model-not-ready"),
    ],
)
def test_server_and_network_failures_are_transient(status: str, message: str, reason: str) -> None:
    error = classify("sentiment", triton_error(status, message), "localhost:8001")
    assert isinstance(error, TransientScoringError)
    assert (error.model, error.reason) == ("sentiment", reason)
    assert message in str(error)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("StatusCode.INVALID_ARGUMENT", "inference request batch-size must be <= 64 for 'sentiment'"),
        ("StatusCode.INTERNAL", "ValueError: cannot score the text 'POISON'"),
        ("StatusCode.INVALID_ARGUMENT", "unexpected shape for input 'WINDOW' for model 'anomaly'"),
    ],
)
def test_rejected_requests_and_model_errors_are_permanent(status: str, message: str) -> None:
    error = classify("sentiment", triton_error(status, message), "localhost:8001")
    assert isinstance(error, PermanentScoringError)
    assert error.server_message == message
    assert not isinstance(error, TransientScoringError)


def retries(model: str, reason: str) -> float:
    return metrics.REGISTRY.get_sample_value(
        "channelpulse_scoring_retries_total", {"model": model, "reason": reason}
    ) or 0.0


async def test_transient_failures_are_retried_with_a_metric_by_model_and_reason() -> None:
    failures: list[Exception] = [
        TransientScoringError("down", model="m-retry", reason="unavailable"),
        ScoringError("overloaded", model="m-retry", reason="overloaded"),
        ConnectionRefusedError("refused"),
    ]
    before = (retries("m-retry", "unavailable"), retries("m-retry", "overloaded"), retries("scoring m", "connection"))

    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return "scored"

    assert await until_scored(call, "scoring m", first_delay_s=0.001) == "scored"
    after = (retries("m-retry", "unavailable"), retries("m-retry", "overloaded"), retries("scoring m", "connection"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1.0, 1.0, 1.0]


async def test_a_permanent_failure_is_raised_at_once_not_retried() -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise PermanentScoringError("rejected", model="m-perm", server_message="bad input")

    with pytest.raises(PermanentScoringError, match="rejected"):
        await until_scored(call, "m-perm batch", first_delay_s=0.001)
    assert calls == 1
    assert retries("m-perm", "permanent") == 0.0
