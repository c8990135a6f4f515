"""The fetched records of the guarded topics, handed to their agents a batch at a time.

Faust hands every fetched record to the agents on its own: per record its consumer starts two tasks and
an ``asyncio.wait`` (``wait_first``), takes a lock, puts the event on the agent's channel, and the agent's
stream runs its processors and ``take_events`` buffer over it; the worker's profile spent about half of
its busy time there. For the guarded topics (the inputs and the observations: declared ``acks=False``,
their offsets committed by the ledger, streams/delivery.py) none of Faust's per-event acking is used, so
the worker's consumer (streams/batch_consumer.py) hands the records of one fetched partition to this
inbox in one step, and each agent takes its micro-batches from it (:meth:`BatchInbox.batches`) instead of
``take_events``.

What Faust's delivery guaranteed and this keeps:

- **flow control**: each topic's queue is a ``FlowControlQueue`` of the app's flow control with
  ``clear_on_resume``, emptied with the agents' own buffers, so what it held is read again
  (streams/buffer_clear.py); delivery waits while the flow is suspended (a rebalance), and the consumer
  abandons a delivery once it is (as Faust's does per record);
- **back pressure**: a partition whose topic's queue reaches its pressure-high size is taken out of
  fetching (``on_buffer_full``) until the agent has drained the queue (``on_buffer_drop``), the calls
  Faust's conductor makes per record; a full queue makes the delivery wait, and a delivery that waited
  while the queue was emptied (a resume) stops there: what is left of its fetch is read again, as what
  the queue held (Faust's own buffers cancel their waiting puts on a clear; asyncio wakes a put only when
  an item is taken, so a wait for room across an emptying would hold the fetcher for good);
- **order**: one queue per topic, first in first out, each item one partition's records in offset order;
  a batch never holds more than ``max_size`` events (the scorers' batch limit).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from faust.types import TP, EventT
from mode.utils.queues import FlowControlEvent, FlowControlQueue

BatchSource = Callable[[Any, str], AsyncIterator[Sequence[EventT]]]
"""Where an agent of a topic takes its micro-batches: ``source(stream, topic)``."""

QUEUED_CHUNKS = 4
"""Chunks (of at most a batch each) a topic's queue holds: with a batch of 64, about the 256 events of
Faust's own per-agent buffer (``stream_buffer_maxsize``)."""


class PartitionFlow(Protocol):
    """The consumer's fetch switches (Faust's ``Consumer.on_buffer_full`` / ``on_buffer_drop``)."""

    def on_buffer_full(self, tp: TP) -> None: ...

    def on_buffer_drop(self, tp: TP) -> None: ...


class TopicQueue(FlowControlQueue[list[EventT]]):
    """A topic's queue of chunks: tells a waiting delivery when there is room, and counts the times the
    flow control emptied it (``clear``, mode's call on a resume)."""

    def __init__(self, maxsize: int, flow_control: FlowControlEvent) -> None:
        super().__init__(maxsize=maxsize, flow_control=flow_control, clear_on_resume=True)
        self.emptied = 0
        self.room = asyncio.Event()

    def clear(self) -> None:
        super().clear()
        self.emptied += 1
        self.room.set()

    def get_nowait(self) -> list[EventT]:  # asyncio's get() takes through it too
        chunk = super().get_nowait()
        self.room.set()
        return chunk


