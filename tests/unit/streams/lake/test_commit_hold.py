"""Commits held until the lake generation holding their events' rows is durable."""

from __future__ import annotations

from channelpulse.streams.lake.commit_hold import LakeCommitHold


def test_nothing_held_commits_what_is_done() -> None:
    hold: LakeCommitHold[str] = LakeCommitHold()
    assert hold.cap({"a": 10, "b": 3}, durable_generation=0) == {"a": 10, "b": 3}


def test_an_offset_waits_for_the_generation_of_the_first_batch_not_on_disk() -> None:
    hold: LakeCommitHold[str] = LakeCommitHold()
    hold.hold("a", 0, generation=0)  # batch 0..4, rows in generation 0
    hold.hold("a", 5, generation=0)  # batch 5..9, same generation
    hold.hold("a", 10, generation=1)  # batch 10..14, written after the first flush
    assert hold.cap({"a": 15}, durable_generation=0) == {"a": 0}
    assert hold.cap({"a": 15}, durable_generation=1) == {"a": 10}
    assert hold.cap({"a": 15}, durable_generation=2) == {"a": 15}
    hold.hold("a", 15, generation=2)
    assert hold.cap({"a": 20}, durable_generation=2) == {"a": 15}


def test_partitions_are_held_apart_and_revoked() -> None:
    hold: LakeCommitHold[str] = LakeCommitHold()
    hold.hold("a", 4, generation=3)
    hold.hold("b", 7, generation=3)
    assert hold.cap({"a": 9, "b": 9, "c": 2}, durable_generation=3) == {"a": 4, "b": 7, "c": 2}
    hold.revoke(["a"])
    assert hold.cap({"a": 9, "b": 9}, durable_generation=3) == {"a": 9, "b": 7}
