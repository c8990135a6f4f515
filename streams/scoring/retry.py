"""Retry a scoring call until it succeeds: a batch is delayed, never dropped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from streams.scoring.base import ScoringError

T = TypeVar("T")
log = logging.getLogger(__name__)


async def until_scored(
    call: Callable[[], Awaitable[T]], what: str, first_delay_s: float = 0.2, max_delay_s: float = 5.0
) -> T:
    """Await ``call()``; on ScoringError or a connection error, back off exponentially and try again."""
    delay = first_delay_s
    attempt = 1
    while True:
        try:
            return await call()
        except (ScoringError, ConnectionError, OSError) as exc:
            log.warning("%s failed (attempt %d), retrying in %.1fs: %s", what, attempt, delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
            attempt += 1
