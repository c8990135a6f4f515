from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from channelpulse.bench.workload import MalformedSource, build_sources, pipeline_specs
from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind
from channelpulse.schemas.validation import Invalid, parse_event

KINDS = {"events.reviews": EventKind.REVIEW, "events.social": EventKind.SOCIAL, "events.clicks": EventKind.CLICK,
         "events.sensors": EventKind.SENSOR}


def test_valid_sources_make_valid_events_stamped_when_made(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    sources = build_sources(settings, ["sentiment", "recommendation", "sensors"], samples=600)
    specs = pipeline_specs(settings)
    for name, source in sources.items():
        ids = set()
        for n in range(40):
            before = datetime.now(timezone.utc)
            out = source.make(f"e-{name}-{n}")
            assert out.topic in specs[name].input_topics
            parsed = parse_event(KINDS[out.topic], out.value, settings.max_event_bytes)
            assert not isinstance(parsed, Invalid), parsed
            assert parsed.event_id == out.event_id == f"e-{name}-{n}"
            occurred = parsed.occurred_at
            assert occurred is not None and before <= occurred <= datetime.now(timezone.utc)
            ids.add(parsed.event_id)
        assert len(ids) == 40


def test_sensor_readings_come_from_several_sensors(data_dir: Path) -> None:
    source = build_sources(Settings(data_dir=data_dir), ["sensors"])["sensors"]
    keys = {source.make(str(n)).key for n in range(16)}
    assert len(keys) == 8


def test_malformed_records_are_all_dead_lettered_small_and_unique() -> None:
    source = MalformedSource("events.clicks", max_bytes=64 * 1024, seed=3)
    values = [source.make(str(n)).value for n in range(70)]
    assert len(set(values)) == 70
    assert all(len(v) <= 64 * 1024 for v in values)
    for value in values:
        assert isinstance(parse_event(EventKind.CLICK, value, 64 * 1024), Invalid)
    assert all(source.make("x").event_id is None for _ in range(3))


def test_every_pipeline_has_one_output_topic() -> None:
    specs = pipeline_specs(Settings())
    assert set(specs) == {"sentiment", "recommendation", "sensors", "deadletter"}
    assert specs["deadletter"].model is None
    assert specs["sentiment"].input_topics == ("events.reviews", "events.social")
    assert json.dumps([s.output_topic for s in specs.values()])
