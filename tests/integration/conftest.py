"""The drills' breakable stack (see tests/integration/drills.py): a broker and a Triton serving only the
test-only sentiment stand-in, apart from the session's `stack` so that killing them disturbs no other
test. Started once per session, on first use; the drills that kill a service start it again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channelpulse.config import Settings
from channelpulse.infra.stack import kafka, triton
from channelpulse.infra.stack.process import ServiceProcess
from tests.integration.drills import write_stand_in_model
from tests.stacks import on_free_ports


@pytest.fixture(scope="session")
def drill_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of the drills' own broker and stand-in Triton (no Prometheus: drills read /metrics)."""
    root = tmp_path_factory.mktemp("drill-stack")
    settings = on_free_ports(root / "state", model_repository_source=write_stand_in_model(root / "repository"))
    kafka.start(settings)
    try:
        triton.start(settings)
        yield settings
    finally:
        for service in ("triton", "kafka"):  # the pid files name the running ones, restarted or not
            ServiceProcess(service, settings.state_dir / "run").stop()
