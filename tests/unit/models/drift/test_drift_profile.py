from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from channelpulse.models.drift import PROFILE_FILE, ReferenceProfile, prediction_scores


def _data(n: int = 400, dim: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    logits = x[:, :3]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return p, x


def test_build_summarises_classes_scores_and_projections() -> None:
    p, x = _data()
    prof = ReferenceProfile.build(p, x, ["neg", "neu", "pos"], score_bins=10, num_projections=4)
    assert prof.n == 400 and prof.labels == ("neg", "neu", "pos")
    assert prof.class_counts.tolist() == np.bincount(p.argmax(1), minlength=3).tolist()
    assert prof.score_counts.sum() == 400 and len(prof.score_edges) == 11
    assert prof.projection_quantiles.shape == (4, 201)
    assert (np.diff(prof.projection_quantiles, axis=1) >= 0).all()
    projected = prof.project(x)
    np.testing.assert_allclose(prof.projection_quantiles[:, 100], np.median(projected, axis=0))
    np.testing.assert_allclose(prediction_scores(p), p[:, 2] - p[:, 0])


def test_low_dimensional_inputs_use_their_coordinates() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(5.0, 2.0, size=(300, 2))
    p = np.full((300, 2), 0.5)
    prof = ReferenceProfile.build(p, values, num_projections=8)
    assert prof.num_projections == 2
    np.testing.assert_allclose(prof.projections(), np.eye(2))
    np.testing.assert_allclose(prof.project(values).mean(axis=0), 0.0, atol=1e-9)


def test_save_load_round_trip(tmp_path: Path) -> None:
    p, x = _data()
    prof = ReferenceProfile.build(p, x, ["a", "b", "c"], seed=11)
    written = prof.save(tmp_path)
    assert written == tmp_path / PROFILE_FILE
    assert json.loads(written.read_text())["projections"]["seed"] == 11
    loaded = ReferenceProfile.load(tmp_path)
    np.testing.assert_allclose(loaded.project(x), prof.project(x))
    assert loaded.class_counts.tolist() == prof.class_counts.tolist()
    assert ReferenceProfile.load(written).n == prof.n


def test_rejects_bad_input_and_foreign_files(tmp_path: Path) -> None:
    p, x = _data()
    with pytest.raises(ValueError):
        ReferenceProfile.build(p, x[:10])
    with pytest.raises(ValueError):
        ReferenceProfile.build(p, x, ["only", "two"])
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a drift profile"):
        ReferenceProfile.load(tmp_path / "other.json")
