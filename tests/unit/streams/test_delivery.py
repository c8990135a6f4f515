"""The offset ledger: what is processed, what is skipped, what may be committed."""

from __future__ import annotations

from streams.delivery import OffsetLedger, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ledger(clock: Clock | None = None, **starts: int) -> OffsetLedger[str]:
    led: OffsetLedger[str] = OffsetLedger(grace_s=5.0, max_seeks=3, clock=clock or Clock())
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


def test_a_skipped_offset_asks_for_one_seek_and_holds_later_events_until_it_comes() -> None:
    clock = Clock()
    led = ledger(clock, p0=3)
    # offsets 3..12 never reached the agent (what Faust did across a rebalance)
    assert led.admit("p0", 13) is Verdict.SEEK
    assert led.next_offset("p0") == 3
    assert led.admit("p0", 14) is Verdict.WAIT  # the seek is under way: no second seek
    assert led.to_commit() == {}
    # after the seek the partition is read again from 3, in order
    assert [led.admit("p0", o) for o in range(3, 16)] == [Verdict.PROCESS] * 13
    for o in range(3, 16):
        led.done("p0", o)
    assert led.to_commit() == {"p0": 16}


def test_the_commit_never_passes_an_offset_that_is_not_done() -> None:
    led = ledger(p0=0)
    for o in range(5):
        assert led.admit("p0", o) is Verdict.PROCESS
    for o in (0, 1, 3, 4):  # 2 unfinished
        led.done("p0", o)
    assert led.to_commit() == {"p0": 2}


def test_an_offset_missing_from_the_log_is_stepped_over_after_the_seeks() -> None:
    clock = Clock()
    led = ledger(clock, p0=7)
    assert led.admit("p0", 9) is Verdict.SEEK  # 7 and 8 are transaction markers, say
    clock.now = 1.0
    assert led.admit("p0", 9) is Verdict.WAIT
    clock.now = 6.0
    assert led.admit("p0", 9) is Verdict.SEEK
    clock.now = 12.0
    assert led.admit("p0", 9) is Verdict.SEEK
    clock.now = 18.0
    assert led.admit("p0", 9) is Verdict.PROCESS
    assert led.skipped_offsets == 2
    led.done("p0", 9)
    assert led.to_commit() == {"p0": 10}


def test_stepping_over_a_hole_while_earlier_events_are_in_flight() -> None:
    clock = Clock()
    led = ledger(clock, p0=0)
    assert led.admit("p0", 0) is Verdict.PROCESS  # in flight
    assert led.admit("p0", 3) is Verdict.SEEK
    for t in (6.0, 12.0, 18.0):
        clock.now = t
        verdict = led.admit("p0", 3)
    assert verdict is Verdict.PROCESS
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


def test_a_partition_kept_through_a_rebalance_hands_out_unfinished_events_again() -> None:
    led = ledger(p0=0)
    for o in range(4):
        led.admit("p0", o)
    led.done("p0", 0)
    led.done("p0", 1)
    led.assign({"p0": 0})  # the same partition again: its own position wins over the start given
    assert led.next_offset("p0") == 2
    assert led.admit("p0", 2) is Verdict.PROCESS
    assert led.admit("p0", 1) is Verdict.DUPLICATE
