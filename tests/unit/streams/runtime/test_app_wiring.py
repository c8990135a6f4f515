"""``make_app`` wires the parts into Faust: one scoring agent per input topic and the catalog, the
analytics and forget agents on their parts' methods, and Faust's acks (and commits) off on every topic
delivery guards (its ledger commits them), on for the catalog and the forget requests."""

from __future__ import annotations

from pathlib import Path

from channelpulse.config import Settings
from tests.unit.streams.fakes import FakeScorer


def test_make_app_wires_every_agent_to_its_part_and_leaves_the_guarded_topics_acks_to_delivery(
    tmp_path: Path,
) -> None:
    from channelpulse.streams.app import make_app

    settings = Settings(state_dir=tmp_path)
    app, parts = make_app(settings, FakeScorer)
    agents = dict(app.agents.items())
    acks = {topic: agent.channel.acks for agent in agents.values() for topic in agent.channel.topics}
    scoring = {f"score-{topic}" for topic in (*settings.input_topics, settings.topic_catalog)}

    assert set(agents) == {*scoring, "channel-analytics", "privacy-forget"}
    assert agents["channel-analytics"].fun == parts.analytics_agent.agent
    assert agents["privacy-forget"].fun == parts.forget.agent
    assert {agents[name].fun.__name__ for name in scoring} == {
        "score_click",
        "score_review",
        "score_social",
        "score_sensor",
        "score_catalog",
    }
    assert parts.delivery.guarded_topics == {*settings.input_topics, settings.topic_observations}
    assert {topic for topic, on in acks.items() if not on} == parts.delivery.guarded_topics
    assert {topic for topic, on in acks.items() if on} == {settings.topic_catalog, settings.topic_privacy_forget}
    assert parts.lag.ledger is parts.delivery.ledger and parts.lag.next_offset is parts.scoring.next_offset
