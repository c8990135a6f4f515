"""The worker's consumer hands the guarded topics' fetched records to the inbox a partition at a time and
leaves the rest to Faust's own loop (streams/batch_consumer.py), run here against the installed Faust's
consumer (no broker: the fetch itself is replaced by a record map, as aiokafka returns it)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition
from faust.transport.consumer import Consumer
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.batch_consumer import BatchConsumer
from tests.unit.streams.fakes import FakeScorer

pytestmark = pytest.mark.unit


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=1_700_000_000_000 + offset,
        timestamp_type=0,
        key=b"k%d" % offset,
        value=b"v%d" % offset,
        checksum=None,
        serialized_key_size=2,
        serialized_value_size=2,
        headers=(),
    )


def worker(tmp_path: Path, fetched: dict[TopicPartition, list[Any]], chunk_size: int | None = None) -> Any:
    """A worker's app and runtime whose consumer's next fetch returns ``fetched``."""
    from channelpulse.streams.app import make_app

    app, runtime = make_app(Settings(state_dir=tmp_path), FakeScorer)
    consumer = app.consumer
    assert isinstance(consumer, BatchConsumer)  # Faust made it from the broker_consumer URL's scheme

    async def getmany(active_partitions: Any, timeout: float) -> dict[TopicPartition, list[Any]]:
        return fetched

    consumer._getmany = getmany
    consumer.highwater = lambda tp: 100
    consumer._set_active_tps({TP(tp.topic, tp.partition) for tp in fetched})
    app.flow_control.resume()
    consumer.resume_flow()
    if chunk_size is not None:
        runtime.inbox.chunk_size = chunk_size
    return app, runtime


async def test_guarded_records_go_to_the_inbox_and_the_rest_to_faust(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    reviews, catalog = TopicPartition(settings.topic_reviews, 1), TopicPartition(settings.topic_catalog, 0)
    fetched = {reviews: [record(reviews.topic, 1, o) for o in range(5)], catalog: [record(catalog.topic, 0, 9)]}
    app, runtime = worker(tmp_path, fetched)
    runtime.inbox.open(settings.topic_reviews)  # what the reviews agent's first batch does
    rest, _ = await app.consumer._wait_next_records(1.0)
    assert list(rest) == [catalog]  # Faust's loop delivers the catalog record as before
    batch = await anext(runtime.inbox.batches(settings.topic_reviews, max_size=64, within=0.0))
    assert [(e.message.tp, e.message.offset, e.key, e.value) for e in batch] == [
        (reviews, o, b"k%d" % o, b"v%d" % o) for o in range(5)
    ]
    assert batch[0].message.timestamp == pytest.approx(1_700_000_000.0)


async def test_records_read_again_after_a_seek_back_reach_the_inbox(tmp_path: Path) -> None:
    """Faust's own loop drops a record below the last one it delivered on its partition; after a seek back
    that dropped the records read again and stalled the partition. The inbox gets them (the ledger skips
    what it processed already)."""
    settings = Settings(state_dir=tmp_path)
    reviews = TopicPartition(settings.topic_reviews, 0)
    fetched = {reviews: [record(reviews.topic, 0, o) for o in range(5)]}
    app, runtime = worker(tmp_path, fetched)
    runtime.inbox.open(settings.topic_reviews)
    await app.consumer._wait_next_records(1.0)
    fetched[reviews] = [record(reviews.topic, 0, o) for o in range(2, 5)]  # after a seek back to 2
    await app.consumer._wait_next_records(1.0)
    batches = runtime.inbox.batches(settings.topic_reviews, max_size=64, within=0.0)
    assert [e.message.offset for e in await anext(batches)] == [0, 1, 2, 3, 4, 2, 3, 4]


async def test_a_topic_no_agent_takes_from_the_inbox_stays_with_faust(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    reviews = TopicPartition(settings.topic_reviews, 0)
    app, _ = worker(tmp_path, {reviews: [record(reviews.topic, 0, 0)]})
    rest, _ = await app.consumer._wait_next_records(1.0)
    assert list(rest) == [reviews]


async def test_nothing_is_delivered_once_the_flow_stopped_or_for_a_partition_not_fetched(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    reviews, clicks = TopicPartition(settings.topic_reviews, 0), TopicPartition(settings.topic_clicks, 0)
    app, runtime = worker(tmp_path, {reviews: [record(reviews.topic, 0, 0)], clicks: [record(clicks.topic, 0, 0)]})
    for topic in (settings.topic_reviews, settings.topic_clicks):
        runtime.inbox.open(topic)
    app.consumer._set_active_tps({TP(settings.topic_clicks, 0)})  # reviews paused since the fetch
    rest, _ = await app.consumer._wait_next_records(1.0)
    assert rest == {}
    assert runtime.inbox._queues[settings.topic_reviews].empty()  # dropped, as Faust's getmany does
    assert runtime.inbox._queues[settings.topic_clicks].qsize() == 1
    app.consumer.stop_flow()  # a rebalance
    app.consumer.can_resume_flow.set()  # (not waiting for the resume in this test)
    await app.consumer._wait_next_records(1.0)
    assert runtime.inbox._queues[settings.topic_clicks].qsize() == 1


async def test_the_fetch_switches_of_the_real_consumer_pause_and_resume_the_partition(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    reviews = TopicPartition(settings.topic_reviews, 2)
    app, runtime = worker(tmp_path, {reviews: [record(reviews.topic, 2, o) for o in range(8)]}, chunk_size=2)
    runtime.inbox.open(settings.topic_reviews)
    await app.consumer._wait_next_records(1.0)  # 4 chunks in a queue of 4: under pressure
    tp = TP(settings.topic_reviews, 2)
    assert tp not in app.consumer._get_active_partitions()  # Faust's check that every member is a TP passes
    assert tp in app.consumer._buffered_partitions
    batches = runtime.inbox.batches(settings.topic_reviews, max_size=2, within=0.0)
    for _ in range(4):
        await anext(batches)
    assert tp in app.consumer._get_active_partitions()


def test_the_installed_faust_fetches_through_wait_next_records_and_filters_as_the_override_does() -> None:
    """faust-streaming is pinned; this fails if getmany stops taking its record map from
    _wait_next_records or changes the checks the override repeats per partition."""
    source = inspect.getsource(Consumer.getmany)
    assert "records, active_partitions = await self._wait_next_records(timeout)" in source
    assert "generation_id = self.app.consumer_generation_id" in source
    assert "or tp in self._buffered_partitions" in source
    assert "self.app.monitor.track_tp_end_offset(tp, highwater_mark)" in source
    drain = inspect.getsource(Consumer._drain_messages)
    assert "self.wait_first(\n                                callback(message), self.suspend_flow.wait()" in drain
