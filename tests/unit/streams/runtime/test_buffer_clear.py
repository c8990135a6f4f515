"""Events Faust drops from the agents' buffers are read again: the installed Faust empties every
agent buffer when its flow control resumes (what drops a backlog fetched during the end of a table
recovery), ``on_buffers_cleared`` reports that clear (and not one during a suspension), and the runtime
then seeks its guarded partitions back to what the agents have not taken (streams/buffer_clear.py)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import faust
from faust.tables.recovery import Recovery
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.buffer_clear import on_buffers_cleared
from channelpulse.streams.commit_barrier import CommitBarrier
from channelpulse.streams.lake.writer import LakeWriter
from channelpulse.streams.partition_delivery import PartitionDelivery


def test_the_installed_faust_empties_agent_buffers_on_resume_and_the_hook_reports_it() -> None:
    app = faust.App("buffer-clear-test", broker="memory://")
    queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)  # what every agent's channel gets
    reports: list[bool] = []
    on_buffers_cleared(app.flow_control, lambda: reports.append(app.flow_control.is_active()))
    app.flow_control.resume()  # the app starts suspended; a recovery resumes the flow
    assert reports == [True]
    queue.put_nowait("event fetched before the rebalance")
    app.flow_control.suspend()  # a rebalance: suspend, then clear (Faust's _on_partitions_revoked)
    app.flow_control.clear()
    assert queue.qsize() == 0 and reports == [True]  # emptied, not reported: revoked partitions start over
    app.flow_control.resume()  # the recovery's start (the stream partitions still paused)
    queue.put_nowait("event fetched after the stream partitions were resumed")
    app.flow_control.resume()  # the recovery's end
    assert queue.qsize() == 0  # the installed mode empties the buffers on resume ...
    assert reports == [True, True, True]  # ... and the hook reports each resume
    on_buffers_cleared(app.flow_control, lambda: reports.append(False))  # installed once, callback replaced
    app.flow_control.resume()
    assert reports == [True, True, True, False]


def test_the_installed_faust_resumes_the_flow_after_the_stream_partitions() -> None:
    """faust-streaming is pinned; this names the order that drops a backlog: stream partitions resumed
    and sought (an await, while the fetcher runs) before the flow control's resume empties the buffers."""
    source = inspect.getsource(Recovery.on_recovery_completed)
    resumed = source.index("consumer.resume_partitions(")
    assert resumed < source.index("consumer.perform_seek()") < source.index("self.app.flow_control.resume()")


class Consumer:
    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.seeks: list[dict[TP, int]] = []

    def assignment(self) -> set[TP]:
        return self.assigned

    async def seek_wait(self, offsets: Mapping[TP, int]) -> None:
        self.seeks.append(dict(offsets))

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return {tp: 0 for tp in tps}


async def test_the_runtime_reads_again_what_a_cleared_buffer_dropped(tmp_path: Path, monkeypatch: Any) -> None:
    settings = Settings(state_dir=tmp_path)
    app = faust.App("buffer-clear-runtime-test", broker="memory://")
    taken = TP(settings.topic_clicks, 0)  # the agent took offsets 0-1 (batch under way) of a backlog
    untouched = TP(settings.topic_clicks, 1)  # its events were all in the buffer: never seen by the agent
    catalog = TP(settings.topic_catalog, 0)  # Faust's acks: not the ledger's
    consumer = Consumer({taken, untouched, catalog})
    delivery = PartitionDelivery(settings, lambda: consumer, CommitBarrier(_no_flush, _no_commit),
                                 LakeWriter(settings.lake_root))
    on_buffers_cleared(app.flow_control, delivery.on_buffers_cleared)  # as make_app wires it
    monkeypatch.setattr(
        "channelpulse.streams.partition_delivery.committed_offsets", lambda *_: {(untouched.topic, 1): 7}
    )
    delivery.ledger.assign({taken: 0})
    delivery.ledger.admit(taken, 0)
    delivery.ledger.admit(taken, 1)

    app.flow_control.resume()  # Faust's end of recovery: the buffers are emptied
    await asyncio.sleep(0)  # the read-again task runs in the loop
    await asyncio.gather(*delivery.pending_rereads)

    assert consumer.seeks == [{taken: 2, untouched: 7}]  # after the batch under way; the group's commit
    assert delivery.ledger.next_offset(untouched) == 7
    assert delivery.ledger.admit(taken, 5).value == "gap"  # an event fetched before the seek: checked, not taken


async def _no_flush() -> None:
    return None


async def _no_commit(offsets: Mapping[TP, int]) -> Mapping[TP, int]:
    return offsets
