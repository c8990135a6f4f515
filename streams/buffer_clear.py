"""Events Faust drops from the agents' buffers must be read again.

Every agent's buffer is a ``FlowControlQueue`` (mode) managed by the app's one ``flow_control``
(``FlowControlEvent``), created with ``clear_on_resume``: whenever the flow control is resumed (or
cleared), every buffer is emptied. Faust resumes it at the end of each table recovery
(``Recovery.on_recovery_completed``) only *after* it resumed the stream partitions and awaited the seek
to their committed offsets, while its fetcher is running: on a backlog, events fetched in that window
are already in the buffers (some agents have taken a first batch) when the resume empties them. The
consumer's position is past them, and nothing reads them again: the ledger (streams/delivery.py) only
notices missing events when a later one arrives, so a partition whose backlog was dropped waits until
new traffic comes (seen: a worker started on 50 clicks after restoring 40,000 user states answered 8 to
11, then nothing, idle; its consumer's positions were at the partitions' ends).

:func:`on_buffers_cleared` calls back each time the buffers are emptied while the flow is active (the
resume), so the caller can seek its partitions back to what the agents have not taken yet. A clear while
the flow is suspended (a rebalance revoking the partitions) is not reported: the revoked partitions are
read again from their committed offsets by whoever is assigned them next. ``FlowControlEvent.clear`` is
mode's public method, which ``resume`` calls; tests/unit/streams/runtime/test_buffer_clear.py checks
the installed Faust and mode still empty the buffers that way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_INSTALLED = "_channelpulse_on_cleared"


def on_buffers_cleared(flow_control: Any, callback: Callable[[], None]) -> None:
    """Call ``callback`` after ``flow_control`` (a ``FlowControlEvent``) empties its queues while the
    flow is active. Installed once per flow control; a second call replaces the callback."""
    if getattr(flow_control, _INSTALLED, None) is None:
        clear = flow_control.clear

        def clear_and_report() -> None:
            clear()
            if flow_control.is_active():
                getattr(flow_control, _INSTALLED)()

        flow_control.clear = clear_and_report
    setattr(flow_control, _INSTALLED, callback)
