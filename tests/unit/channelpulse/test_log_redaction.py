"""No secret of the settings reaches a log line: kafka-python's own DEBUG logging of its
configuration (SASL password included) and tracebacks that carry a secret come out redacted."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pydantic import SecretStr

from channelpulse import log_redaction
from channelpulse.config import Settings
from channelpulse.infra.stack.process import free_port
from channelpulse.kafka_security import kafka_python_options

PASSWORD = f"pw-{secrets.token_hex(12)}"


@pytest.fixture()
def restore_record_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def sasl_plain(**update: object) -> Settings:
    return Settings(
        kafka_port=free_port(), kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u", kafka_sasl_password=SecretStr(PASSWORD), **update,
    )


def start_admin_client(settings: Settings) -> None:
    with contextlib.suppress(KafkaError):  # no broker there: only its start-up logging matters
        KafkaAdminClient(
            bootstrap_servers=settings.bootstrap_servers, bootstrap_timeout_ms=300, **kafka_python_options(settings)
        ).close()


@pytest.mark.usefixtures("restore_record_factory")
def test_kafka_pythons_debug_log_of_its_configuration_has_the_password_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = sasl_plain()
    log_redaction.install(settings)
    with caplog.at_level(logging.DEBUG, logger="kafka"):
        start_admin_client(settings)
    configuration = [r.getMessage() for r in caplog.records if "sasl_plain_password" in r.getMessage()]
    assert configuration, "kafka-python no longer logs its configuration: the test lost its subject"
    assert all(log_redaction.REDACTED in line for line in configuration)
    assert PASSWORD not in caplog.text


@pytest.mark.usefixtures("restore_record_factory")
def test_a_traceback_and_format_arguments_with_a_secret_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    key = secrets.token_hex(16)
    log_redaction.install(sasl_plain(pseudonym_key=SecretStr(key)))
    log = logging.getLogger("channelpulse.test")
    with caplog.at_level(logging.INFO, logger="channelpulse.test"):
        try:
            raise RuntimeError(f"connect failed with {PASSWORD}")
        except RuntimeError:
            log.exception("attempt %d with key %s", 1, key)
        log.info("nothing secret %s", "here")
    assert PASSWORD not in caplog.text and key not in caplog.text
    assert "attempt 1 with key [redacted]" in caplog.text and "connect failed with [redacted]" in caplog.text
    assert "nothing secret here" in caplog.text


def test_the_secrets_are_every_secret_setting_and_each_retired_pseudonym_key() -> None:
    settings = sasl_plain(
        pseudonym_key=SecretStr("current-key-0123456789"),
        pseudonym_retired_keys=SecretStr("k0=old-key-aaaaaaaaaaaa, k00=older-key-bbbbbbbbbb"),
    )
    assert set(log_redaction.secret_values(settings)) == {
        PASSWORD, "current-key-0123456789", "k0=old-key-aaaaaaaaaaaa, k00=older-key-bbbbbbbbbb",
        "old-key-aaaaaaaaaaaa", "older-key-bbbbbbbbbb",
    }
    assert log_redaction.secret_values(Settings()) == []
