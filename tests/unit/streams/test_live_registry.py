from __future__ import annotations

from pathlib import Path

import pytest

from channelpulse.config import Settings
from channelpulse.models.registry import TritonHttpControl
from channelpulse.streams.live_registry import registry_for

pytestmark = pytest.mark.unit


def test_the_live_registry_waits_the_configured_load_timeout(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, triton_model_load_timeout_s=450.0)
    registry = registry_for(settings)
    assert isinstance(registry.control, TritonHttpControl)
    assert registry.control.timeout_s == registry.ready_timeout_s == 450.0
    assert registry.repository.root == settings.model_repository
