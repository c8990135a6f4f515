"""The inbox the guarded topics' fetched records reach their agents through (streams/batch_inbox.py):
order, batch limits, the batch wait, flow control and back pressure, on the installed mode/Faust."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.types import TP

from channelpulse.streams.batch_inbox import BatchInbox
from channelpulse.streams.buffer_clear import on_buffers_cleared

pytestmark = pytest.mark.unit

TOPIC = "events.reviews"


class Flow:
    """What the consumer's fetch switches record."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, TP]] = []

    def on_buffer_full(self, tp: TP) -> None:
        self.calls.append(("full", tp))

    def on_buffer_drop(self, tp: TP) -> None:
        self.calls.append(("drop", tp))


class Event:
    def __init__(self, partition: int, offset: int) -> None:
        self.partition, self.offset = partition, offset


def events(partition: int, offsets: range) -> list[Any]:
    return [Event(partition, o) for o in offsets]


def app_and_inbox(chunk_size: int = 4, queued_chunks: int = 4) -> tuple[faust.App, BatchInbox]:
    app = faust.App("batch-inbox-test", broker="memory://")
    app.flow_control.resume()  # the app starts suspended; a recovery resumes the flow
    inbox = BatchInbox(app.flow_control, chunk_size, queued_chunks)
    inbox.open(TOPIC)
    return app, inbox


async def test_batches_keep_the_order_and_never_exceed_the_batch_size() -> None:
    _, inbox = app_and_inbox(chunk_size=4, queued_chunks=8)
    flow = Flow()
    await inbox.deliver(TP(TOPIC, 0), events(0, range(10)), flow)
    await inbox.deliver(TP(TOPIC, 1), events(1, range(3)), flow)
    batches = inbox.batches(TOPIC, max_size=6, within=0.05)
    taken = [await anext(batches) for _ in range(3)]
    assert [len(b) for b in taken] == [6, 6, 1]
    flat = [(e.partition, e.offset) for b in taken for e in b]
    assert flat == [(0, o) for o in range(10)] + [(1, o) for o in range(3)]


async def test_a_batch_that_is_not_full_is_handed_out_within_the_wait() -> None:
    _, inbox = app_and_inbox()
    await inbox.deliver(TP(TOPIC, 0), events(0, range(2)), Flow())
    loop = asyncio.get_running_loop()
    batches = inbox.batches(TOPIC, max_size=64, within=0.05)
    start = loop.time()
    batch = await asyncio.wait_for(anext(batches), 5.0)
    assert [e.offset for e in batch] == [0, 1]
    assert loop.time() - start < 2.0  # the wait, not a full batch, handed it out

    async def later() -> None:
        await asyncio.sleep(0.01)
        await inbox.deliver(TP(TOPIC, 0), events(0, range(2, 4)), Flow())

    await inbox.deliver(TP(TOPIC, 0), events(0, range(2, 2)), Flow())  # an empty fetch delivers nothing
    task = asyncio.ensure_future(later())
    batch = await asyncio.wait_for(anext(batches), 5.0)
    await task
    assert [e.offset for e in batch] == [2, 3]


async def test_a_suspended_flow_holds_the_delivery_and_a_resume_empties_the_queue() -> None:
    app, inbox = app_and_inbox()
    cleared: list[bool] = []
    on_buffers_cleared(app.flow_control, lambda: cleared.append(True))
    app.flow_control.suspend()  # a rebalance
    delivery = asyncio.ensure_future(inbox.deliver(TP(TOPIC, 0), events(0, range(3)), Flow()))
    await asyncio.sleep(0.01)
    assert not delivery.done()  # held while suspended (the consumer abandons it)
    delivery.cancel()
    await inbox.deliver(TP(TOPIC, 0), events(0, range(0)), Flow())
    app.flow_control.resume()
    await inbox.deliver(TP(TOPIC, 0), events(0, range(5)), Flow())
    app.flow_control.resume()  # the end of a recovery: the agents' buffers, and this queue, are emptied
    assert cleared == [True, True]  # and reported: the runtime reads what they held again
    await inbox.deliver(TP(TOPIC, 0), events(0, range(5, 6)), Flow())
    batch = await asyncio.wait_for(anext(inbox.batches(TOPIC, max_size=64, within=0.01)), 5.0)
    assert [e.offset for e in batch] == [5]


