"""Before a worker consumes anything: do the brokers accept its TLS handshake and its credentials?

One connection to a bootstrap address with the worker's own client library (aiokafka, under
Faust) and the security settings. A refusal (a certificate that does not verify, a SASL
authentication that fails) becomes one :class:`KafkaAccessError` whose message says where and as
whom, never the password; otherwise the clients would retry and log the same failure for ever.
A broker that is not reachable at all is not a refusal: the clients wait for it as they always do.

``aiokafka.conn.create_conn`` is aiokafka's own connection factory (what its client's bootstrap
calls), not part of its documented API: :func:`connect` is the one place that calls it (aiokafka is
pinned in pyproject.toml for it, and tests/integration/test_kafka_access.py runs it against the
real broker, 4.x and 3.9); it is used because it raises the real cause of a refusal.
"""

from __future__ import annotations

import asyncio
import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from channelpulse.config import Settings
from channelpulse.kafka_security import KafkaSecurity

REFUSALS = (ssl.SSLError, SaslAuthenticationFailed, AuthenticationFailedError, UnsupportedSaslMechanismError)


class KafkaAccessError(RuntimeError):
    """The brokers refused the client: wrong credentials, a TLS certificate that does not verify."""


def bootstrap_addresses(settings: Settings) -> list[tuple[str, int]]:
    """(host, port) of each bootstrap server."""
    out = []
    for item in settings.bootstrap_servers.split(","):
        host, _, port = item.strip().rpartition(":")
        out.append((host.strip("[]"), int(port)))
    return out


async def connect(settings: Settings, host: str, port: int, timeout_s: float) -> bool:
    """Open one aiokafka connection to ``host:port`` with the security settings (TLS handshake, API
    version negotiation and SASL authentication included) and close it; True when it came up.
    Raises what refused it (one of :data:`REFUSALS`), or OSError / KafkaError / TimeoutError when
    nothing answers there."""
    conn = await create_conn(
        host, port, client_id="channelpulse-access-check", request_timeout_ms=int(timeout_s * 1000),
        **KafkaSecurity.of(settings).aiokafka(),
    )
    try:
        return bool(conn.connected())
    finally:
        conn.close()


async def _refusal(settings: Settings, timeout_s: float) -> BaseException | None:
    for host, port in bootstrap_addresses(settings):
        try:
            await connect(settings, host, port, timeout_s)
        except REFUSALS as exc:
            return exc
        except (OSError, KafkaError, asyncio.TimeoutError):
            continue  # not reachable now; the next address, or the clients' own retries
        return None
    return None


def check_access(settings: Settings, timeout_s: float = 15.0) -> None:
    """Raise :class:`KafkaAccessError` when a broker refuses the TLS handshake or the credentials."""
    refusal = asyncio.run(_refusal(settings, timeout_s))
    if refusal is not None:
        raise KafkaAccessError(
            f"Kafka {settings.bootstrap_servers} refused the connection ({KafkaSecurity.of(settings).describe()}): "
            f"{type(refusal).__name__}: {refusal}"
        )
