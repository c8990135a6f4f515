"""One valid instance of every output record, for the output and export tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from channelpulse.schemas.outputs import (
    ActionCounts,
    Alert,
    AlertKind,
    AnomalyScore,
    ChannelWindow,
    DeadLetter,
    KindCounts,
    ModelRef,
    Recommendation,
    RecommendedItem,
    SentimentScore,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def outputs() -> dict[str, BaseModel]:
    """Name -> a valid record of each output model."""
    model = ModelRef(name="sentiment", version="3")
    return {
        "SentimentScore": SentimentScore(
            event_id="r-1",
            channel="app",
            source="review",
            label="positive",
            score=0.7,
            probabilities={"negative": 0.1, "neutral": 0.1, "positive": 0.8},
            model=model,
            scored_at=AT,
            item_id="sku-42",
        ),
        "Recommendation": Recommendation(
            event_id="c-1",
            user_id="u-1",
            items=[RecommendedItem(item_id="a", score=0.9), RecommendedItem(item_id="b", score=0.5)],
            model=ModelRef(name="recommender", version="1"),
            scored_at=AT,
        ),
        "AnomalyScore": AnomalyScore(
            event_id="s-1",
            sensor_id="press-3",
            metric="temperature",
            value=71.25,
            anomaly_score=0.97,
            is_anomaly=True,
            model=ModelRef(name="anomaly", version="2"),
            scored_at=AT,
        ),
        "ChannelWindow": ChannelWindow(
            channel="web",
            window_start=AT,
            window_end=AT + timedelta(minutes=1),
            counts=KindCounts(clicks=10, reviews=3, social=0, sensors=0),
            actions=ActionCounts(view=8, click=1, add_to_cart=0, purchase=1),
            conversion=0.125,
            sentiment_mean=-0.2,
            negative_share=None,
        ),
        "Alert": Alert(
            alert_id="a-1",
            kind=AlertKind.SENSOR_ANOMALY,
            sensor_id="press-3",
            detail="press-3 temperature 71.25 scored 0.97 (threshold 0.9)",
            raised_at=AT,
        ),
        "DeadLetter": DeadLetter.of(b"\xff not json", "payload is not valid UTF-8", "events.clicks", 2, 17),
    }
