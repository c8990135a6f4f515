"""Training on a small separable set: the loss falls, held-out accuracy beats chance, the version
folder round-trips, the drift profile loads, and candidates inherit their base version's encoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.drift.profile import ReferenceProfile
from channelpulse.models.sentiment.data import TextDataset, split
from channelpulse.models.sentiment.encoding import PACKAGED_CHECKPOINT, embed_texts
from channelpulse.models.sentiment.evaluate import evaluate
from channelpulse.models.sentiment.labels import NEGATIVE, POSITIVE
from channelpulse.models.sentiment.model import HEAD_FILE, SentimentModel
from channelpulse.models.sentiment.training import TrainConfig, TrainReport, fit_head, train_candidate
from channelpulse.models.text.encoder import TextEncoder


def test_fitting_reduces_the_loss_and_is_deterministic(encoder: TextEncoder, separable: TextDataset) -> None:
    x = embed_texts(encoder, separable.texts)
    head, losses = fit_head(x, separable.labels, TrainConfig(max_iter=30), torch.device("cpu"))
    again, _ = fit_head(x, separable.labels, TrainConfig(max_iter=30), torch.device("cpu"))
    assert losses[-1] < 0.5 * losses[0]
    assert torch.equal(head.linear.weight, again.linear.weight)


def test_held_out_accuracy_beats_chance(tiny_version: TrainReport, separable: TextDataset) -> None:
    _, test = split(separable)
    assert tiny_version.meta["training"]["holdout"]["rows"] == len(test) > 20
    assert tiny_version.holdout["accuracy"] >= 0.8  # chance is 1/3
    model = SentimentModel.load(tiny_version.version_dir, device="cpu")
    assert evaluate(model, test)["accuracy"] == pytest.approx(tiny_version.holdout["accuracy"])


def test_version_folder_round_trips_to_identical_predictions(tiny_version: TrainReport, tmp_path: Path) -> None:
    texts = ["The restaurant was absolutely wonderful, I loved it!", "The printer was awful, I hated it.", "", "x"]
    model = SentimentModel.load(tiny_version.version_dir, device="cpu")
    probs, embeddings = model.predict(texts)
    model.save(tmp_path / "copy")
    again, again_embeddings = SentimentModel.load(tmp_path / "copy", device="cpu").predict(texts)
    np.testing.assert_array_equal(probs, again)
    np.testing.assert_array_equal(embeddings, again_embeddings)
    assert probs.dtype == np.float32 and probs.shape == (4, 3)
    assert embeddings.shape == (4, model.dim) == (4, 384)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert probs[0].argmax() == POSITIVE and probs[1].argmax() == NEGATIVE


def test_predict_keeps_input_order_and_scores_stay_in_bounds(tiny_version: TrainReport) -> None:
    model = SentimentModel.load(tiny_version.version_dir, device="cpu")
    texts = ["Bad.", "This was the most wonderful evening of my whole life, thank you all.", "Awful."]
    probs, embeddings = model.predict(texts)
    singles = [model.predict([t]) for t in texts]  # batched by length inside: order must survive
    np.testing.assert_allclose(probs, np.concatenate([p for p, _ in singles]), atol=1e-5)
    np.testing.assert_allclose(embeddings, np.concatenate([e for _, e in singles]), atol=1e-5)
    scores = model.scores(texts)
    assert np.all((scores >= -1.0) & (scores <= 1.0))
    assert scores[1] > 0 > scores[0]
    empty_probs, empty_embeddings = model.predict([])
    assert empty_probs.shape == (0, 3) and empty_embeddings.shape == (0, 384)


def test_version_folder_holds_safetensors_meta_and_a_loadable_profile(tiny_version: TrainReport) -> None:
    folder = tiny_version.version_dir
    assert sorted(p.name for p in folder.iterdir()) == [HEAD_FILE, "meta.json", "profile.json"]
    assert folder.joinpath(HEAD_FILE).read_bytes()[8:9] == b"{"  # safetensors: u64 header size + JSON
    meta = json.loads(folder.joinpath("meta.json").read_text())
    assert meta["name"] == "sentiment" and meta["version"] == "1" and meta["labels"] == list(SENTIMENT_LABELS)
    assert meta["encoder"] == {"checkpoint": PACKAGED_CHECKPOINT, "dim": 384, "max_tokens": 128}
    assert meta["training"]["train"]["source"] == "separable [train split]"
    assert set(meta["metrics"]["holdout"]) >= {"accuracy", "macro_f1"}
    profile = ReferenceProfile.load(folder)
    assert profile.labels == SENTIMENT_LABELS and profile.dim == 384
    assert profile.n == meta["training"]["holdout"]["rows"] == int(profile.class_counts.sum())


def test_candidate_inherits_the_base_encoder_and_config_and_accepts_embeddings(
    tiny_version: TrainReport, encoder: TextEncoder, separable: TextDataset, tmp_path: Path
) -> None:
    embeddings = embed_texts(encoder, separable.texts)
    report = train_candidate(
        separable, tmp_path / "2", base_version=tiny_version.version_dir, embeddings=embeddings, device="cpu"
    )
    assert report.meta["encoder"]["checkpoint"] == PACKAGED_CHECKPOINT
    assert report.meta["training"]["config"]["max_iter"] == 50  # the base version's config
    assert report.meta["base_version"] == str(tiny_version.version_dir)
    assert report.holdout["accuracy"] == pytest.approx(tiny_version.holdout["accuracy"])
    with pytest.raises(ValueError, match="train_embeddings must be"):
        train_candidate(separable, tmp_path / "3", embeddings=embeddings[:5], device="cpu")
