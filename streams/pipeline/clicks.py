"""Clicks: update each user's state (a Faust table), then one Triton top-k request per batch.

A replay applies nothing twice: the stored state carries a replay mark (``channelpulse.streams.pipeline.applied``;
clicks come keyed by ``user_id``). A click below it (the state was stored, its offset not yet
committed, then the worker crashed) is still answered, with the recommendations for the stored state,
but does not move its item in the history again.

Each user's state is read once per batch and written once per batch (:class:`_BatchUser`), after the
batch's last click of that user: what the table held after a click-by-click pass, with one decode and
one encode per user instead of one per click."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from channelpulse.models.contract import RECOMMENDER_MODEL
from channelpulse.models.recommend.state import UserState
from channelpulse.schemas.outputs import ModelRef
from channelpulse.schemas.validation import encode_recommendation
from channelpulse.streams.pipeline.applied import mark_of, marked, replayed
from channelpulse.streams.pipeline.observations import observation
from channelpulse.streams.pipeline.records import Emit, OutputTopics, RawRecord, Scored, utcnow
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.scoring.retry import until_scored


class _BatchUser:
    """One user's state during a batch: the stored value as read, the state and mark as the batch's
    clicks so far left them, and the last click that changed it (None: the stored value stands)."""

    __slots__ = ("last", "mark", "state", "stored")

    def __init__(self, stored: Any, max_history: int) -> None:
        self.stored = stored
        self.state = UserState.from_dict(stored) if stored else UserState(max_history)
        self.mark = mark_of(stored)
        self.last: RawRecord | None = None

    def apply(self, record: RawRecord, item_id: str, action: str) -> None:
        """Take in one click unless it was applied already (a replay)."""
        if not replayed(record, self.mark):
            self.state.update(item_id, action)
            self.last = record
            self.mark = [record.partition, record.offset + 1]

    def value(self) -> Any:
        """What the table stores for this user after the batch (a replay-only batch writes the stored
        value again: applied.py, a local store may be ahead of its changelog)."""
        return self.stored if self.last is None else marked(self.state.to_dict(), self.last)


async def recommend_clicks(
    valid: Sequence[tuple[RawRecord, Any]],
    users: MutableMapping[bytes, Any],
    scorer: Scorer,
    topics: OutputTopics,
    k: int,
    max_history: int,
) -> Scored:
    """Apply the batch's clicks to the users' state (``users``: user id -> stored state) in order; each
    click gets the top ``k`` recommendations for the state right after it (its purchases excluded).
    ``users`` is read and written once per user of the batch."""
    histories: list[list[str]] = []
    excludes: list[list[str]] = []
    batch_users: dict[bytes, _BatchUser] = {}
    keys: list[bytes] = []
    for record, event in valid:
        key = event.user_id.encode("utf-8")
        user = batch_users.get(key)
        if user is None:
            user = batch_users[key] = _BatchUser(users.get(key), max_history)
        user.apply(record, event.item_id, event.action)
        state = user.state
        histories.append(list(state.history))
        excludes.append(sorted(set(state.purchased_order)))
        keys.append(key)
    for key, user in batch_users.items():
        users[key] = user.value()
    batch = await until_scored(lambda: scorer.recommend(histories, excludes, k), "recommendation batch")
    model = ModelRef(name=RECOMMENDER_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    rows = []
    for (record, event), key, items in zip(valid, keys, batch.items, strict=True):
        value = encode_recommendation(event.event_id, event.user_id, items, model, scored_at)
        emits.append(Emit(topics.recommendations, key, value, event.occurred_at, "recommendations"))
        emits.append(
            observation(topics.observations, record, event.channel, "click", event.occurred_at, action=event.action)
        )
        rows.append(
            {**event.model_dump(mode="json"), "recommended": [i for i, _ in items], "model_version": batch.version}
        )
    return Scored(emits, rows)
