"""Records read again after a seek back reach the agents: Faust's read-offset filter is lifted for
the guarded topics (the ledger skips duplicates), kept for the others."""

from __future__ import annotations

import inspect
from pathlib import Path

from faust.transport.consumer import Consumer
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.reread import ReadOffsets, deliver_rereads
from tests.unit.streams.fakes import FakeConsumer, InMemoryWorker


def test_guarded_topics_read_as_unfiltered_and_others_keep_their_offset() -> None:
    consumer = FakeConsumer()
    consumer._read_offset[TP("events.clicks", 0)] = 50
    consumer._read_offset[TP("catalog.items", 0)] = 7
    deliver_rereads(consumer, ["events.clicks"])
    offsets = consumer._read_offset
    assert isinstance(offsets, ReadOffsets)
    offsets[TP("events.clicks", 0)] = 90  # what Faust sets after each delivered record
    assert offsets[TP("events.clicks", 0)] is None  # so a record at offset 3 passes again
    assert offsets[TP("catalog.items", 0)] == 7 and offsets[TP("catalog.items", 1)] is None
    deliver_rereads(consumer, ["other"])  # idempotent: installed once
    assert consumer._read_offset is offsets


def test_the_installed_faust_filters_fetched_records_by_the_read_offset_map() -> None:
    """faust-streaming is pinned; this fails if _drain_messages stops reading _read_offset this way."""
    source = inspect.getsource(Consumer._drain_messages)
    assert "get_read_offset = self._read_offset.__getitem__" in source
    assert "if r_offset is None or offset >= r_offset:" in source


async def test_the_runtime_lifts_the_filter_on_every_rebalance(tmp_path: Path) -> None:
    worker = InMemoryWorker(Settings(state_dir=tmp_path))
    await worker.delivery.on_partitions_assigned(None, set())
    offsets = worker.consumer._read_offset
    assert isinstance(offsets, ReadOffsets)
    assert offsets.unfiltered == worker.delivery.guarded_topics
