"""Batches sent but not yet acknowledged: the agent goes on at once, a batch is done only once its
acknowledgement came, a refused one is handed back, and an agent never has more than its limit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from channelpulse.streams.acks_in_flight import AcksInFlight


class Ledger:
    def __init__(self) -> None:
        self.done: list[Any] = []
        self.failed: list[Any] = []

    def on_done(self, events: Sequence[Any]) -> None:
        self.done.extend(events)

    async def on_failed(self, events: Sequence[Any]) -> None:
        self.failed.extend(events)


def future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


async def test_a_batch_is_done_only_once_acknowledged_and_the_agent_does_not_wait() -> None:
    ledger = Ledger()
    acks = AcksInFlight(ledger.on_done, ledger.on_failed, limit=2)
    first, second = future(), future()
    await asyncio.wait_for(acks.add("clicks", first, [0, 1]), 1.0)
    await asyncio.wait_for(acks.add("clicks", second, [2]), 1.0)
    await asyncio.sleep(0)
    assert ledger.done == [] and acks.unacked("clicks") == 2
    second.set_result(None)
    await asyncio.sleep(0)
    assert ledger.done == [2]  # out of order is fine: the ledger keeps offsets below a gap pending
    first.set_result(None)
    await acks.settle()
    assert ledger.done == [2, 0, 1] and acks.unacked("clicks") == 0


async def test_a_refused_acknowledgement_hands_the_batch_back() -> None:
    ledger = Ledger()
    acks = AcksInFlight(ledger.on_done, ledger.on_failed)
    refused = future()
    await acks.add("clicks", refused, [5, 6])
    refused.set_exception(RuntimeError("not enough replicas (fake)"))
    await acks.settle()
    assert ledger.failed == [5, 6] and ledger.done == []


async def test_an_agent_at_its_limit_waits_for_its_oldest_batch_and_others_do_not() -> None:
    ledger = Ledger()
    acks = AcksInFlight(ledger.on_done, ledger.on_failed, limit=1)
    oldest = future()
    await acks.add("clicks", oldest, [0])
    blocked = asyncio.ensure_future(acks.add("clicks", future(), [1]))
    await acks.add("sensors", future(), [9])  # another agent: its own limit
    await asyncio.sleep(0.01)
    assert not blocked.done()
    oldest.set_result(None)
    await asyncio.wait_for(blocked, 1.0)
    assert ledger.done == [0]


async def test_settle_gives_up_after_its_timeout() -> None:
    acks = AcksInFlight(Ledger().on_done, Ledger().on_failed)
    await acks.add("clicks", future(), [0])
    await asyncio.wait_for(acks.settle(timeout_s=0.01), 1.0)
    assert acks.unacked("clicks") == 1
