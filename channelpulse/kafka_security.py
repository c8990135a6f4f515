"""How every Kafka client of ChannelPulse authenticates and encrypts: the one place that turns the
CHANNELPULSE_KAFKA_SECURITY_PROTOCOL / _SASL_* / _SSL_* settings into each client library's options
(kafka-python, aiokafka, Faust's broker credentials). The password stays a SecretStr until a
client is built; nothing here logs it, and the objects' reprs leave it out."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from pydantic import SecretStr

from channelpulse.config import Settings


@dataclass(frozen=True)
class KafkaSecurity:
    """The security settings of the Kafka clients, validated by :class:`Settings`."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> KafkaSecurity:
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
        )

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def describe(self) -> str:
        """The protocol, mechanism and user in words (for messages; never the password)."""
        if self.uses_sasl:
            return f"{self.protocol}, {self.mechanism} as user {self.username!r}"
        return self.protocol

    def _secret(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (CA file, optional client certificate) for SSL and SASL_SSL, else None.
        Host names are checked against the brokers' certificates."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        if self.certfile is not None:
            context.load_cert_chain(str(self.certfile), str(self.keyfile) if self.keyfile else None)
        return context

    def kafka_python(self) -> dict[str, Any]:
        """Options of kafka-python's KafkaAdminClient, KafkaConsumer and KafkaProducer."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_check_hostname"] = True
            for name, path in (("ssl_cafile", self.cafile), ("ssl_certfile", self.certfile),
                               ("ssl_keyfile", self.keyfile)):
                if path is not None:
                    options[name] = str(path)
        if self.uses_sasl:
            options.update(
                sasl_mechanism=self.mechanism, sasl_plain_username=self.username, sasl_plain_password=self._secret()
            )
        return options

    def aiokafka(self) -> dict[str, Any]:
        """Options of aiokafka's AIOKafkaConsumer and AIOKafkaProducer."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options.update(
                sasl_mechanism=self.mechanism, sasl_plain_username=self.username, sasl_plain_password=self._secret()
            )
        return options

    def faust_credentials(self) -> faust.SASLCredentials | faust.SSLCredentials | None:
        """``broker_credentials`` of the Faust app (None: PLAINTEXT)."""
        if self.uses_sasl:
            # SASLCredentials picks SASL_SSL when it has a context, SASL_PLAINTEXT otherwise
            return faust.SASLCredentials(
                username=self.username, password=self._secret(), ssl_context=self.ssl_context(),
                mechanism=self.mechanism,
            )
        context = self.ssl_context()
        return faust.SSLCredentials(context) if context is not None else None


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """``KafkaSecurity.of(settings).kafka_python()``: what the kafka-python clients are built with."""
    return KafkaSecurity.of(settings).kafka_python()


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """``KafkaSecurity.of(settings).aiokafka()``: what the aiokafka clients are built with."""
    return KafkaSecurity.of(settings).aiokafka()
