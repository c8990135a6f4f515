"""The gRPC channel to Triton comes back within about its reconnect cap once the server listens again,
and the scoring retry loop's pause is capped: together they bound the time from Triton ready to the
next scored batch (the Triton recovery drill measures it on the real server)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from tritonclient.utils import InferenceServerException

from channelpulse.net import free_port
from channelpulse.streams.scoring import retry
from channelpulse.streams.scoring.base import TransientScoringError
from channelpulse.streams.scoring.retry import MAX_RETRY_DELAY_S, until_scored
from channelpulse.streams.scoring.triton import TritonScorer, channel_options


def test_the_reconnect_backoff_is_capped_and_keepalive_pings_stay_off() -> None:
    options = dict(channel_options(reconnect_max_s=1.5))
    assert options["grpc.max_reconnect_backoff_ms"] == 1500
    assert options["grpc.initial_reconnect_backoff_ms"] <= 1500
    assert options["grpc.keepalive_permit_without_calls"] == 0
    assert options["grpc.keepalive_time_ms"] >= 300_000  # Triton's default minimum ping interval
    assert dict(channel_options(reconnect_max_s=0.1))["grpc.initial_reconnect_backoff_ms"] == 100


async def reached(scorer: TritonScorer) -> bool:
    """True once the channel reaches a server (one without Triton's service answers UNIMPLEMENTED)."""
    try:
        await scorer.client.is_server_live()
    except InferenceServerException as exc:
        return "UNIMPLEMENTED" in str(exc.status())
    return True


@pytest.mark.timeout(60)
async def test_a_channel_that_failed_for_seconds_reconnects_within_its_cap() -> None:
    port = free_port()  # nothing listens there yet
    server = grpc.aio.server()
    scorer = TritonScorer(f"127.0.0.1:{port}", timeout_s=2.0, reconnect_max_s=0.3)
    try:
        failing_until = time.monotonic() + 8.0  # gRPC's default backoff waits up to ~5 s by now
        while time.monotonic() < failing_until:
            assert not await reached(scorer)
            await asyncio.sleep(0.3)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        up = time.monotonic()
        while not await reached(scorer):
            assert time.monotonic() - up < 5.0, "no reconnect within 5 s of the server listening"
            await asyncio.sleep(0.05)
        assert time.monotonic() - up < 1.5  # the cap (0.3 s), with room for a loaded machine
    finally:
        await scorer.close()
        await server.stop(None)


async def test_the_retry_pause_grows_to_its_cap_and_no_further(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []

    async def no_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", no_sleep)
    failures = 12

    async def call() -> str:
        nonlocal failures
        if failures:
            failures -= 1
            raise TransientScoringError("down", model="m-cap", reason="unavailable")
        return "scored"

    assert await until_scored(call, "m-cap batch") == "scored"
    assert len(pauses) == 12 and pauses[0] < pauses[1] < pauses[2]
    assert max(pauses) == MAX_RETRY_DELAY_S == pauses[-1]
