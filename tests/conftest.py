"""Shared fixtures. Tests under tests/unit are marked `unit`; tests under tests/integration are
marked `integration` and share one real stack (Kafka, Triton, Prometheus) per test session, started
on free ports in a temporary state folder and stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT, Settings
from infra.stack import stack as local_stack
from infra.stack.process import free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT / "tests").parts
        if parts and parts[0] in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The reference data sets (../shared/data); tests that need them skip with the reason if absent."""
    path = Settings().data_dir
    if not (path / "sentiment").is_dir():
        pytest.skip(f"reference data not found at {path} (CHANNELPULSE_DATA_DIR); see shared/data/README.md")
    return path


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the test stack: free ports, a fresh state folder, the shared jar cache."""
    return Settings(
        state_dir=tmp_path_factory.mktemp("stack"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        triton_http_port=free_port(),
        triton_grpc_port=free_port(),
        triton_metrics_port=free_port(),
        prometheus_port=free_port(),
        worker_metrics_port=free_port(),
        worker_web_port=free_port(),
        prometheus_scrape_interval_s=1.0,
        # no recommender learning unless a test turns it on (it would promote new versions mid-test)
        recommender_refresh_s=0.0,
    )


@pytest.fixture(scope="session")
def stack(stack_settings: Settings) -> Iterator[Settings]:
    """The real local stack, up for the whole test session."""
    local_stack.up(stack_settings)
    try:
        yield stack_settings
    finally:
        local_stack.down(stack_settings)
