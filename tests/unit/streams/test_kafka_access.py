"""The worker's start-up access check: bootstrap addresses, and an unreachable broker is no refusal."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from channelpulse.config import Settings
from channelpulse.infra.stack.process import free_port
from channelpulse.streams.kafka_access import KafkaAccessError, bootstrap_addresses, check_access
from tests.tls import Certificates, make_certificates


def test_bootstrap_addresses_are_split_into_hosts_and_ports() -> None:
    settings = Settings(kafka_bootstrap="a.example:9093, b.example:19093,[::1]:9092")
    assert bootstrap_addresses(settings) == [("a.example", 9093), ("b.example", 19093), ("::1", 9092)]


def test_an_unreachable_broker_is_not_a_refusal() -> None:
    check_access(Settings(kafka_port=free_port()), timeout_s=2.0)


@pytest.fixture()
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Certificates]]:
    """A TLS server (certificate from a CA the client does not know) that accepts one handshake."""
    certs = make_certificates(tmp_path_factory.mktemp("certs"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_pem, certs.server_key)
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(20)

    def serve() -> None:
        try:
            conn, _ = sock.accept()
            with context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], certs
    sock.close()
    thread.join(timeout=5)


def test_an_untrusted_broker_certificate_is_one_clear_refusal(tls_server: tuple[int, Certificates]) -> None:
    port, _ = tls_server
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{port}", kafka_security_protocol="SSL")
    with pytest.raises(KafkaAccessError) as info:
        check_access(settings, timeout_s=10.0)
    message = str(info.value)
    assert f"Kafka 127.0.0.1:{port} refused the connection (SSL)" in message
    assert "certificate verify failed" in message and "\n" not in message
