"""Shared fixtures. Tests under tests/unit are marked `unit`; tests under tests/integration are
marked `integration` and share one real stack (Kafka, Triton, Prometheus) per test session, started
on free ports in a temporary state folder and stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.stack import stack as local_stack
from tests.stacks import on_free_ports

TEST_STACK_SENTIMENT_RUNTIME = "onnx-int8"
"""The runtime the test stack's Triton serves sentiment with: what `auto` picks on the AVX2 CI machine,
pinned so that Triton skips auto's load-time probe (~3 min of a ~5 min start on a busy 2-core machine).
`auto` itself is covered in-process (tests/unit/models/sentiment/test_sentiment_runtime.py)."""

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT / "tests").parts
        if parts and parts[0] in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, parts[0]))
        if item.get_closest_marker("kafka39") and parts[:1] != ("integration",):
            # `make kafka39` collects tests/integration only: a kafka39 test elsewhere would never run there
            raise pytest.UsageError(f"{item.nodeid}: the kafka39 marker is for tests under tests/integration")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The reference data sets (../shared/data); tests that need them skip with the reason if absent."""
    path = Settings().data_dir
    if not (path / "sentiment").is_dir():
        pytest.skip(f"reference data not found at {path} (CHANNELPULSE_DATA_DIR); see shared/data/README.md")
    return path


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the test stack: free ports, a fresh state folder, the shared jar cache, the sentiment
    runtime pinned (:data:`TEST_STACK_SENTIMENT_RUNTIME`, torch-fp32 where onnxruntime is missing)."""
    from channelpulse.models.sentiment.runtime_onnx import onnxruntime_available  # torch: only when used

    runtime = TEST_STACK_SENTIMENT_RUNTIME if onnxruntime_available() else "torch-fp32"
    return on_free_ports(tmp_path_factory.mktemp("stack"), prometheus_scrape_interval_s=1.0, sentiment_runtime=runtime)


@pytest.fixture(scope="session")
def stack(stack_settings: Settings) -> Iterator[Settings]:
    """The real local stack, up for the whole test session."""
    local_stack.up(stack_settings)
    try:
        yield stack_settings
    finally:
        local_stack.down(stack_settings)
