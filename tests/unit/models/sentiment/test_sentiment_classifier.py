"""The fine-tuned classifier: forward contract, float16 folder round trip, fine-tuning that
learns, resumes exactly, and respects its bounds (a tiny random BERT, CPU, seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.classifier import (
    FORMAT,
    is_classifier_dir,
    load_classifier,
    new_classifier,
    predict_texts,
    save_classifier,
)
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.finetune import STATE_FILE, class_weights, fine_tune, fit_temperature, plan_batches
from channelpulse.models.sentiment.recipe_config import FineTuneConfig

FAST = FineTuneConfig(epochs=6, batch_size=12, max_length=16, lr=3e-3, head_lr=3e-2, checkpoint_every=0)


def _words(separable: TextDataset) -> TextDataset:
    return separable.subset(np.arange(0, len(separable), 2))


def test_forward_gives_logits_and_unit_embeddings(tiny_checkpoint: str) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    batch = tokenizer(["good", "a much longer and rather bad sentence"], padding=True, return_tensors="pt")
    logits, embedding = model(batch["input_ids"], batch["attention_mask"])
    assert logits.shape == (2, len(SENTIMENT_LABELS)) and embedding.shape == (2, 32)
    torch.testing.assert_close(embedding.norm(dim=1), torch.ones(2))
    model.temperature = 2.0
    halved, _ = model(batch["input_ids"], batch["attention_mask"])
    torch.testing.assert_close(halved, logits / 2)


def test_padding_does_not_change_a_row(tiny_checkpoint: str) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    model.eval()
    alone, _ = predict_texts(model, tokenizer, ["nice"], batch_size=1)
    together, _ = predict_texts(model, tokenizer, ["nice", "a very long sentence " * 5], batch_size=2)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-5)


def test_saved_folder_is_float16_and_loads_to_the_same_predictions(tiny_checkpoint: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    model.temperature = 1.5
    model.eval()
    meta = save_classifier(model, tokenizer, tmp_path / "2", {"version": "2", "data": {"x": 1}})
    assert meta["format"] == FORMAT and meta["labels"] == list(SENTIMENT_LABELS) and meta["temperature"] == 1.5
    assert json.loads((tmp_path / "2" / "meta.json").read_text()) == meta
    assert is_classifier_dir(tmp_path / "2")
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "2" / "encoder" / "model.safetensors"))
    assert {t.dtype for t in weights.values()} == {torch.float16}
    loaded, loaded_tokenizer, _ = load_classifier(tmp_path / "2", "cpu")
    assert loaded.temperature == 1.5 and next(loaded.parameters()).dtype == torch.float32
    texts = ["the meal was superb", "it broke on day one", "the box is blue"]
    before, emb_before = predict_texts(model, tokenizer, texts)
    after, emb_after = predict_texts(loaded, loaded_tokenizer, texts)
    np.testing.assert_allclose(after, before, atol=2e-3)  # float16 rounding of the encoder only
    np.testing.assert_allclose(emb_after, emb_before, atol=2e-3)


def test_load_refuses_a_version_1_folder(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({"labels": list(SENTIMENT_LABELS)}))
    assert not is_classifier_dir(tmp_path)
    with pytest.raises(ValueError, match=r"not a channelpulse\.sentiment-classifier"):
        load_classifier(tmp_path, "cpu")


def test_fine_tuning_learns_the_separable_set(tiny_checkpoint: str, separable: TextDataset) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    report = fine_tune(model, tokenizer, separable, FAST, progress=False)
    assert report.steps == report.planned_steps == 6 * 15
    assert np.mean(report.losses[-10:]) < 0.5 * np.mean(report.losses[:10])
    probs, _ = predict_texts(model, tokenizer, separable.texts)
    assert (probs.argmax(axis=1) == separable.labels).mean() > 0.9


class _StopAfter:
    """A tokenizer that raises on its n-th call (an interrupted run)."""

    def __init__(self, tokenizer: Any, calls: int) -> None:
        self.tokenizer, self.left = tokenizer, calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt
        return self.tokenizer(*args, **kwargs)


def test_an_interrupted_run_resumes_to_the_same_weights(
    tiny_checkpoint: str, separable: TextDataset, tmp_path: Path
) -> None:
    config = FineTuneConfig(epochs=1, batch_size=16, max_length=16, lr=1e-3, head_lr=1e-2, checkpoint_every=4)
    data = _words(separable)
    torch.manual_seed(0)
    straight, tokenizer = new_classifier(tiny_checkpoint)
    fine_tune(straight, tokenizer, data, config, progress=False)

    torch.manual_seed(0)
    first, _ = new_classifier(tiny_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(first, _StopAfter(tokenizer, 5), data, config, work_dir=tmp_path, progress=False)
    assert (tmp_path / STATE_FILE).is_file()
    torch.manual_seed(123)  # another head: the state replaces it
    resumed, _ = new_classifier(tiny_checkpoint)
    report = fine_tune(resumed, tokenizer, data, config, work_dir=tmp_path, resume=True, progress=False)
    assert report.resumed_from == 4 and report.steps == report.planned_steps
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    other = FineTuneConfig(epochs=2, batch_size=16, max_length=16, checkpoint_every=4)
    with pytest.raises(ValueError, match="another plan"):
        fine_tune(resumed, tokenizer, data, other, work_dir=tmp_path, resume=True, progress=False)


def test_max_steps_bounds_a_run(tiny_checkpoint: str, separable: TextDataset) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    config = FineTuneConfig(epochs=3, batch_size=8, max_length=16, checkpoint_every=0, max_steps=5)
    report = fine_tune(model, tokenizer, separable, config, progress=False)
    planned = plan_batches(separable.texts, 8, 3, config.seed, config.sort_chunk)[:5]
    assert report.steps == report.planned_steps == 5 and report.examples == sum(len(b) for b in planned)


def test_batch_plan_covers_each_row_once_per_epoch_and_is_seeded() -> None:
    texts = tuple("x" * (i % 13) for i in range(100))
    plan = plan_batches(texts, 8, 1.0, seed=1, sort_chunk=3)
    assert sorted(np.concatenate(plan).tolist()) == list(range(100))
    again = plan_batches(texts, 8, 1.0, seed=1, sort_chunk=3)
    assert all((a == b).all() for a, b in zip(plan, again, strict=True))
    assert len(plan_batches(texts, 8, 1.5, seed=1, sort_chunk=3)) == 20  # 13 per epoch, 1.5 epochs


def test_class_weights_are_tempered_inverse_frequencies() -> None:
    labels = np.array([0] * 10 + [1] * 40 + [2] * 50)
    weights = class_weights(labels, 0.5).numpy()
    np.testing.assert_allclose(weights, [(100 / 30) ** 0.5, (100 / 120) ** 0.5, (100 / 150) ** 0.5], rtol=1e-6)
    np.testing.assert_allclose(class_weights(labels, 0.0).numpy(), [1, 1, 1])
    assert class_weights(np.array([0, 2]), 1.0).numpy()[1] == 1.0  # an absent class


def test_fitted_temperature_undoes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 4000)
    logits = rng.normal(size=(4000, 3))
    logits[np.arange(4000), labels] += 1.0  # calibrated at T = 1 by construction
    log_probs = torch.log_softmax(torch.from_numpy(logits), dim=1).numpy()
    assert fit_temperature(log_probs, labels) == pytest.approx(1.0, abs=0.08)
    assert fit_temperature(log_probs * 3, labels) == pytest.approx(3.0, rel=0.08)  # 3x overconfident


def test_frozen_layers_keep_their_pretrained_weights_and_the_top_layer_trains(
    tiny_checkpoint: str, separable: TextDataset, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer, BertConfig, BertModel

    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=64)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_checkpoint).save_pretrained(tmp_path)
    model, tokenizer = new_classifier(str(tmp_path))
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    fine_tune(model, tokenizer, separable, FineTuneConfig(epochs=1, batch_size=8, lr=1e-3, frozen_layers=5,
                                                          checkpoint_every=0), progress=False)
    after = model.encoder.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "nothing trained"
    assert all(k.startswith("encoder.layer.2.") or k.startswith("pooler.") for k in changed), sorted(changed)
    assert any(k.startswith("encoder.layer.2.") for k in changed)
