from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from channelpulse.config import Settings
from channelpulse.streams.sample import (
    BUILTIN_HEADLINES,
    MARKETS_CHANNEL,
    NEGATIVE_RATING,
    SampleStream,
    SurgePlan,
    load_headlines,
)


def test_the_stream_carries_a_negative_surge_and_headlines_at_the_publishing_rate(data_dir: Path) -> None:
    stream = SampleStream(Settings(data_dir=data_dir), seed=3)
    n, rate = 4000, 40.0
    events = [json.loads(r.value) for r in stream.records(n, rate) if r.valid]
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert (times[-1] - times[0]).total_seconds() > 0.95 * n / rate
    plan = SurgePlan()
    ratings = dict(stream.sentences)
    surge_s = (plan.start * n / rate, plan.end * n / rate)

    def share_on_channel(lo: float, hi: float) -> tuple[int, float]:
        posts = [
            e for e, t in zip(events, times, strict=True)
            if e.get("channel") == plan.channel and lo <= (t - times[0]).total_seconds() < hi
        ]
        negative = sum(ratings.get(e["text"], 0.0) <= NEGATIVE_RATING for e in posts)
        return len(posts), negative / max(1, len(posts))

    before, before_negative = share_on_channel(0.0, surge_s[0])
    during, during_negative = share_on_channel(*surge_s)
    assert during_negative == 1.0 and before_negative < 0.5
    assert during / (surge_s[1] - surge_s[0]) > 2 * before / surge_s[0]  # the channel gets louder
    channels = Counter(e.get("channel") for e in events)
    assert channels[MARKETS_CHANNEL] > 10
    headlines = {e["text"] for e in events if e.get("channel") == MARKETS_CHANNEL}
    assert not any("http" in h for h in headlines)


def test_headlines_fall_back_to_built_in_ones_without_the_data(tmp_path: Path) -> None:
    assert load_headlines(tmp_path) == list(BUILTIN_HEADLINES)
