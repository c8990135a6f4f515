"""Clicks: update each user's state (a Faust table), then one Triton top-k request per batch.

A replay applies nothing twice: the stored state carries a replay mark (``channelpulse.streams.pipeline.applied``;
clicks come keyed by ``user_id``). A click below it (the state was stored, its offset not yet
committed, then the worker crashed) is still answered, with the recommendations for the stored state,
but does not move its item in the history again."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from channelpulse.models.contract import RECOMMENDER_MODEL
from channelpulse.models.recommend.state import UserState
from channelpulse.schemas.outputs import ModelRef, Recommendation, RecommendedItem
from channelpulse.schemas.validation import encode, output_key
from channelpulse.streams.pipeline.applied import mark_of, marked, replayed
from channelpulse.streams.pipeline.observations import observation
from channelpulse.streams.pipeline.records import Emit, OutputTopics, RawRecord, Scored, utcnow
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.scoring.retry import until_scored


async def recommend_clicks(
    valid: Sequence[tuple[RawRecord, Any]],
    users: MutableMapping[bytes, Any],
    scorer: Scorer,
    topics: OutputTopics,
    k: int,
    max_history: int,
) -> Scored:
    """Apply the batch's clicks to the users' state (``users``: user id -> stored state) in order; each
    click gets the top ``k`` recommendations for the state right after it (its purchases excluded)."""
    histories: list[list[str]] = []
    excludes: list[list[str]] = []
    for record, event in valid:
        key = event.user_id.encode("utf-8")
        stored = users.get(key)
        state = UserState.from_dict(stored) if stored else UserState(max_history)
        if not replayed(record, mark_of(stored)):
            state.update(event.item_id, event.action)
            users[key] = marked(state.to_dict(), record)
        else:
            users[key] = stored  # written again (applied.py: a local store may be ahead of its changelog)
        histories.append(list(state.history))
        excludes.append(sorted(state.purchased))
    batch = await until_scored(lambda: scorer.recommend(histories, excludes, k), "recommendation batch")
    model = ModelRef(name=RECOMMENDER_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    rows = []
    for (record, event), items in zip(valid, batch.items, strict=True):
        rec = Recommendation(
            event_id=event.event_id,
            user_id=event.user_id,
            items=[RecommendedItem(item_id=i, score=s) for i, s in items],
            model=model,
            scored_at=scored_at,
        )
        emits.append(
            Emit(
                topics.recommendations,
                output_key(rec) or record.key,
                encode(rec),
                event.occurred_at,
                "recommendations",
            )
        )
        emits.append(
            observation(
                topics.observations, record, event.channel, "click", event.occurred_at, action=event.action
            )
        )
        rows.append(
            {**event.model_dump(mode="json"), "recommended": [i for i, _ in items], "model_version": batch.version}
        )
    return Scored(emits, rows)
