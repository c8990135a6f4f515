"""The sample producer's stream: a realistic mix of channel events, with malformed records on purpose.

Reviews and social posts are real human-rated sentences (VADER study, ../shared/data/sentiment),
sensor readings replay the NAB artificial series, clicks come from the recommender's click-stream
generator. A share of records is malformed in varied ways, to show the dead-letter path.

What a brand monitor comes for is in it too:

* a **negative surge** on one channel (:class:`SurgePlan`, by default ``social:twitter`` from 60 %
  to 80 % of the stream): the brand's channel, whose posts are otherwise neutral to positive
  sentences (VADER rating > -0.5), gets more posts, all of them clearly negative (rating <= -1.5),
  so its negative share jumps well above its baseline;
* **financial headlines** now and then (Twitter Financial News headlines from
  ../shared/data/sentiment_train, links removed; built-in headlines when that file is absent) on
  the ``news:markets`` channel.

Event times advance at the publishing rate (``records(n, rate)``), so the analytics windows in
event time see the stream as it is sent.
"""

from __future__ import annotations

import csv
import json
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from channelpulse.config import Settings
from channelpulse.models.recommend.synthetic import SAMPLE_ITEMS, SAMPLE_SEED, generate_clicks

CHANNELS = ("web", "app", "partner:acme", "social:twitter", "social:reddit", "iot:plant-7")
NETWORKS = ("twitter", "reddit", "mastodon")
MARKETS_CHANNEL = "news:markets"
HEADLINE_SHARE = 0.08
"""Share of social posts that are financial headlines on :data:`MARKETS_CHANNEL`."""
NEGATIVE_RATING = -1.5
"""VADER mean rating at or below which a sentence is clearly negative (the surge's posts)."""
SOCIAL_WEIGHTS = (0.65, 0.35)
"""How social posts split between social:twitter and social:reddit."""
FINANCE_FILE = Path("sentiment_train") / "twitter_financial_news_sentiment" / "sent_train.csv"
BUILTIN_HEADLINES = (
    "Shares of the retailer slide 8% after it cuts its full-year outlook",
    "Central bank holds rates steady, signals two cuts later this year",
    "Chipmaker beats quarterly estimates as data-center demand surges",
    "Airline stocks fall as fuel costs climb for a third straight week",
    "Bank reports record trading revenue; shares rise in premarket",
    "Regulator opens probe into the carmaker's accounting practices",
)
"""Used when the finance headlines file is not there."""


@dataclass(frozen=True)
class SurgePlan:
    """A negative-sentiment surge on ``channel`` between the ``start`` and ``end`` shares of the stream."""

    channel: str = "social:twitter"
    start: float = 0.6
    end: float = 0.8
    extra: float = 0.1
    """Share of the events in the surge that become (negative) posts on the channel, on top of its usual posts."""

    def active(self, i: int, n: int) -> bool:
        return self.start * n <= i < self.end * n


@dataclass(frozen=True)
class SampleRecord:
    topic: str
    key: bytes | None
    value: bytes
    valid: bool
    event_id: str | None


