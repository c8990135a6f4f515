"""Reviews and social posts: one Triton request per micro-batch, one sentiment score per event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from schemas.events import ReviewEvent
from schemas.outputs import ModelRef, SentimentScore
from schemas.validation import encode, output_key
from streams.pipeline.records import Emit, RawRecord, utcnow
from streams.scoring.base import Scorer, SentimentBatch


async def score_texts(
    valid: Sequence[tuple[RawRecord, Any]], scorer: Scorer, out_topic: str
) -> tuple[list[tuple[Emit, SentimentScore]], SentimentBatch]:
    """Score the valid reviews/posts of a batch (one request); returns each output with its score
    and the raw batch result (probabilities and embeddings, for drift monitoring)."""
    events = [event for _, event in valid]
    batch = await scorer.sentiment([e.text for e in events])
    model = ModelRef(name=SENTIMENT_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    labels = np.argmax(batch.probs, axis=1)
    for (record, event), probs, label in zip(valid, batch.probs, labels, strict=True):
        p = {name: float(v) for name, v in zip(SENTIMENT_LABELS, probs, strict=True)}
        score = SentimentScore(
            event_id=event.event_id,
            channel=event.channel,
            source="review" if isinstance(event, ReviewEvent) else "social",
            label=SENTIMENT_LABELS[int(label)],
            score=float(np.clip(p["positive"] - p["negative"], -1.0, 1.0)),
            probabilities=p,
            model=model,
            scored_at=scored_at,
            item_id=getattr(event, "item_id", None),
            user_id=event.user_id,
        )
        emit = Emit(out_topic, output_key(score) or record.key, encode(score), event.occurred_at, "sentiment")
        emits.append((emit, score))
    return emits, batch
