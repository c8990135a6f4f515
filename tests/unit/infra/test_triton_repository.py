from __future__ import annotations

from pathlib import Path

from channelpulse.config import Settings
from channelpulse.infra.stack.triton import prepare_repository


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
