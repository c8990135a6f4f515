"""Clicks: update each user's state (a Faust table), then one Triton top-k request per batch.

A replay applies nothing twice: the stored state carries a replay mark (``streams.pipeline.applied``;
clicks come keyed by ``user_id``). A click below it (the state was stored, its offset not yet
committed, then the worker crashed) is still answered, with the recommendations for the stored state,
but does not move its item in the history again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from models.contract import RECOMMENDER_MODEL
from models.recommend.state import UserState
from schemas.outputs import ModelRef, Recommendation, RecommendedItem
from schemas.validation import encode, output_key
from streams.pipeline.applied import mark_of, marked, replayed
from streams.pipeline.observations import observation
from streams.pipeline.records import Emit, RawRecord, utcnow
from streams.scoring.retry import until_scored

if TYPE_CHECKING:
    from streams.pipeline.processor import Processor


async def recommend_clicks(valid: Sequence[tuple[RawRecord, Any]], proc: Processor) -> list[Emit]:
    """Apply the batch's clicks to the users' state in order; each click gets the recommendations for
    the state right after it (its purchases already excluded)."""
    histories: list[list[str]] = []
    excludes: list[list[str]] = []
    for record, event in valid:
        key = event.user_id.encode("utf-8")
        stored = proc.users.get(key)
        state = UserState.from_dict(stored) if stored else UserState(proc.settings.recommendation_history)
        if not replayed(record, mark_of(stored)):
            state.update(event.item_id, event.action)
            proc.users[key] = marked(state.to_dict(), record)
        else:
            proc.users[key] = stored  # written again (applied.py: a local store may be ahead of its changelog)
        histories.append(list(state.history))
        excludes.append(sorted(state.purchased))
    k = proc.settings.recommendation_k
    batch = await until_scored(lambda: proc.scorer.recommend(histories, excludes, k), "recommendation batch")
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
                proc.settings.topic_recommendations,
                output_key(rec) or record.key,
                encode(rec),
                event.occurred_at,
                "recommendations",
            )
        )
        emits.append(
            observation(
                proc.settings.topic_observations, record, event.channel, "click", event.occurred_at, action=event.action
            )
        )
        rows.append(
            {**event.model_dump(mode="json"), "recommended": [i for i, _ in items], "model_version": batch.version}
        )
    proc.to_lake("click", rows)
    return emits
