"""Retry a scoring call while its failure is transient: a batch is delayed, never dropped.

A permanent failure (:class:`PermanentScoringError`) is raised at once: retrying it would stall
the partition forever; the caller isolates the records that cause it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from channelpulse.streams.metrics import SCORING_RETRIES
from channelpulse.streams.scoring.base import PermanentScoringError, ScoringError

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 2.0
"""The longest pause between two tries: with the channel's reconnect backoff (at most
CHANNELPULSE_TRITON_RECONNECT_MAX_S) this bounds the time from Triton ready to the next scored batch."""


async def until_scored(
    call: Callable[[], Awaitable[T]], what: str, first_delay_s: float = 0.2, max_delay_s: float = MAX_RETRY_DELAY_S
) -> T:
    """Await ``call()``; on a transient ScoringError or a connection error, count the retry
    (``channelpulse_scoring_retries_total{model, reason}``), back off exponentially and try again."""
    delay = first_delay_s
    attempt = 1
    while True:
        try:
            return await call()
        except PermanentScoringError:
            raise
        except (ScoringError, ConnectionError, OSError) as exc:
            model, reason = (exc.model, exc.reason) if isinstance(exc, ScoringError) else (what, "connection")
            SCORING_RETRIES.labels(model=model, reason=reason).inc()
            log.warning("%s failed (attempt %d), retrying in %.1fs: %s", what, attempt, delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
            attempt += 1
