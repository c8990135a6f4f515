from __future__ import annotations

import pytest
from pydantic import ValidationError

from channelpulse.config import Settings
from channelpulse.config_docs import DOC, render


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 15, name


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELPULSE_KAFKA_PORT", "29092")
    monkeypatch.setenv("CHANNELPULSE_TOPIC_REVIEWS", "my.reviews")
    s = Settings()
    assert s.kafka_port == 29092
    assert s.bootstrap_servers == "127.0.0.1:29092"
    assert s.topic_reviews in s.input_topics


def test_settings_are_frozen_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.kafka_port = 1  # type: ignore[misc]
    monkeypatch.setenv("CHANNELPULSE_PARTITIONS", "many")
    with pytest.raises(ValidationError):
        Settings()


def test_to_env_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(kafka_port=1234, batch_max_size=7)
    for key, value in s.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings() == s


def test_configuration_doc_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m channelpulse.config_docs"