async def test_a_partition_is_taken_out_of_fetching_while_its_topic_queue_is_under_pressure() -> None:
    _, inbox = app_and_inbox(chunk_size=2, queued_chunks=4)  # pressure high at 3 chunks
    flow = Flow()
    tp = TP(TOPIC, 2)
    await inbox.deliver(tp, events(2, range(8)), flow)  # 4 chunks: the 4th finds 3 queued
    assert flow.calls == [("full", tp)]
    batches = inbox.batches(TOPIC, max_size=2, within=0.0)
    for _ in range(3):
        await anext(batches)
    assert flow.calls == [("full", tp)]  # taken while above the drop size (1 chunk)
    await anext(batches)  # mode's queue endorses the drop when taking at or below it
    assert flow.calls == [("full", tp), ("drop", tp)]  # fetched again


async def test_a_full_queue_makes_the_delivery_wait_for_the_agent() -> None:
    _, inbox = app_and_inbox(chunk_size=1, queued_chunks=2)
    delivery = asyncio.ensure_future(inbox.deliver(TP(TOPIC, 0), events(0, range(4)), Flow()))
    await asyncio.sleep(0.01)
    assert not delivery.done()
    batches = inbox.batches(TOPIC, max_size=1, within=0.0)
    taken = [(await anext(batches))[0].offset for _ in range(4)]
    await asyncio.wait_for(delivery, 1.0)
    assert taken == [0, 1, 2, 3]


def test_take_subscribes_the_agents_topic_as_take_events_does() -> None:
    app = faust.App("batch-inbox-subscribe", broker="kafka://localhost:9092")
    inbox = BatchInbox(app.flow_control, 4)
    topic = app.topic(TOPIC, key_type=bytes, value_type=bytes)
    stream = app.stream(topic)
    assert not inbox.handles(TOPIC)
    inbox.take(stream, TOPIC, 4, 0.01)
    assert inbox.handles(TOPIC)
    assert any(TOPIC in channel.topics for channel in app.topics)  # in Faust's conductor: subscribed


def test_the_sizes_must_be_positive() -> None:
    app = faust.App("batch-inbox-sizes", broker="memory://")
    with pytest.raises(ValueError):
        BatchInbox(app.flow_control, 0)


async def test_the_source_takes_the_guarded_topics_from_the_inbox_and_the_others_from_take_events() -> None:
    app = faust.App("batch-inbox-source", broker="kafka://localhost:9092")
    app.flow_control.resume()
    inbox = BatchInbox(app.flow_control, 4)
    source = inbox.source(frozenset({TOPIC}), max_size=4, within=0.0)

    class Catalog:
        """A stream whose take_events hands out one batch."""

        async def take_events(self, max_size: int, within: float) -> Any:
            yield [Event(0, 7)]

    catalog_batch = await anext(source(Catalog(), "catalog.items"))
    assert [e.offset for e in catalog_batch] == [7] and not inbox.handles("catalog.items")
    stream = app.stream(app.topic(TOPIC, key_type=bytes, value_type=bytes))
    batches = source(stream, TOPIC)
    assert inbox.handles(TOPIC)
    await inbox.deliver(TP(TOPIC, 0), events(0, range(3)), Flow())
    assert [e.offset for e in await anext(batches)] == [0, 1, 2]


async def test_a_delivery_waiting_on_a_full_queue_is_abandoned_when_the_queue_is_emptied() -> None:
    # the end of a recovery: Faust resumes the flow control (emptying the queue) while the fetcher,
    # active since the partitions were resumed, waits for room; asyncio wakes a put only when an item
    # is taken, and nothing is left to take: the fetcher (every topic) would wait for good
    app, inbox = app_and_inbox(chunk_size=1, queued_chunks=2)
    delivery = asyncio.ensure_future(inbox.deliver(TP(TOPIC, 0), events(0, range(4)), Flow()))
    await asyncio.sleep(0.01)
    assert not delivery.done()  # offsets 0 and 1 queued, 2 waits for room
    app.flow_control.resume()  # empties the queue: its events, and the rest of this fetch, are read again
    await asyncio.wait_for(delivery, 1.0)
    await inbox.deliver(TP(TOPIC, 0), events(0, range(7, 8)), Flow())  # the next fetch, after the seek
    batch = await asyncio.wait_for(anext(inbox.batches(TOPIC, max_size=64, within=0.01)), 5.0)
    assert [e.offset for e in batch] == [7]  # nothing fetched before the emptying comes after it
