"""The local broker's two release lines: 4.x logs with Log4j 2, 3.x with reload4j."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka
from channelpulse.infra.stack.process import StackError


@pytest.mark.parametrize(
    ("version", "option", "config"),
    [("4.4.0", "-Dlog4j2.configurationFile=", "log4j2.properties"), ("3.9.1", "-Dlog4j.configuration=file:",
                                                                       "log4j.properties")],
)
def test_each_release_line_gets_its_logging_configuration(
    tmp_path: Path, version: str, option: str, config: str
) -> None:
    settings = Settings(kafka_version=version)
    assert kafka.logging_option(settings, tmp_path) == f"{option}{tmp_path / config}"
    assert "kafka.server.BrokerServer" in (tmp_path / config).read_text()  # its start-up lines


def test_the_default_broker_is_kafka_4_and_other_lines_are_refused() -> None:
    assert kafka.major_version(Settings()) == 4
    with pytest.raises(StackError, match=r"3\.x or 4\.x"):
        kafka.major_version(Settings(kafka_version="2.8.2"))
