"""Which scoring failures are worth retrying: a transient one (the server is down, overloaded, slow or
loading a model) passes; a permanent one (the request itself is rejected, or the model raises on an
input) fails the same way every time, so the batch is split to find the records that cause it
(streams/pipeline/isolation.py) instead of being retried forever."""

from __future__ import annotations

from tritonclient.utils import InferenceServerException

from channelpulse.streams.scoring.base import PermanentScoringError, ScoringError, TransientScoringError

# gRPC status codes (as tritonclient renders them) of failures that pass: the server or the network.
_TRANSIENT_STATUS = {
    "StatusCode.UNAVAILABLE": "unavailable",
    "StatusCode.DEADLINE_EXCEEDED": "deadline-exceeded",
    "StatusCode.RESOURCE_EXHAUSTED": "overloaded",
    "StatusCode.CANCELLED": "cancelled",
    "StatusCode.ABORTED": "aborted",
}

# Phrases of Triton's messages that mean "not now" whatever the status code says: a model being
# (re)loaded or unloaded by a live update, a Python-backend stub being restarted, a broken connection.
_TRANSIENT_PHRASES = {
    "unknown model": "model-not-ready",
    "no available versions": "model-not-ready",
    "not ready": "model-not-ready",
    "ready state": "model-not-ready",
    "not healthy": "model-not-ready",
    "connection refused": "connection",
    "connection reset": "connection",
    "failed to connect": "connection",
    "socket closed": "connection",
    "broken pipe": "connection",
    "deadline exceeded": "deadline-exceeded",
    "timed out": "deadline-exceeded",
}


def classify(model: str, exc: InferenceServerException, server: str) -> ScoringError:
    """The ScoringError to raise for Triton's ``exc``: transient (with a reason for the retry
    metric) or permanent (carrying the server's message, which becomes the dead letter's reason)."""
    status = str(exc.status() or "")
    message = str(exc.message() or "")
    text = f"Triton {server} model {model!r}: {message}"
    if status in _TRANSIENT_STATUS:
        return TransientScoringError(text, model=model, reason=_TRANSIENT_STATUS[status])
    lowered = message.lower()
    for phrase, reason in _TRANSIENT_PHRASES.items():
        if phrase in lowered:
            return TransientScoringError(text, model=model, reason=reason)
    return PermanentScoringError(text, model=model, server_message=message or status or "unknown error")
