"""An in-memory scorer and transport, so pipeline logic and the worker's parts are tested without Kafka
or Triton: :class:`FakeScorer`; a producer capturing sends (:class:`FakeProducer`), a consumer recording
seeks (:class:`FakeConsumer`), a partition log (:class:`FakePartitionLog`), a stream of batches
(:class:`FakeStream`), and :class:`InMemoryWorker`: the worker's parts wired on them as ``make_app``
wires them on Faust's (streams/app.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.analytics_agent import AnalyticsAgent
from channelpulse.streams.commit_barrier import CommitBarrier
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.outputs import OutputProducer
from channelpulse.streams.partition_delivery import PartitionDelivery
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.privacy.keys import current_pseudonymizer
from channelpulse.streams.producer_metadata import ChangelogMetadata
from channelpulse.streams.scoring.base import AnomalyBatch, RecommendationBatch, ScoringError, SentimentBatch
from channelpulse.streams.scoring_agents import ScoringAgents
from channelpulse.streams.timers import LagReporter

CATALOG = [f"item-{i}" for i in range(30)]


class FakeScorer:
    """Keyword sentiment, catalog-order recommendations minus excludes, |last value| anomalies.
    ``fail_first`` makes the first calls fail, to exercise the retry path."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, int]] = []
        self.requests: list[tuple[list[list[str]], list[list[str]]]] = []
        self.fail_first = fail_first

    def _maybe_fail(self) -> None:
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ScoringError("server unavailable (fake)")

    async def sentiment(self, texts: Sequence[str]) -> SentimentBatch:
        self._maybe_fail()
        self.calls.append(("sentiment", len(texts)))
        probs = np.array([[0.8, 0.1, 0.1] if "bad" in t else [0.1, 0.1, 0.8] for t in texts], dtype=np.float32)
        return SentimentBatch(probs, np.zeros((len(texts), 4), np.float32), "3")

    async def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[Sequence[str]], k: int
    ) -> RecommendationBatch:
        self._maybe_fail()
        self.calls.append(("recommend", len(histories)))
        self.requests.append(([list(h) for h in histories], [list(e) for e in excludes]))
        items = [[(i, 1.0 / (n + 1)) for n, i in enumerate(x for x in CATALOG if x not in e)][:k] for e in excludes]
        return RecommendationBatch(items, "1")

    async def anomaly(self, states: np.ndarray, values: np.ndarray, times: np.ndarray) -> AnomalyBatch:
        """Score |value| / 100 per reading; the state row is [2.0, readings seen] (format 2)."""
        self._maybe_fail()
        self.calls.append(("anomaly", len(values)))
        present = np.isfinite(times)
        scores = np.where(present, np.clip(np.abs(values) / 100.0, 0, 1), 0.0).astype(np.float32)
        seen = np.where(states[:, 0] == 2.0, states[:, 1], 0.0) if states.shape[1] >= 2 else np.zeros(len(values))
        new_states = np.column_stack([np.full(len(values), 2.0), seen + present.sum(axis=1)])
        return AnomalyBatch(scores, scores > 0.5, new_states, "2")

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Message:
    """What the parts read of a Faust message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


@dataclass(frozen=True)
class Event:
    message: Message


def event(topic: str, partition: int, offset: int, value: bytes | None, key: bytes | None = None) -> Event:
    return Event(Message(topic, partition, offset, key, value))


class FakeProducer:
    """Acknowledges every send at once, except while ``failing`` (the next sends raise); logs sends and
    flushes in order (``log``) and keeps what was sent (``sent``: topic and value)."""

    def __init__(self) -> None:
        self.failing = 0
        self.log: list[str] = []
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes, **_: Any) -> asyncio.Future[None]:
        if self.failing:
            self.failing -= 1
            raise RuntimeError("produce refused (fake)")
        self.sent.append((topic, value))
        self.log.append("send")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send_many(self, records: Sequence[tuple[str, bytes | None, bytes | None]]) -> asyncio.Future[Any]:
        """``send`` each record; one future for all their acknowledgements."""
        acks = [await self.send(topic, key, value or b"") for topic, key, value in records]
        return asyncio.gather(*acks)

    async def flush(self) -> None:
        self.log.append("flush")

    def values(self, topic: str) -> list[bytes]:
        return [v for t, v in self.sent if t == topic]


class FakeConsumer:
    """The partitions ``assigned``, each partition's ``high`` watermark, the ``earliest`` offsets (0 when
    not given); records every seek (``seeks``); the next ``failing_seeks`` seeks raise."""

    def __init__(self, assigned: Iterable[TP] = ()) -> None:
        self.assigned = set(assigned)
        self.high: dict[TP, int] = {}
        self.earliest: dict[TP, int] = {}
        self.seeks: list[dict[TP, int]] = []
        self.failing_seeks = 0

    def assignment(self) -> set[TP]:
        return self.assigned

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        if self.failing_seeks:
            self.failing_seeks -= 1
            raise RuntimeError("partition not assigned (fake)")
        self.seeks.append(dict(partitions))

    async def earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        return {tp: self.earliest.get(tp, 0) for tp in partitions}

    def highwater(self, tp: TP) -> int | None:
        return self.high.get(tp)


class FakePartitionLog:
    """The group's ``commits`` and, per partition, the offsets that hold a ``record`` (a partition not
    named holds one at every offset)."""

    def __init__(self) -> None:
        self.commits: dict[TP, int] = {}
        self.records: dict[TP, list[int]] = {}
        self.lookups: list[tuple[TP, int]] = []

    def committed(self, tps: Collection[TP]) -> dict[TP, int]:
        return {tp: self.commits[tp] for tp in tps if tp in self.commits}

    def first_offset_from(self, tp: TP, offset: int) -> int | None:
        self.lookups.append((tp, offset))
        if tp not in self.records:
            return offset
        return min((o for o in self.records[tp] if o >= offset), default=None)


class FakeStream:
    """Faust's stream of an agent: ``batches`` through ``take_events``, their events through ``events``."""

    def __init__(self, batches: Sequence[Sequence[Event]]) -> None:
        self.batches = batches

    async def take_events(self, max_size: int, within: float) -> AsyncIterator[Sequence[Event]]:
        for batch in self.batches:
            yield batch

    async def events(self) -> AsyncIterator[Event]:
        for batch in self.batches:
            for e in batch:
                yield e


