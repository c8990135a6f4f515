"""Every topic ChannelPulse creates gets CHANNELPULSE_REPLICATION_FACTOR and _MIN_INSYNC_REPLICAS."""

from __future__ import annotations

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import topic_specs
from tests.unit.streams.fakes import FakeScorer


def test_stack_topics_carry_min_insync_replicas() -> None:
    settings = Settings(min_insync_replicas=2)
    specs = topic_specs(settings)
    assert set(specs) >= {*settings.input_topics, settings.topic_deadletter, settings.topic_observations}
    assert all(configs["min.insync.replicas"] == "2" for configs in specs.values())
    assert specs[settings.topic_catalog]["cleanup.policy"] == "compact"


def test_worker_topics_and_changelogs_carry_the_replication_settings(tmp_path: object) -> None:
    from channelpulse.streams.app import make_app

    settings = Settings(state_dir=tmp_path, replication_factor=3, min_insync_replicas=2)
    app, runtime = make_app(settings, FakeScorer)
    assert app.conf.topic_replication_factor == 3
    for table in (runtime.users, runtime.sensors, runtime.analytics):
        assert table.extra_topic_configs == {"min.insync.replicas": "2"}
        assert table.changelog_topic.config["min.insync.replicas"] == "2"
    topics = {name: agent.channel for agent in app.agents.values() for name in agent.channel.topics}
    assert set(topics) >= {*settings.input_topics, settings.topic_observations}
    assert all(t.config == {"min.insync.replicas": "2"} for t in topics.values())
