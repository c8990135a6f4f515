from __future__ import annotations

import json
from pathlib import Path

import pytest

from channelpulse.models.registry import (
    HISTORY_FILE,
    ModelRegistry,
    ModelRepository,
    RegistryError,
    TritonControlError,
)

CONFIG = 'name: "toy"\nbackend: "python"\nmax_batch_size: 8\n'


class FakeControl:
    """Plays Triton: on load it serves what config.pbtxt says, unless told to fail."""

    def __init__(self, repository: ModelRepository) -> None:
        self.repository = repository
        self.loaded: dict[str, list[int]] = {}
        self.fail_versions: set[int] = set()
        self.calls: list[str] = []

    def load(self, model: str) -> None:
        self.calls.append(model)
        wanted = self.repository.served_versions(model)
        if set(wanted) & self.fail_versions:
            raise TritonControlError(f"failed to load {wanted}")
        self.loaded[model] = wanted

    def version_ready(self, model: str, version: int) -> bool:
        return version in self.loaded.get(model, [])

    def wait_ready(self, model: str, version: int, timeout_s: float) -> bool:
        return self.version_ready(model, version)


@pytest.fixture
def repo(tmp_path: Path) -> ModelRepository:
    model_dir = tmp_path / "toy"
    (model_dir / "1").mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text(CONFIG)
    (model_dir / "1" / "model.py").write_text("# adapter v1\n")
    (model_dir / "1" / "meta.json").write_text(json.dumps({"version": 1, "accuracy": 0.7}))
    (tmp_path / "not-a-model").mkdir()
    return ModelRepository(tmp_path)


def _artifacts(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "artifacts" / name
    folder.mkdir(parents=True)
    (folder / "weights.safetensors").write_bytes(b"w-" + name.encode())
    return folder


def test_list_versions_with_meta_and_served_flag(repo: ModelRepository) -> None:
    assert repo.models() == ["toy"]
    (info,) = repo.versions("toy")
    assert (info.version, info.served, info.meta["accuracy"]) == (1, True, 0.7)
    with pytest.raises(RegistryError, match="no model"):
        repo.versions("absent")


def test_add_version_copies_artifacts_and_the_adapter(repo: ModelRepository, tmp_path: Path) -> None:
    info = repo.add_version("toy", _artifacts(tmp_path, "a"), {"trained_on": 100})
    assert info.version == 2 and not info.served
    assert (info.path / "model.py").read_text() == "# adapter v1\n"
    assert (info.path / "weights.safetensors").read_bytes() == b"w-a"
    assert info.meta == {"trained_on": 100, "model": "toy", "version": 2}
    # the default policy (latest 1) was pinned first, so a Triton restart would not serve it either
    assert repo.served_versions("toy") == [1]
    assert "specific: { versions: [1] }" in repo.config_text("toy")
    assert not [p for p in (repo.root / "toy").iterdir() if p.name.startswith(".v")]


def test_add_version_without_an_adapter_anywhere_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "config.pbtxt").write_text(CONFIG)
    repo = ModelRepository(tmp_path)
    with pytest.raises(RegistryError, match=r"model\.py"):
        repo.add_version("bare", _artifacts(tmp_path, "a"))
    assert list((tmp_path / "bare").iterdir()) == [tmp_path / "bare" / "config.pbtxt"]


def test_promote_rewrites_config_loads_and_records_history(repo: ModelRepository, tmp_path: Path) -> None:
    control = FakeControl(repo)
    registry = ModelRegistry(repo, control)
    repo.set_served("toy", 1)
    registry.add_version("toy", _artifacts(tmp_path, "a"))
    result = registry.promote("toy", 2, note="drift")
    assert (result.version, result.previous, result.verified) == (2, 1, True)
    assert repo.served_versions("toy") == [2] and control.loaded["toy"] == [2]
    assert "specific: { versions: [2] }" in repo.config_text("toy")
    history = registry.history("toy")
    assert history.stack == [1, 2]
    assert history.events[-1]["action"] == "promote" and history.events[-1]["note"] == "drift"
    assert (repo.root / "toy" / HISTORY_FILE).is_file()


def test_rollback_walks_back_the_served_stack(repo: ModelRepository, tmp_path: Path) -> None:
    control = FakeControl(repo)
    registry = ModelRegistry(repo, control)
    for name in ("a", "b"):
        registry.add_version("toy", _artifacts(tmp_path, name))
    repo.set_served("toy", 1)
    registry.promote("toy", 2)
    registry.promote("toy", 3)
    assert registry.rollback("toy").version == 2
    assert control.loaded["toy"] == [2]
    back = registry.rollback("toy")
    assert (back.version, back.previous) == (1, 2)
    assert registry.served_version("toy") == 1
    with pytest.raises(RegistryError, match="no earlier"):
        registry.rollback("toy")
    assert [e["action"] for e in registry.history("toy").events] == ["promote", "promote", "rollback", "rollback"]


def test_failed_load_restores_the_previous_config(repo: ModelRepository, tmp_path: Path) -> None:
    control = FakeControl(repo)
    registry = ModelRegistry(repo, control)
    repo.set_served("toy", 1)
    registry.add_version("toy", _artifacts(tmp_path, "broken"))
    control.fail_versions = {2}
    before = repo.config_text("toy")
    with pytest.raises(RegistryError, match="previous config restored"):
        registry.promote("toy", 2)
    assert repo.config_text("toy") == before
    assert control.calls == ["toy", "toy"]  # the failed load, then the restoring one
    assert control.loaded["toy"] == [1]
    assert registry.history("toy").stack == []


def test_unknown_version_and_file_only_mode(repo: ModelRepository, tmp_path: Path) -> None:
    registry = ModelRegistry(repo)  # no server: only the files change
    with pytest.raises(RegistryError, match="no version 7"):
        registry.promote("toy", 7)
    registry.add_version("toy", _artifacts(tmp_path, "a"))
    result = registry.promote("toy", 1)
    assert result.verified is False and repo.served_versions("toy") == [1]
    assert registry.list()["toy"][0].served and not registry.list("toy")["toy"][1].served
