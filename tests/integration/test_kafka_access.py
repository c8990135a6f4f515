"""The worker's start-up access check (streams/kafka_access.py, the one caller of aiokafka's
``create_conn``) against the real broker of the stack: it connects, and it tells a port where no
broker listens from a refusal."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaError

from channelpulse.config import Settings
from channelpulse.infra.stack.process import free_port
from channelpulse.streams.kafka_access import bootstrap_addresses, check_access, connect

pytestmark = pytest.mark.kafka39


def test_aiokafkas_connection_factory_connects_to_the_broker(stack: Settings) -> None:
    [(host, port)] = bootstrap_addresses(stack)
    assert asyncio.run(connect(stack, host, port, timeout_s=10.0)) is True
    check_access(stack, timeout_s=10.0)  # accepted: no KafkaAccessError


def test_nothing_listening_is_an_unreachable_broker_not_a_refusal(stack: Settings) -> None:
    with pytest.raises((OSError, KafkaError, asyncio.TimeoutError)):
        asyncio.run(connect(stack, stack.bind_host, free_port(), timeout_s=3.0))
