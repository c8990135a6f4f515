"""The Kafka security settings as each client library gets them (kafka-python, aiokafka, Faust)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from pydantic import SecretStr, ValidationError

from channelpulse.config import Settings
from channelpulse.kafka_security import KafkaSecurity, aiokafka_options, kafka_python_options
from tests.tls import Certificates, make_certificates

PASSWORD = "pw-not-to-be-seen-7f3a"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def sasl_ssl(certs: Certificates, mechanism: str = "SCRAM-SHA-512") -> Settings:
    return Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,  # type: ignore[arg-type]
        kafka_sasl_username="alice", kafka_sasl_password=SecretStr(PASSWORD), kafka_ssl_cafile=certs.ca_pem,
    )


def ca_subjects(context: ssl.SSLContext) -> list[object]:
    return [cert["subject"] for cert in context.get_ca_certs()]


def test_plaintext_adds_nothing_but_the_protocol() -> None:
    security = KafkaSecurity.of(Settings())
    assert security.kafka_python() == {"security_protocol": "PLAINTEXT"}
    assert security.aiokafka() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials() is None
    assert security.ssl_context() is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_for_kafka_python(certs: Certificates, mechanism: str) -> None:
    options = kafka_python_options(sasl_ssl(certs, mechanism))
    assert options == {
        "security_protocol": "SASL_SSL", "ssl_check_hostname": True, "ssl_cafile": str(certs.ca_pem),
        "sasl_mechanism": mechanism, "sasl_plain_username": "alice", "sasl_plain_password": PASSWORD,
    }
    # every option is one kafka-python's clients know
    for client in (KafkaAdminClient, KafkaConsumer, KafkaProducer):
        assert set(options) <= set(client.DEFAULT_CONFIG), client


def test_sasl_ssl_for_aiokafka_verifies_the_broker_against_the_ca(certs: Certificates) -> None:
    options = aiokafka_options(sasl_ssl(certs))
    context = options.pop("ssl_context")
    assert options == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert ((("commonName", "channelpulse-test-ca"),),) in ca_subjects(context)


async def test_aiokafka_clients_accept_the_options(certs: Certificates) -> None:
    settings = sasl_ssl(certs)
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **aiokafka_options(settings))
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **aiokafka_options(settings))
    assert producer.client._security_protocol == "SASL_SSL"
    await consumer.stop()
    await producer.stop()


@pytest.mark.parametrize(
    ("protocol", "uses_tls"), [("SASL_SSL", True), ("SASL_PLAINTEXT", False)]
)
def test_faust_gets_sasl_credentials_that_it_maps_like_aiokafka(
    certs: Certificates, protocol: str, uses_tls: bool
) -> None:
    settings = sasl_ssl(certs).model_copy(update={"kafka_security_protocol": protocol})
    credentials = KafkaSecurity.of(settings).faust_credentials()
    auth = dict(credentials_to_aiokafka_auth(credentials))
    context = auth.pop("ssl_context")
    assert auth == {
        "security_protocol": protocol, "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }
    assert (context is not None) == uses_tls
    assert PASSWORD not in repr(credentials)


def test_ssl_with_a_client_certificate(certs: Certificates) -> None:
    settings = Settings(
        kafka_security_protocol="SSL", kafka_ssl_cafile=certs.ca_pem, kafka_ssl_certfile=certs.server_pem,
        kafka_ssl_keyfile=certs.server_key,
    )
    assert kafka_python_options(settings) == {
        "security_protocol": "SSL", "ssl_check_hostname": True, "ssl_cafile": str(certs.ca_pem),
        "ssl_certfile": str(certs.server_pem), "ssl_keyfile": str(certs.server_key),
    }
    auth = dict(credentials_to_aiokafka_auth(KafkaSecurity.of(settings).faust_credentials()))
    assert auth["security_protocol"] == "SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)


def test_a_key_that_does_not_match_the_certificate_fails_when_the_context_is_built(
    certs: Certificates, tmp_path: Path
) -> None:
    other = make_certificates(tmp_path)
    settings = Settings(
        kafka_security_protocol="SSL", kafka_ssl_certfile=certs.server_pem, kafka_ssl_keyfile=other.server_key
    )
    with pytest.raises(ssl.SSLError):
        KafkaSecurity.of(settings).ssl_context()


def test_sasl_needs_a_user_and_a_password_and_the_error_shows_no_secret() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_password=SecretStr(PASSWORD))
    assert "CHANNELPULSE_KAFKA_SASL_USERNAME" in str(info.value)
    assert PASSWORD not in str(info.value)
    with pytest.raises(ValidationError):
        Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="alice")


def test_a_certificate_needs_its_key(certs: Certificates) -> None:
    with pytest.raises(ValidationError, match="KAFKA_SSL_CERTFILE"):
        Settings(kafka_ssl_certfile=certs.server_pem)
    with pytest.raises(ValidationError, match="TRITON_SSL_CERTFILE"):
        Settings(triton_ssl_keyfile=certs.server_key)


def test_unknown_protocols_and_mechanisms_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELPULSE_KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("CHANNELPULSE_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    monkeypatch.setenv("CHANNELPULSE_KAFKA_SASL_MECHANISM", "GSSAPI")
    with pytest.raises(ValidationError):
        Settings()


def test_the_password_is_in_no_repr_but_reaches_a_child_process(certs: Certificates) -> None:
    settings = sasl_ssl(certs)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert PASSWORD not in repr(KafkaSecurity.of(settings))
    assert settings.to_env()["CHANNELPULSE_KAFKA_SASL_PASSWORD"] == PASSWORD


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, certs: Certificates) -> None:
    for name, value in {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "KAFKA_SASL_USERNAME": "bob", "KAFKA_SASL_PASSWORD": PASSWORD, "KAFKA_SSL_CAFILE": str(certs.ca_pem),
    }.items():
        monkeypatch.setenv(f"CHANNELPULSE_{name}", value)
    security = KafkaSecurity.of(Settings())
    assert security.describe() == "SASL_SSL, SCRAM-SHA-256 as user 'bob'"
    assert security.kafka_python()["sasl_plain_password"] == PASSWORD