async def drain(agent: Callable[[Any], AsyncIterator[None]], stream: FakeStream) -> None:
    """Run an agent over ``stream`` to its end."""
    async for _ in agent(stream):
        pass


async def no_sleep(_: float) -> None:
    """``asyncio.sleep`` for tests of the back-offs (monkeypatched in)."""
    return None


class InMemoryWorker:
    """The worker's parts on the in-memory transport, wired as ``make_app`` wires them (streams/app.py):
    the scoring agents (with a :class:`FakeScorer` processor, writing to the lake when ``lake``), the
    analytics agent (on a dict, as a Faust table refuses writes outside a running stream), delivery and
    the lag. Commits go to ``committed`` behind the producer's flush (``producer.log`` gets "commit")."""

    def __init__(self, settings: Settings, lake: bool = False) -> None:
        self.settings = settings
        self.producer, self.consumer, self.partition_log = FakeProducer(), FakeConsumer(), FakePartitionLog()
        self.committed: dict[TP, int] = {}
        self.lake = LakeWriter(
            settings.lake_root,
            flush_rows=settings.lake_flush_rows,
            flush_seconds=settings.lake_flush_seconds,
            retention_days=settings.lake_retention_days,
            pseudonymize=current_pseudonymizer(settings).row,
        )
        barrier = CommitBarrier(self.producer.flush, self._commit, first_delay_s=0.0)
        self.delivery = PartitionDelivery(settings, lambda: self.consumer, self.partition_log, barrier, self.lake)
        self.ledger = self.delivery.ledger
        outputs = OutputProducer(lambda: self.producer)  # type: ignore[arg-type,return-value]
        self.metadata = ChangelogMetadata(lambda: None, ())  # type: ignore[arg-type,return-value]  # no tables
        processor_lake = self.lake if lake else None
        self.scoring = ScoringAgents(
            settings,
            lambda: Processor(settings, FakeScorer(), {}, {}, lake=processor_lake),
            self.delivery,
            outputs,
            self.lake,
            self.metadata,
        )
        self.analytics: dict[bytes, Any] = {}
        self.analytics_agent = AnalyticsAgent(settings, self.analytics, self.delivery, outputs)
        self.lag = LagReporter(
            frozenset((*settings.input_topics, settings.topic_catalog)),
            self.ledger,
            self.scoring.next_offset,
            lambda: self.consumer,
        )

    async def _commit(self, offsets: Mapping[TP, int]) -> Mapping[TP, int]:
        self.producer.log.append("commit")
        self.committed.update(offsets)
        return offsets

    def own(self, tp: TP, start: int = 0, high: int = 0) -> None:
        """``tp`` assigned to this worker, the ledger started at ``start``, ``high`` its watermark."""
        self.consumer.assigned.add(tp)
        self.consumer.high[tp] = high
        self.ledger.assign({tp: start})

    def with_analytics_table(self, table: dict[bytes, Any]) -> None:
        self.analytics = table
        self.analytics_agent.table = table