class BatchInbox:
    """One queue of fetched events per guarded topic, filled by the consumer and taken by its agent."""

    def __init__(self, flow_control: FlowControlEvent, chunk_size: int, queued_chunks: int = QUEUED_CHUNKS) -> None:
        if chunk_size < 1 or queued_chunks < 1:
            raise ValueError("chunk_size and queued_chunks must be at least 1")
        self.flow_control = flow_control
        self.chunk_size = chunk_size
        self.queued_chunks = queued_chunks
        self._queues: dict[str, TopicQueue] = {}
        self._arrived: dict[str, asyncio.Event] = {}
        self._switches: dict[TP, tuple[Callable[[], None], Callable[[], None]]] = {}

    def handles(self, topic: str) -> bool:
        """Whether the records of ``topic`` come here (its agent takes them from :meth:`batches`)."""
        return topic in self._queues

    def open(self, topic: str) -> None:
        """Deliver the records of ``topic`` here from now on (idempotent)."""
        if topic not in self._queues:
            self._queues[topic] = TopicQueue(self.queued_chunks, self.flow_control)
            self._arrived[topic] = asyncio.Event()

    async def deliver(self, tp: TP, events: Sequence[EventT], flow: PartitionFlow) -> None:
        """Queue the fetched ``events`` of ``tp`` (in offset order) in chunks of at most ``chunk_size``;
        waits while the flow is suspended or the queue is full, and stops once the queue was emptied
        meanwhile (the rest is read again with what the queue held)."""
        queue = self._queues[tp.topic]
        arrived = self._arrived[tp.topic]
        on_high, on_drop = self._switches_for(tp, flow)
        emptied = queue.emptied
        for start in range(0, len(events), self.chunk_size):
            chunk = list(events[start : start + self.chunk_size])
            await self.flow_control.acquire()
            while queue.full() and queue.emptied == emptied:
                queue.room.clear()
                await queue.room.wait()
            if queue.emptied != emptied:
                return
            queue.put_nowait_enhanced(chunk, on_pressure_high=on_high, on_pressure_drop=on_drop)
            arrived.set()

    def source(self, topics: frozenset[str], max_size: int, within: float) -> BatchSource:
        """The micro-batches of an agent: a topic of ``topics`` (the guarded ones) from this inbox (:meth:`take`),
        any other from Faust's ``take_events`` (:func:`taken_events`)."""
        others = taken_events(max_size, within)

        def source(stream: Any, topic: str) -> AsyncIterator[Sequence[EventT]]:
            return self.take(stream, topic, max_size, within) if topic in topics else others(stream, topic)

        return source

    def take(self, stream: Any, topic: str, max_size: int, within: float) -> AsyncIterator[list[EventT]]:
        """What an agent of ``topic`` iterates instead of ``stream.take_events(max_size, within)``: the
        topic is delivered here from now on, and subscribed as ``take_events`` does it (iterating the
        stream's channel adds it to Faust's conductor, whose subscription the consumer fetches)."""
        self.open(topic)
        aiter(stream.channel)
        return self.batches(topic, max_size, within)

    async def batches(self, topic: str, max_size: int, within: float) -> AsyncIterator[list[EventT]]:
        """The events of ``topic`` in batches of at most ``max_size``: a batch is handed out once it is
        full or ``within`` seconds after its first event was taken, whichever comes first."""
        self.open(topic)
        queue = self._queues[topic]
        arrived = self._arrived[topic]
        loop = asyncio.get_running_loop()
        pending: list[EventT] = []
        while True:
            if not pending:
                pending = list(await queue.get())
            deadline = loop.time() + within
            while len(pending) < max_size:
                if not queue.empty():
                    pending.extend(queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                arrived.clear()
                try:  # waits on the event, not on the queue: a timeout never loses a chunk
                    await asyncio.wait_for(arrived.wait(), remaining)
                except TimeoutError:
                    break
            batch, pending = pending[:max_size], pending[max_size:]
            yield batch

    def _switches_for(self, tp: TP, flow: PartitionFlow) -> tuple[Callable[[], None], Callable[[], None]]:
        # one pair per partition, made once: the queue keeps a pressure-drop callback pending by identity
        switches = self._switches.get(tp)
        if switches is None:

            def on_high() -> None:
                flow.on_buffer_full(tp)

            def on_drop() -> None:
                flow.on_buffer_drop(tp)

            switches = self._switches[tp] = (on_high, on_drop)
        return switches


def taken_events(max_size: int, within: float) -> BatchSource:
    """Faust's own micro-batches, ``stream.take_events(max_size, within)``: the catalog's (its events keep
    Faust's acks), and any stream's where no inbox delivers (the agents' unit tests)."""

    def source(stream: Any, topic: str) -> AsyncIterator[Sequence[EventT]]:
        return stream.take_events(max_size, within=within)

    return source


def events_of(app: Any, messages: Sequence[Any]) -> list[EventT]:
    """Faust events of raw-coded ``messages`` (what a topic of ``key_type=bytes, value_type=bytes``
    decodes them to: the key and value bytes as they are)."""
    create = app.create_event
    return [create(m.key, m.value, m.headers, m) for m in messages]
