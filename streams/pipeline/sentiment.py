"""Reviews and social posts: one Triton request per micro-batch, one sentiment score per event,
fed to the drift watch and filed in the event lake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from schemas.events import EventKind
from schemas.outputs import ModelRef, SentimentScore
from schemas.validation import encode, output_key
from streams.pipeline.observations import observation
from streams.pipeline.records import Emit, RawRecord, utcnow
from streams.scoring.retry import until_scored

if TYPE_CHECKING:
    from streams.pipeline.processor import Processor


async def score_texts(kind: EventKind, valid: Sequence[tuple[RawRecord, Any]], proc: Processor) -> list[Emit]:
    settings = proc.settings
    events = [event for _, event in valid]
    texts = [e.text for e in events]
    batch = await until_scored(lambda: proc.scorer.sentiment(texts), "sentiment batch")
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
                settings.topic_sentiment, output_key(score) or record.key, encode(score), event.occurred_at, "sentiment"
            )
        )
        emits.append(
            observation(
                proc.settings.topic_observations, record, event.channel, kind.value, event.occurred_at,
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
    proc.to_lake(kind.value, rows)
    if proc.drift is not None:
        emits.extend(proc.drift.observe(SENTIMENT_MODEL, batch.version, batch.probs, batch.embeddings))
    return emits
