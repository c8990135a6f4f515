from __future__ import annotations

from pathlib import Path

import numpy as np

from channelpulse.bench.limits import latest_version_dir
from channelpulse.bench.limits.model import load_runner, measure_model
from channelpulse.config import REPO_ROOT


def test_latest_version_is_the_highest_numbered_non_empty_folder(tmp_path: Path) -> None:
    for version, files in (("1", True), ("2", True), ("10", True), ("11", False), ("notes", True)):
        folder = tmp_path / "sentiment" / version
        folder.mkdir(parents=True)
        if files:
            (folder / "meta.json").write_text("{}")
    assert latest_version_dir(tmp_path, "sentiment") == tmp_path / "sentiment" / "10"
    assert latest_version_dir(tmp_path, "missing") is None


def test_model_alone_counts_events_per_second() -> None:
    calls: list[int] = []

    def runner(texts: list[str]) -> None:
        calls.append(len(texts))

    result = measure_model(runner, [(["a"] * 4,), (["b"] * 4,)], duration_s=0.05)
    assert calls[0] == 4 and result["batches"] == len(calls) - 1  # the first call is an untimed warm-up
    assert result["batch_size"] == 4.0 and result["events_per_s"] > 0


def test_the_anomaly_detector_runs_alone_on_pipeline_requests() -> None:
    repo = REPO_ROOT / "models" / "repository"
    version = latest_version_dir(repo, "anomaly")
    assert version is not None
    values = np.cumsum(np.random.default_rng(0).normal(size=(8, 3)), axis=1)
    times = np.tile([0.0, 60.0, 120.0], (8, 1))
    scores, flags = load_runner("sensors", version)(np.zeros((8, 1)), values, times)
    assert scores.shape == (8, 3) and flags.dtype == bool


def test_latest_version_is_one_the_config_serves(tmp_path: Path) -> None:
    for version in ("1", "2"):
        (tmp_path / "sentiment" / version).mkdir(parents=True)
        (tmp_path / "sentiment" / version / "model.py").write_text("")
    config = tmp_path / "sentiment" / "config.pbtxt"
    config.write_text('name: "sentiment"\nversion_policy: { specific: { versions: [ 1 ] } }\n')
    assert latest_version_dir(tmp_path, "sentiment") == tmp_path / "sentiment" / "1"
    config.write_text('name: "sentiment"\n')  # no policy: Triton serves the latest
    assert latest_version_dir(tmp_path, "sentiment") == tmp_path / "sentiment" / "2"
