from __future__ import annotations

from pathlib import Path

from channelpulse.config import Settings
from channelpulse.infra.stack.triton import REGISTRY_HISTORY, prepare_repository
from channelpulse.models.registry import HISTORY_FILE, ModelRegistry, ModelRepository


def test_missing_models_are_copied_and_existing_ones_kept(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for model in ("a", "b"):
        (source / model / "1").mkdir(parents=True)
        (source / model / "config.pbtxt").write_text(f"name: {model!r}")
    settings = Settings(state_dir=tmp_path / "state", model_repository_source=source)
    live = prepare_repository(settings)
    assert sorted(p.name for p in live.iterdir()) == ["a", "b"]
    (live / "a" / "2").mkdir()  # a retrained version, not in the source
    (source / "c" / "1").mkdir(parents=True)
    prepare_repository(settings)
    assert (live / "a" / "2").is_dir() and (live / "c" / "1").is_dir()


def shipped_model(source: Path, name: str, versions: list[int], policy: str = "") -> Path:
    """A shipped model folder: ``versions`` (each with a model.py naming it) and a config.pbtxt."""
    for v in versions:
        (source / name / str(v)).mkdir(parents=True, exist_ok=True)
        (source / name / str(v) / "model.py").write_text(f"# shipped {name} {v}\n")
    (source / name / "config.pbtxt").write_text(f'name: "{name}"\nbackend: "python"\n{policy}')
    return source / name


def test_an_older_live_repository_gets_the_shipped_versions_and_serves_the_shipped_config(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shipped_model(source, "anomaly", [2, 3], "# serves the latest\n")
    shipped_model(source, "sentiment", [1], "version_policy: { specific: { versions: [ 1 ] } }\n")
    settings = Settings(state_dir=tmp_path / "state", model_repository_source=source)
    live = prepare_repository(settings)
    # the checkout moves on: anomaly ships version 4 (latest policy), sentiment ships 2 and serves it
    shipped_model(source, "anomaly", [4], "# serves the latest, now 4\n")
    shipped_model(source, "sentiment", [2], "version_policy: { specific: { versions: [ 2 ] } }\n")
    prepare_repository(settings)
    registry = ModelRegistry(ModelRepository(live))
    assert registry.served_version("anomaly") == 4 and registry.served_version("sentiment") == 2
    for model in ("anomaly", "sentiment"):
        assert (live / model / "config.pbtxt").read_text() == (source / model / "config.pbtxt").read_text()
    assert (live / "anomaly" / "4" / "model.py").read_text() == "# shipped anomaly 4\n"
    assert not [p.name for p in (live / "anomaly").iterdir() if p.name.startswith(".")]  # no staging left


def test_a_promoted_version_keeps_serving_and_shipped_versions_never_overwrite_live_ones(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shipped_model(source, "sentiment", [1], "version_policy: { specific: { versions: [ 1 ] } }\n")
    settings = Settings(state_dir=tmp_path / "state", model_repository_source=source)
    live = prepare_repository(settings)
    registry = ModelRegistry(ModelRepository(live))
    artifacts = tmp_path / "candidate"
    artifacts.mkdir()
    (artifacts / "weights.bin").write_text("retrained")
    assert registry.add_version("sentiment", artifacts).version == 2
    registry.promote("sentiment", 2, "retrained")  # recorded in served_history.json
    (live / "sentiment" / "1" / "model.py").write_text("# live copy of 1\n")
    # the checkout ships version 2 (another model) and 3, and serves 3
    shipped_model(source, "sentiment", [2, 3], "version_policy: { specific: { versions: [ 3 ] } }\n")
    prepare_repository(settings)
    assert registry.served_version("sentiment") == 2  # the promotion stands
    assert (live / "sentiment" / "2" / "weights.bin").read_text() == "retrained"
    assert not (live / "sentiment" / "2" / "model.py").read_text().startswith("# shipped sentiment 2")
    assert (live / "sentiment" / "1" / "model.py").read_text() == "# live copy of 1\n"
    assert (live / "sentiment" / "3" / "model.py").read_text() == "# shipped sentiment 3\n"  # there for a promote


def test_a_live_model_with_versions_the_checkout_does_not_ship_keeps_its_config(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shipped_model(source, "anomaly", [1], "# serves the latest\n")
    settings = Settings(state_dir=tmp_path / "state", model_repository_source=source)
    live = prepare_repository(settings)
    registry = ModelRegistry(ModelRepository(live))
    artifacts = tmp_path / "candidate"
    artifacts.mkdir()
    (artifacts / "model.py").write_text("# candidate\n")
    assert registry.add_version("anomaly", artifacts).version == 2  # added by hand, never promoted
    before = (live / "anomaly" / "config.pbtxt").read_text()  # pinned to version 1 by add_version
    shipped_model(source, "anomaly", [1], "# serves the latest (a new comment)\n")
    prepare_repository(settings)
    assert registry.served_version("anomaly") == 1  # the shipped "latest" would serve the candidate
    assert (live / "anomaly" / "config.pbtxt").read_text() == before
    assert (live / "anomaly" / "2" / "model.py").read_text() == "# candidate\n"


def test_the_history_file_is_the_registrys() -> None:
    assert REGISTRY_HISTORY == HISTORY_FILE
