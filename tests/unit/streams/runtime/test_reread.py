"""Records read again after a seek back reach the agents: Faust's read-offset filter is lifted for
the guarded topics (the ledger skips duplicates), kept for the others."""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from faust.transport.consumer import Consumer
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.commit_barrier import CommitBarrier
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.partition_delivery import PartitionDelivery
from channelpulse.streams.reread import ReadOffsets, deliver_rereads


class FakeConsumer:
    def __init__(self) -> None:
        self._read_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)


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
    settings = Settings(state_dir=tmp_path)
    consumer = FakeConsumer()
    delivery = PartitionDelivery(settings, lambda: consumer, CommitBarrier(_no_flush, _no_commit),  # type: ignore[arg-type,return-value]
                                 LakeWriter(settings.lake_root))
    await delivery.on_partitions_assigned(None, set())
    assert isinstance(consumer._read_offset, ReadOffsets)
    assert consumer._read_offset.unfiltered == delivery.guarded_topics


async def _no_flush() -> None:
    return None


async def _no_commit(offsets: Mapping[TP, int]) -> Mapping[TP, int]:
    return offsets
