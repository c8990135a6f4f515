"""The offset ledger: what is processed, what is skipped, what may be committed."""

from __future__ import annotations

from channelpulse.streams.delivery import OffsetLedger, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ledger(clock: Clock | None = None, **starts: int) -> OffsetLedger[str]:
    led: OffsetLedger[str] = OffsetLedger(grace_s=10.0, clock=clock or Clock())
    led.assign(starts)
    return led


def test_in_order_events_are_processed_and_committed_once_done() -> None:
    led = ledger(p0=3)
    assert [led.admit("p0", o) for o in (3, 4, 5)] == [Verdict.PROCESS] * 3
    assert led.to_commit() == {}  # nothing is done before the outputs are acknowledged
    led.done("p0", 3)
    led.done("p0", 4)
    assert led.to_commit() == {"p0": 5}
    led.committed({"p0": 5})
    assert led.to_commit() == {}
    led.done("p0", 5)
    assert led.to_commit() == {"p0": 6}


def test_events_before_the_position_are_duplicates() -> None:
    led = ledger(p0=10)
    assert led.admit("p0", 9) is Verdict.DUPLICATE
    assert led.admit("p0", 10) is Verdict.PROCESS
    assert led.admit("p0", 10) is Verdict.DUPLICATE


def test_a_skipped_stretch_is_read_again_and_later_events_wait_for_it() -> None:
    clock = Clock()
    led = ledger(clock, p0=3)
    # offsets 3..12 never reached the agent (what Faust did across a rebalance)
    assert led.admit("p0", 13) is Verdict.GAP
    assert led.seeking("p0") == 3
    assert led.admit("p0", 14) is Verdict.WAIT  # the seek back is under way
    assert led.to_commit() == {}
    assert [led.admit("p0", o) for o in range(3, 16)] == [Verdict.PROCESS] * 13
    for o in range(3, 16):
        led.done("p0", o)
    assert led.to_commit() == {"p0": 16}


def test_a_seek_back_that_brings_nothing_is_retried_after_the_grace_period() -> None:
    clock = Clock()
    led = ledger(clock, p0=3)
    assert led.admit("p0", 13) is Verdict.GAP
    led.seeking("p0")
    clock.now = 9.0
    assert led.admit("p0", 13) is Verdict.WAIT
    clock.now = 10.5
    assert led.admit("p0", 13) is Verdict.GAP


def test_the_commit_never_passes_an_offset_that_is_not_done() -> None:
    led = ledger(p0=0)
    for o in range(5):
        assert led.admit("p0", o) is Verdict.PROCESS
    for o in (0, 1, 3, 4):  # 2 unfinished
        led.done("p0", o)
    assert led.to_commit() == {"p0": 2}
    led.done("p0", 2)
    assert led.to_commit() == {"p0": 5}


def test_offsets_without_a_record_are_stepped_over() -> None:
    led = ledger(p0=7)
    assert led.admit("p0", 9) is Verdict.GAP  # 7 and 8 are transaction markers, say
    led.step_over("p0", 9)
    assert led.admit("p0", 9) is Verdict.PROCESS
    led.done("p0", 9)
    assert led.to_commit() == {"p0": 10}


def test_stepping_over_while_earlier_events_are_in_flight() -> None:
    led = ledger(p0=0)
    assert led.admit("p0", 0) is Verdict.PROCESS  # in flight
    assert led.admit("p0", 3) is Verdict.GAP
    led.step_over("p0", 3)
    assert led.admit("p0", 3) is Verdict.PROCESS
    led.done("p0", 3)
    assert led.to_commit() == {}  # 0 is not done yet
    led.done("p0", 0)
    assert led.to_commit() == {"p0": 4}


def test_partitions_not_assigned_are_not_processed_and_revoked_ones_are_forgotten() -> None:
    led = ledger(p0=0)
    assert led.admit("p1", 0) is Verdict.NOT_ASSIGNED
    assert led.admit("p0", 0) is Verdict.PROCESS
    led.done("p0", 0)
    led.revoke(["p0"])
    assert led.admit("p0", 1) is Verdict.NOT_ASSIGNED
    assert led.to_commit() == {}
    assert led.assigned() == set()


def test_a_partition_assigned_again_starts_from_its_committed_offset() -> None:
    led = ledger(p0=0)
    for o in range(4):
        led.admit("p0", o)
    led.done("p0", 0)
    led.done("p0", 1)
    offsets = led.to_commit()
    led.committed(offsets)
    led.revoke(["p0"])  # a rebalance: commit, then revoke everything
    led.assign({"p0": offsets["p0"]})
    assert led.next_offset("p0") == 2  # 2 and 3 were handed out but never finished: again
    assert led.admit("p0", 2) is Verdict.PROCESS
    assert led.admit("p0", 1) is Verdict.DUPLICATE


def test_a_partition_whose_seek_back_brought_nothing_is_overdue() -> None:
    clock = Clock()
    led = ledger(clock, p0=3, p1=0)
    assert led.admit("p0", 13) is Verdict.GAP
    led.seeking("p0")
    clock.now = 5.0
    assert led.overdue() == []
    clock.now = 10.0
    assert led.overdue() == ["p0"]
    assert led.admit("p0", 3) is Verdict.PROCESS
    assert led.overdue() == []


def test_a_failed_batch_is_rewound_to_done_so_commits_go_on() -> None:
    led = ledger(p0=0)
    for offset in range(4):
        assert led.admit("p0", offset) is Verdict.PROCESS
    led.done("p0", 0)
    led.done("p0", 1)
    # offsets 2 and 3 were admitted, then producing their outputs failed: without a rewind the
    # ledger would wait for them forever and never commit past 2
    assert led.rewind("p0") == 2
    assert led.admit("p0", 4) is Verdict.GAP  # later events in the buffer are not taken
    assert led.seeking("p0") == 2
    assert led.admit("p0", 3) is Verdict.WAIT
    assert [led.admit("p0", o) for o in (2, 3)] == [Verdict.PROCESS, Verdict.PROCESS]
    led.done("p0", 2)
    led.done("p0", 3)
    assert led.to_commit() == {"p0": 4}
    assert led.rewind("not-assigned") is None


def test_offsets_done_after_a_failed_one_are_processed_again_after_a_rewind() -> None:
    led = ledger(p0=0)
    for offset in range(3):
        led.admit("p0", offset)
    led.done("p0", 2)  # done out of order, 0 and 1 not
    led.rewind("p0")
    assert [led.admit("p0", o) for o in range(3)] == [Verdict.PROCESS] * 3
    for offset in range(3):
        led.done("p0", offset)
    assert led.to_commit() == {"p0": 3}


def test_commit_age_counts_from_the_last_commit_that_advanced() -> None:
    clock = Clock()
    led = ledger(clock, p0=5)
    clock.now = 30.0
    assert led.commit_age("p0") == 30.0  # assigned 30 s ago, nothing committed since
    assert led.committed_offset("p0") == 5
    led.admit("p0", 5)
    led.done("p0", 5)
    led.committed(led.to_commit())
    assert (led.committed_offset("p0"), led.commit_age("p0")) == (6, 0.0)
    clock.now = 50.0
    led.committed({"p0": 6})  # the same offset again does not reset the age
    assert led.commit_age("p0") == 20.0
    assert led.commit_age("gone") == 0.0 and led.committed_offset("gone") is None
