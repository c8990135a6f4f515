"""A private namespace per bench run: its own topics and consumer group on whatever broker it uses,
so that a bench never mixes with real traffic or with an earlier run, and leaves nothing behind."""

from __future__ import annotations

import contextlib
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

from channelpulse.config import Settings
from channelpulse.kafka_security import kafka_python_options

TOPIC_FIELDS = tuple(name for name in Settings.model_fields if name.startswith("topic_"))


def run_id() -> str:
    """A short id, unique per run on one machine (seconds since the epoch, base 36)."""
    value, digits = int(time.time()), ""
    while value:
        value, rest = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits


def topic_prefix(run: str) -> str:
    return f"bench-{run}."


def bench_settings(settings: Settings, run: str) -> Settings:
    """``settings`` with every topic renamed ``bench-<run>.<topic>`` and app id ``<app_id>-bench-<run>``."""
    prefix = topic_prefix(run)
    update: dict[str, object] = {name: prefix + getattr(settings, name) for name in TOPIC_FIELDS}
    update["app_id"] = f"{settings.app_id}-bench-{run}"
    update["recommender_refresh_s"] = 0.0  # no promotions from bench traffic (except its learning phase)
    return settings.model_copy(update=update)


def create_topics(settings: Settings, names: list[str]) -> None:
    """Create plain topics with ``settings.partitions`` partitions (existing ones are kept)."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, client_id="channelpulse-bench", **kafka_python_options(settings)
    )
    try:
        for name in names:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [NewTopic(name, num_partitions=settings.partitions, replication_factor=settings.replication_factor)]
                )
    finally:
        admin.close()


def delete_run_topics(settings: Settings, run: str) -> list[str]:
    """Delete the run's topics (its prefix) and the ones Faust made for its app id; returns their names."""
    prefixes = (topic_prefix(run), f"{bench_settings(settings, run).app_id}-")
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, client_id="channelpulse-bench", **kafka_python_options(settings)
    )
    try:
        doomed = sorted(t for t in admin.list_topics() if t.startswith(prefixes))
        if doomed:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                admin.delete_topics(doomed, timeout_ms=30_000)
        return doomed
    finally:
        admin.close()
