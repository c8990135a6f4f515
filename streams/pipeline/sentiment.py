"""Reviews and social posts: one Triton request per micro-batch, one sentiment score per event,
fed to the drift watch and filed in the event lake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from channelpulse.models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from channelpulse.schemas.events import EventKind
from channelpulse.schemas.outputs import ModelRef, SentimentScore
from channelpulse.schemas.validation import encode, output_key
from channelpulse.streams.pipeline.drift import DriftWatch
from channelpulse.streams.pipeline.observations import observation
from channelpulse.streams.pipeline.records import Emit, OutputTopics, RawRecord, Scored, utcnow
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.scoring.retry import until_scored


async def score_texts(
    kind: EventKind,
    valid: Sequence[tuple[RawRecord, Any]],
    scorer: Scorer,
    topics: OutputTopics,
    drift: DriftWatch | None = None,
) -> Scored:
    """Score the batch's texts in one request; one sentiment score and one observation per event."""
    texts = [event.text for _, event in valid]
    batch = await until_scored(lambda: scorer.sentiment(texts), "sentiment batch")
    model = ModelRef(name=SENTIMENT_MODEL, version=batch.version)
    scored_at = utcnow()
    emits: list[Emit] = []
    rows = []
    for (record, event), probs in zip(valid, batch.probs, strict=True):
        p = {name: float(v) for name, v in zip(SENTIMENT_LABELS, probs, strict=True)}
        score = SentimentScore(
            event_id=event.event_id,
            channel=event.channel,
            source="review" if kind is EventKind.REVIEW else "social",
            label=SENTIMENT_LABELS[int(np.argmax(probs))],
            score=float(np.clip(p["positive"] - p["negative"], -1.0, 1.0)),
            probabilities=p,
            model=model,
            scored_at=scored_at,
            item_id=getattr(event, "item_id", None),
            user_id=event.user_id,
        )
        emits.append(
            Emit(
                topics.sentiment, output_key(score) or record.key, encode(score), event.occurred_at, "sentiment"
            )
        )
        emits.append(
            observation(
                topics.observations, record, event.channel, kind.value, event.occurred_at,
                label=score.label, score=score.score,
            )
        )
        rows.append(
            {
                **event.model_dump(mode="json"),
                "label": score.label,
                "score": score.score,
                "model_version": batch.version,
            }
        )
    if drift is not None:
        emits.extend(drift.observe(SENTIMENT_MODEL, batch.version, batch.probs, batch.embeddings))
    return Scored(emits, rows)
