"""Events Faust drops from the agents' buffers are read again: the installed Faust empties every
agent buffer when its flow control resumes (what drops a backlog fetched during the end of a table
recovery), ``on_buffers_cleared`` reports that clear (and not one during a suspension), and the runtime
then seeks its guarded partitions back to what the agents have not taken (streams/buffer_clear.py)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import faust
from faust.tables.recovery import Recovery
from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.buffer_clear import on_buffers_cleared
from tests.unit.streams.fakes import InMemoryWorker


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


async def test_the_runtime_reads_again_what_a_cleared_buffer_dropped(tmp_path: Path) -> None:
    worker = InMemoryWorker(Settings(state_dir=tmp_path))
    settings = worker.settings
    app = faust.App("buffer-clear-runtime-test", broker="memory://")
    on_buffers_cleared(app.flow_control, worker.delivery.on_buffers_cleared)  # as make_app wires it
    taken = TP(settings.topic_clicks, 0)  # the agent took offsets 0-1 (batch under way) of a backlog
    untouched = TP(settings.topic_clicks, 1)  # its events were all in the buffer: never seen by the agent
    catalog = TP(settings.topic_catalog, 0)  # Faust's acks: not the ledger's
    worker.consumer.assigned.update({taken, untouched, catalog})
    worker.partition_log.commits[untouched] = 7
    ledger = worker.delivery.ledger
    ledger.assign({taken: 0})
    ledger.admit(taken, 0)
    ledger.admit(taken, 1)

    app.flow_control.resume()  # Faust's end of recovery: the buffers are emptied
    await asyncio.sleep(0)  # the read-again task runs in the loop
    await asyncio.gather(*worker.delivery.pending_rereads)

    assert worker.consumer.seeks == [{taken: 2, untouched: 7}]  # after the batch under way; the group's commit
    assert ledger.next_offset(untouched) == 7
    assert ledger.admit(taken, 5).value == "gap"  # an event fetched before the seek: checked, not taken