def load_sentences(data_dir: Path) -> list[tuple[str, float]]:
    """(text, mean rating) of the VADER review sentences (amazon first, then movie)."""
    rows: list[tuple[str, float]] = []
    for name in ("vader_amazon_snippets.tsv", "vader_movie_snippets.tsv"):
        with (data_dir / "sentiment" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 3 and row[2].strip():
                    rows.append((row[2].strip(), float(row[1])))
    return rows


def load_headlines(data_dir: Path) -> list[str]:
    """Financial news headlines (Twitter Financial News Sentiment train), links removed; the built-in
    ones when the file is absent."""
    path = data_dir / FINANCE_FILE
    if not path.is_file():
        return list(BUILTIN_HEADLINES)
    with path.open(encoding="utf-8", newline="") as fh:
        texts = [re.sub(r"\s*https?://\S+", "", row["text"]).strip() for row in csv.DictReader(fh)]
    return [t for t in texts if len(t) >= 20] or list(BUILTIN_HEADLINES)


def load_sensor_series(data_dir: Path, limit: int = 3) -> dict[str, list[float]]:
    """A few NAB artificial series (those with labelled anomalies first), by sensor id."""
    folder = data_dir / "sensors" / "nab_artificial"
    windows = json.loads((folder / "windows.json").read_text())
    files = sorted(folder.glob("*.csv"), key=lambda p: (not windows.get(p.name), p.name))[:limit]
    series = {}
    for path in files:
        with path.open() as fh:
            series[path.stem] = [float(r["value"]) for r in csv.DictReader(fh)]
    return series


def rating_to_stars(rating: float) -> int:
    """A VADER mean rating (-4..4) as 1-5 stars that keep its label: <= -0.5 negative (1-2 stars),
    >= 0.5 positive (4-5 stars), neutral in between (3 stars)."""
    if rating <= -2.0:
        return 1
    if rating <= -0.5:
        return 2
    if rating < 0.5:
        return 3
    return 4 if rating < 2.0 else 5


def malformed_variants(rng: random.Random, topic_kind: str, now: datetime) -> list[bytes]:
    """Records that must be dead-lettered, each wrong in a different way (unique by a random tag)."""
    tag = uuid.UUID(int=rng.getrandbits(128)).hex
    ts = now.isoformat()
    return [
        f"not json at all {tag}".encode(),
        json.dumps([tag, "an array, not an object"]).encode(),
        json.dumps({"event_id": tag, "channel": "web"}).encode(),  # missing fields
        json.dumps(
            {
                "event_id": tag,
                "channel": "web",
                "occurred_at": "2026-01-01T00:00:00",  # no zone
                "user_id": "u1",
                "item_id": "i1",
                "action": "view",
                "text": "x",
                "network": "t",
                "sensor_id": "s",
                "metric": "m",
                "value": 1.0,
            }
        ).encode(),
        b'{"event_id": "' + tag.encode() + b'", "channel": "web", "value": NaN, "occurred_at": "' + ts.encode() + b'"}',
        b'{"event_id": "' + tag.encode() + b'", "text": "caf\xe9 bad utf-8"}',
        json.dumps(
            {
                "event_id": tag,
                "channel": "web",
                "occurred_at": ts,
                "user_id": 17,
                "item_id": ["x"],
                "action": "teleport",
                "text": "",
                "network": 5,
                "sensor_id": None,
                "metric": 1,
                "value": "high",
                "rating": "5",
            }
        ).encode(),
        json.dumps({"event_id": tag, "channel": "web", "occurred_at": ts, "text": "x" * 70_000}).encode(),
    ]


class SampleStream:
    """Iterates over sample records for the four input topics (and the catalog once, first)."""

    def __init__(
        self, settings: Settings, seed: int = 7, malformed_share: float = 0.05, surge: SurgePlan | None = SurgePlan()
    ) -> None:
        self.settings = settings
        self.rng = random.Random(seed)
        self.malformed_share = malformed_share
        self.surge = surge
        self.sentences = load_sentences(settings.data_dir)
        self.negative = [(text, r) for text, r in self.sentences if r <= NEGATIVE_RATING]
        self.upbeat = [(text, r) for text, r in self.sentences if r > -0.5]
        self.headlines = load_headlines(settings.data_dir)
        self.series = load_sensor_series(settings.data_dir)
        # the served recommender (version 1) was trained on this generator's catalog: same seed, same items
        self.catalog, self.clicks = generate_clicks(
            n_users=300, n_items=SAMPLE_ITEMS, n_events=20_000, seed=SAMPLE_SEED
        )

    def catalog_records(self) -> list[SampleRecord]:
        return [
            SampleRecord(self.settings.topic_catalog, item["item_id"].encode(), json.dumps(item).encode(), True, None)
            for item in self.catalog
        ]

    def records(self, n: int, rate: float = 0.0) -> Iterator[SampleRecord]:
        """``n`` input records in a mixed order; about ``malformed_share`` of them malformed. Event times
        start now and advance at ``rate`` events per second (0: one millisecond apart)."""
        s = self.settings
        now = datetime.now(timezone.utc)
        step = timedelta(seconds=1.0 / rate) if rate > 0 else timedelta(milliseconds=1)
        sensor_ids = list(self.series)
        kinds = (
            [("click", s.topic_clicks)] * 35
            + [("review", s.topic_reviews)] * 25
            + [("social", s.topic_social)] * 15
            + [("sensor", s.topic_sensors)] * 25
        )
        malformed: list[bytes] = []
        cursor: dict[str, int] = {}
        for i in range(n):
            kind, topic = self.rng.choice(kinds)
            surge = self.surge
            surging = surge is not None and surge.active(i, n)
            if surge is not None and surging and self.rng.random() < surge.extra:
                kind, topic = "social", s.topic_social
            elif self.rng.random() < self.malformed_share:
                if not malformed:
                    malformed = malformed_variants(self.rng, kind, now)
                    self.rng.shuffle(malformed)
                yield SampleRecord(topic, None, malformed.pop(), False, None)
                continue
            event_id = f"{kind}-{uuid.UUID(int=self.rng.getrandbits(128)).hex}"
            occurred = (now + i * step).isoformat()
            event: dict[str, Any]
            if kind == "click":
                pos = cursor["click"] = cursor.get("click", -1) + 1
                click = self.clicks[pos % len(self.clicks)]
                event = {**click, "event_id": event_id, "occurred_at": occurred}
                key = click["user_id"]
            elif kind in ("review", "social"):
                event, key = self._text_event(kind, event_id, occurred, surging)
            else:
                sensor = self.rng.choice(sensor_ids)
                values = self.series[sensor]
                pos = cursor[sensor] = cursor.get(sensor, -1) + 1
                event = {
                    "event_id": event_id,
                    "channel": "iot:plant-7",
                    "occurred_at": occurred,
                    "sensor_id": sensor,
                    "metric": "value",
                    "value": values[pos % len(values)],
                }
                key = sensor
            yield SampleRecord(topic, key.encode(), json.dumps(event).encode(), True, event_id)

    def _text_event(self, kind: str, event_id: str, occurred: str, surging: bool) -> tuple[dict[str, Any], str]:
        """A review or social post (and its key): a negative post on the surging channel during the
        surge, now and then a financial headline, else a random rated sentence."""
        if kind == "social" and self.surge is not None and surging:
            channel, (text, _) = self.surge.channel, self.rng.choice(self.negative)
        elif kind == "social" and self.rng.random() < HEADLINE_SHARE:
            channel, text = MARKETS_CHANNEL, self.rng.choice(self.headlines)
        elif kind == "social":
            channel = self.rng.choices(CHANNELS[3:5], SOCIAL_WEIGHTS)[0]
            calm = self.surge is not None and channel == self.surge.channel
            text, rating = self.rng.choice(self.upbeat if calm else self.sentences)
        else:
            channel = self.rng.choice(CHANNELS[:3])
            text, rating = self.rng.choice(self.sentences)
        event: dict[str, Any] = {"event_id": event_id, "channel": channel, "occurred_at": occurred, "text": text}
        if kind == "review":
            item = self.rng.choice(self.catalog)["item_id"]
            event.update(item_id=item, rating=rating_to_stars(rating), language="en")
            return event, item
        network = "twitter" if channel == MARKETS_CHANNEL else channel.split(":")[1]
        author = f"user{self.rng.randrange(500)}"
        event.update(network=network, author=author)
        return event, author  # keyed by author: a surge on one channel spreads over the partitions
